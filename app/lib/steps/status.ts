"use client";
import { useCallback, useMemo, useState } from "react";
import type { LessonView } from "../lesson-view";
import { markPassed, resetProgress, useProgress } from "../progress";

export type StepState = "idle" | "checking" | "passed" | "failed";
export interface StepStatus {
  state: StepState;
  feedback: string | null;
  auto: boolean; // the result came from an automatic check
  output?: string; // what the solution printed, after "solve"
  solving?: boolean;
}

const IDLE: StepStatus = { state: "idle", feedback: null, auto: false };

/**
 * Where the learner stands in a lesson: which steps passed (kept in this browser, with what their
 * checks said and in which lab), the status of each step on this page, and the current step (the
 * one focused, else the first not passed).
 */
export function useStepStatus(lesson: LessonView, labId: string | null, scope?: string) {
  const progress = useProgress(lesson.id, scope);
  const [status, setStatus] = useState<Record<string, StepStatus>>({});
  const [focus, setFocus] = useState<string | null>(null);

  const passed = useMemo(() => new Set((progress?.passed ?? []).filter((id) => lesson.steps.some((s) => s.id === id))), [progress, lesson.steps]);

  const stateOf = useCallback(
    (id: string): StepStatus => {
      const s = status[id];
      if (passed.has(id)) return s?.state === "passed" ? s : { state: "passed", feedback: progress?.feedback?.[id] ?? null, auto: false };
      return s ?? IDLE;
    },
    [status, passed, progress],
  );

  /** Records a step's status; a pass is remembered (with its feedback and the lab) and moves the focus on. */
  const set = useCallback(
    (stepId: string, s: StepStatus) => {
      if (s.state === "passed") {
        markPassed(lesson.id, stepId, lesson.steps.length, { scope, feedback: s.feedback, lab: labId });
        setFocus((f) => (f === stepId ? null : f));
      }
      setStatus((all) => ({ ...all, [stepId]: s }));
    },
    [lesson.id, lesson.steps.length, labId, scope],
  );

  const reset = useCallback(() => {
    resetProgress(lesson.id, scope);
    setStatus({});
    setFocus(null);
  }, [lesson.id, scope]);

  const firstOpen = lesson.steps.find((s) => !passed.has(s.id))?.id ?? null;
  const current = focus && !passed.has(focus) ? focus : firstOpen;
  /** Steps passed, but in another lab than this one: what they built is not here. */
  const stateGone = !!labId && passed.size > 0 && !!progress?.lab && progress.lab !== labId;

  return { loaded: progress !== undefined, passed, stateOf, set, current, setFocus, reset, stateGone };
}
