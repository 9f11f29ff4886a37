"use client";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, ApiCallError, type LabCredentials } from "./api";
import type { LessonView } from "./lesson-view";
import { markPassed, resetProgress, useProgress } from "./progress";

export type StepState = "idle" | "checking" | "passed" | "failed";
export interface StepStatus {
  state: StepState;
  feedback: string | null;
  auto: boolean; // the result came from an automatic check
  output?: string; // what the solution printed, after "solve"
  solving?: boolean;
}

const AUTO_CHECK_DEBOUNCE_MS = 500;

/**
 * Which steps passed (kept in this browser), running checks on request and automatically after
 * each command the learner runs (only for the current step, and only to report a pass).
 */
export function useSteps(
  lesson: LessonView,
  lab: LabCredentials | null,
  messages: { needsLab: string; network: string },
  onLabGone: () => void,
) {
  const progress = useProgress(lesson.id);
  const [status, setStatus] = useState<Record<string, StepStatus>>({});
  const [focus, setFocus] = useState<string | null>(null);
  const inflight = useRef(new Map<string, AbortController>());
  const autoTimer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const passed = useMemo(() => new Set((progress?.passed ?? []).filter((id) => lesson.steps.some((s) => s.id === id))), [progress, lesson.steps]);

  const stateOf = useCallback(
    (id: string): StepStatus => {
      const s = status[id];
      if (passed.has(id)) return s?.state === "passed" ? s : { state: "passed", feedback: null, auto: false };
      return s ?? { state: "idle", feedback: null, auto: false };
    },
    [status, passed],
  );

  const firstOpen = lesson.steps.find((s) => !passed.has(s.id))?.id ?? null;
  const current = focus && !passed.has(focus) ? focus : firstOpen;

  const labRef = useRef(lab);
  labRef.current = lab;
  const goneRef = useRef(onLabGone);
  goneRef.current = onLabGone;

  const check = useCallback(
    async (stepId: string, auto = false) => {
      const l = labRef.current;
      if (!l) {
        if (!auto) setStatus((s) => ({ ...s, [stepId]: { state: "failed", feedback: messages.needsLab, auto } }));
        return;
      }
      inflight.current.get(stepId)?.abort();
      const ac = new AbortController();
      inflight.current.set(stepId, ac);
      if (!auto) setStatus((s) => ({ ...s, [stepId]: { state: "checking", feedback: null, auto } }));
      try {
        const r = await api.check(l, lesson.id, stepId, ac.signal);
        if (r.passed) {
          markPassed(lesson.id, stepId, lesson.steps.length);
          setStatus((s) => ({ ...s, [stepId]: { state: "passed", feedback: r.feedback || null, auto } }));
          setFocus((f) => (f === stepId ? null : f));
        } else if (!auto) {
          setStatus((s) => ({ ...s, [stepId]: { state: "failed", feedback: r.feedback || null, auto } }));
        }
      } catch (e) {
        if (e instanceof DOMException && e.name === "AbortError") return;
        if (e instanceof ApiCallError && (e.status === 404 || e.status === 401)) {
          // the lab may be gone, or this server has no checks: ask about the lab itself
          const gone = await api.labStatus(l).then(
            () => false,
            (s: unknown) => s instanceof ApiCallError && (s.status === 404 || s.status === 401),
          );
          if (gone) goneRef.current();
        }
        if (!auto)
          setStatus((s) => ({
            ...s,
            [stepId]: { state: "failed", feedback: e instanceof ApiCallError && e.status !== 0 ? e.message : messages.network, auto },
          }));
      } finally {
        if (inflight.current.get(stepId) === ac) inflight.current.delete(stepId);
      }
    },
    [lesson.id, lesson.steps.length, messages.needsLab, messages.network],
  );

  const currentRef = useRef(current);
  currentRef.current = current;
  const passedRef = useRef(passed);
  passedRef.current = passed;

  /** The shell finished a command: check the current step soon (debounced). */
  const onCommand = useCallback(() => {
    if (autoTimer.current) clearTimeout(autoTimer.current);
    autoTimer.current = setTimeout(() => {
      autoTimer.current = null;
      const id = currentRef.current;
      const step = lesson.steps.find((s) => s.id === id);
      if (!step || !step.hasCheck || passedRef.current.has(step.id) || inflight.current.has(step.id)) return;
      void check(step.id, true);
    }, AUTO_CHECK_DEBOUNCE_MS);
  }, [check, lesson.steps]);

  useEffect(
    () => () => {
      if (autoTimer.current) clearTimeout(autoTimer.current);
      for (const ac of inflight.current.values()) ac.abort();
    },
    [],
  );

  /** Runs the step's solution in the lab, then reports its check like a manual check. */
  const solve = useCallback(
    async (stepId: string) => {
      const l = labRef.current;
      if (!l) {
        setStatus((s) => ({ ...s, [stepId]: { state: "failed", feedback: messages.needsLab, auto: false } }));
        return;
      }
      setStatus((s) => ({ ...s, [stepId]: { state: "checking", feedback: null, auto: false, solving: true } }));
      try {
        const r = await api.solve(l, lesson.id, stepId);
        if (r.passed) markPassed(lesson.id, stepId, lesson.steps.length);
        setStatus((s) => ({ ...s, [stepId]: { state: r.passed ? "passed" : "failed", feedback: r.feedback || null, auto: false, output: r.output } }));
        if (r.passed) setFocus((f) => (f === stepId ? null : f));
      } catch (e) {
        setStatus((s) => ({
          ...s,
          [stepId]: { state: "failed", feedback: e instanceof ApiCallError && e.status !== 0 ? e.message : messages.network, auto: false },
        }));
      }
    },
    [lesson.id, lesson.steps.length, messages.needsLab, messages.network],
  );

  /** Steps without a check are passed by the learner's word. */
  const markDone = useCallback(
    (stepId: string) => {
      markPassed(lesson.id, stepId, lesson.steps.length);
      setStatus((s) => ({ ...s, [stepId]: { state: "passed", feedback: null, auto: false } }));
      setFocus((f) => (f === stepId ? null : f));
    },
    [lesson.id, lesson.steps.length],
  );

  const reset = useCallback(() => {
    resetProgress(lesson.id);
    setStatus({});
    setFocus(null);
  }, [lesson.id]);

  return {
    loaded: progress !== undefined,
    stateOf,
    current,
    passedCount: passed.size,
    allPassed: lesson.steps.length > 0 && passed.size >= lesson.steps.length,
    check,
    solve,
    markDone,
    onCommand,
    setFocus,
    reset,
  };
}
