"use client";
import { useCallback, useEffect, useRef, useState } from "react";
import type { Lang } from "@/lib/languages";
import type { LabCredentials } from "./api";
import type { LessonView } from "./lesson-view";
import { useChecks, type CheckMessages } from "./steps/checks";
import { useStepStatus } from "./steps/status";

export type { StepState, StepStatus } from "./steps/status";

const AUTO_CHECK_DEBOUNCE_MS = 500;

/**
 * A lesson's steps on the page: their states (passes kept in this browser), checks on request and
 * automatically after each command the learner runs (only the current step, only to report a pass),
 * solutions, and steps marked done by hand.
 */
export function useSteps(
  lesson: LessonView,
  lab: LabCredentials | null,
  messages: CheckMessages,
  onLabGone: () => void,
  /** the page's language (checks answer in it); a class: progress kept apart (`scope`), and steps marked done reported to the server */
  opts: { lang?: Lang; scope?: string; onMarkDone?(stepId: string): void } = {},
) {
  const st = useStepStatus(lesson, opts.scope);
  const markDoneHook = useRef(opts.onMarkDone);
  markDoneHook.current = opts.onMarkDone;
  /** What the learner typed for steps that ask for an answer (LessonStep.answerHtml). */
  const [answers, setAnswers] = useState<Record<string, string>>({});
  const answersRef = useRef(answers);
  answersRef.current = answers;
  const answerOf = useCallback(
    (stepId: string) => (lesson.steps.find((s) => s.id === stepId)?.answerHtml ? (answersRef.current[stepId]?.trim() ?? "") : undefined),
    [lesson.steps],
  );
  const { check, solve, busy } = useChecks(lesson.id, lab, messages, st.set, onLabGone, { lang: opts.lang ?? "en", answerOf });
  const autoTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const latest = useRef(st);
  latest.current = st;

  /** The shell finished a command: check the current step soon (debounced). */
  const onCommand = useCallback(() => {
    if (autoTimer.current) clearTimeout(autoTimer.current);
    autoTimer.current = setTimeout(() => {
      autoTimer.current = null;
      const { current, passed } = latest.current;
      const step = lesson.steps.find((s) => s.id === current);
      if (!step || !step.hasCheck || passed.has(step.id) || busy(step.id)) return;
      if (answerOf(step.id) === "") return; // it asks for an answer and none is typed: it could only fail
      void check(step.id, true);
    }, AUTO_CHECK_DEBOUNCE_MS);
  }, [check, busy, answerOf, lesson.steps]);

  useEffect(
    () => () => {
      if (autoTimer.current) clearTimeout(autoTimer.current);
    },
    [],
  );

  /** Steps without a check are passed by the learner's word. */
  const markDone = useCallback(
    (stepId: string) => {
      st.set(stepId, { state: "passed", feedback: null, auto: false });
      markDoneHook.current?.(stepId);
    },
    [st.set],
  );

  return {
    loaded: st.loaded,
    stateOf: st.stateOf,
    current: st.current,
    passedCount: st.passed.size,
    allPassed: lesson.steps.length > 0 && st.passed.size >= lesson.steps.length,
    check,
    solve,
    markDone,
    onCommand,
    setFocus: st.setFocus,
    reset: st.reset,
    answers,
    setAnswer: useCallback((stepId: string, text: string) => setAnswers((a) => ({ ...a, [stepId]: text })), []),
  };
}
