"use client";
import { useCallback, useEffect, useRef } from "react";
import type { Lang } from "@/lib/languages";
import { api, ApiCallError, type LabCredentials } from "../api";
import type { StepStatus } from "./status";

export interface CheckMessages {
  needsLab: string;
  network: string;
}

/**
 * Running a step's check or solution in the lab: one request per step at a time (a newer one
 * aborts the older), results handed to `set`, and a 404/401 that turns out to be a gone lab
 * reported to `onLabGone`.
 */
export function useChecks(
  lessonId: string,
  lab: LabCredentials | null,
  messages: CheckMessages,
  set: (stepId: string, s: StepStatus) => void,
  onLabGone: () => void,
  /** The page's language (checks answer in it), and the learner's answer for a step that asks for one. */
  o: { lang?: Lang; answerOf?: (stepId: string) => string | undefined } = {},
) {
  const opts = useRef(o);
  opts.current = o;
  const inflight = useRef(new Map<string, AbortController>());
  const labRef = useRef(lab);
  labRef.current = lab;
  const goneRef = useRef(onLabGone);
  goneRef.current = onLabGone;
  const msg = useRef(messages);
  msg.current = messages;

  useEffect(
    () => () => {
      for (const ac of inflight.current.values()) ac.abort();
    },
    [],
  );

  const failure = useCallback(async (l: LabCredentials, e: unknown): Promise<string | null> => {
    if (e instanceof DOMException && e.name === "AbortError") return null;
    if (e instanceof ApiCallError && (e.status === 404 || e.status === 401)) {
      // the lab may be gone, or this server has no checks: ask about the lab itself
      const gone = await api.labStatus(l).then(
        () => false,
        (s: unknown) => s instanceof ApiCallError && (s.status === 404 || s.status === 401),
      );
      if (gone) goneRef.current();
    }
    return e instanceof ApiCallError && e.status !== 0 ? e.message : msg.current.network;
  }, []);

  /** Checks a step. An automatic check reports only a pass (a miss is not news after every command). */
  const check = useCallback(
    async (stepId: string, auto = false): Promise<boolean> => {
      const l = labRef.current;
      if (!l) {
        if (!auto) set(stepId, { state: "failed", feedback: msg.current.needsLab, auto });
        return false;
      }
      inflight.current.get(stepId)?.abort();
      const ac = new AbortController();
      inflight.current.set(stepId, ac);
      if (!auto) set(stepId, { state: "checking", feedback: null, auto });
      try {
        const answer = opts.current.answerOf?.(stepId);
        const r = await api.check(l, lessonId, stepId, ac.signal, { lang: opts.current.lang, ...(answer !== undefined ? { answer } : {}) });
        if (r.passed || !auto) set(stepId, { state: r.passed ? "passed" : "failed", feedback: r.feedback || null, auto });
        return r.passed;
      } catch (e) {
        const why = await failure(l, e);
        if (why !== null && !auto) set(stepId, { state: "failed", feedback: why, auto });
        return false;
      } finally {
        if (inflight.current.get(stepId) === ac) inflight.current.delete(stepId);
      }
    },
    [lessonId, set, failure],
  );

  /** Runs the step's solution in the lab, then reports its check like a manual check. */
  const solve = useCallback(
    async (stepId: string): Promise<boolean> => {
      const l = labRef.current;
      if (!l) {
        set(stepId, { state: "failed", feedback: msg.current.needsLab, auto: false });
        return false;
      }
      set(stepId, { state: "checking", feedback: null, auto: false, solving: true });
      try {
        const r = await api.solve(l, lessonId, stepId, opts.current.lang);
        set(stepId, { state: r.passed ? "passed" : "failed", feedback: r.feedback || null, auto: false, output: r.output });
        return r.passed;
      } catch (e) {
        set(stepId, { state: "failed", feedback: (await failure(l, e)) ?? msg.current.network, auto: false });
        return false;
      }
    },
    [lessonId, set, failure],
  );

  const busy = useCallback((stepId: string) => inflight.current.has(stepId), []);

  return { check, solve, busy };
}
