"use client";
import { useCallback, useEffect, useRef, useState } from "react";
import type { Lang } from "@/lib/languages";
import type { LabCredentials } from "./api";
import type { LessonView } from "./lesson-view";
import { useChecks, type CheckMessages } from "./steps/checks";
import { useRebuild } from "./steps/rebuild";
import { useStepStatus } from "./steps/status";

export type { StepState, StepStatus } from "./steps/status";
export type { RebuildState } from "./steps/rebuild";

const AUTO_CHECK_DEBOUNCE_MS = 500;

/**
 * A lesson's steps on the page: their states (passes kept in this browser), checks on request and
 * automatically after each command the learner runs (the current step, and as soon as a step
 * passes the one after it: the learner may have done it already), solutions, steps marked done by
 * hand, and rebuilding a fresh lab to the current step.
 */
export function useSteps(
  lesson: LessonView,
  lab: LabCredentials | null,
  messages: CheckMessages,
  onLabGone: () => void,
  /** the page's language (checks answer in it); a class: progress kept apart (`scope`), and steps marked done reported to the server */
  opts: { lang?: Lang; scope?: string; onMarkDone?(stepId: string): void } = {},
) {
  const st = useStepStatus(lesson, lab?.id ?? null, opts.scope);
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
  const { check: runCheck, solve: runSolve, busy } = useChecks(lesson.id, lab, messages, st.set, onLabGone, { lang: opts.lang ?? "en", answerOf });
  const { rebuild, rebuildState } = useRebuild(lesson, lab, messages.network, opts.scope);
  const autoTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const latest = useRef(st);
  latest.current = st;

  /** After a pass, check the following step too, and so on while they pass. */
  const checkOnwards = useCallback(
    async (stepId: string) => {
      let i = lesson.steps.findIndex((s) => s.id === stepId);
      while (++i < lesson.steps.length) {
        const next = lesson.steps[i]!;
        if (latest.current.passed.has(next.id)) continue;
        if (!next.hasCheck || busy(next.id) || answerOf(next.id) === "" || !(await runCheck(next.id, true))) return;
      }
    },
    [lesson.steps, runCheck, busy, answerOf],
  );

  const check = useCallback(
    async (stepId: string, auto = false) => {
      const ok = await runCheck(stepId, auto);
      if (ok) await checkOnwards(stepId);
      return ok;
    },
    [runCheck, checkOnwards],
  );

  const solve = useCallback(
    async (stepId: string) => {
      const ok = await runSolve(stepId);
      if (ok) await checkOnwards(stepId);
      return ok;
    },
    [runSolve, checkOnwards],
  );

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
  const { set } = st;
  const markDone = useCallback(
    (stepId: string) => {
      set(stepId, { state: "passed", feedback: null, auto: false });
      markDoneHook.current?.(stepId);
    },
    [set],
  );

  return {
    loaded: st.loaded,
    stateOf: st.stateOf,
    current: st.current,
    passed: st.passed,
    passedCount: st.passed.size,
    allPassed: lesson.steps.length > 0 && st.passed.size >= lesson.steps.length,
    /** the passed steps were done in another lab: the current one does not hold what they built */
    stateGone: st.stateGone,
    check,
    solve,
    markDone,
    onCommand,
    rebuild,
    rebuildState,
    setFocus: st.setFocus,
    reset: st.reset,
    answers,
    setAnswer: useCallback((stepId: string, text: string) => setAnswers((a) => ({ ...a, [stepId]: text })), []),
  };
}
