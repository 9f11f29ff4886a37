"use client";
import { useCallback, useRef, useState } from "react";
import { api, ApiCallError, type LabCredentials } from "../api";
import type { LessonView } from "../lesson-view";
import { markLab } from "../progress";

export type RebuildState =
  | { kind: "idle" }
  | { kind: "running"; step: string; at: number; of: number } // at: 1-based among the steps replayed
  | { kind: "done"; step: string; upTo: number }
  | { kind: "failed"; step: string; failedAt: number; why: string };

/**
 * "Rebuild to this step": in a fresh lab, replays the solutions of the steps before `stepId`, in
 * order (POST /solve runs a solution, then its step's check), so the lab holds what those steps
 * built. Steps without a solution are skipped. Stops at the first solution whose check fails.
 */
export function useRebuild(lesson: LessonView, lab: LabCredentials | null, network: string, scope?: string) {
  const [state, setState] = useState<RebuildState>({ kind: "idle" });
  const busy = useRef(false);

  const rebuild = useCallback(
    async (stepId: string) => {
      const l = lab;
      const upTo = lesson.steps.findIndex((s) => s.id === stepId);
      if (!l || upTo <= 0 || busy.current) return;
      busy.current = true;
      const before = lesson.steps.slice(0, upTo).map((s, i) => ({ s, n: i + 1 })).filter((x) => x.s.hasSolution);
      try {
        for (const [i, { s, n }] of before.entries()) {
          setState({ kind: "running", step: stepId, at: i + 1, of: before.length });
          let why: string | null = null;
          try {
            const r = await api.solve(l, lesson.id, s.id);
            if (!r.passed) why = r.feedback || r.output.slice(-200);
          } catch (e) {
            why = e instanceof ApiCallError && e.status !== 0 ? e.message : network;
          }
          if (why !== null) {
            setState({ kind: "failed", step: stepId, failedAt: n, why });
            return;
          }
        }
        markLab(lesson.id, l.id, scope);
        setState({ kind: "done", step: stepId, upTo });
      } finally {
        busy.current = false;
      }
    },
    [lab, lesson.id, lesson.steps, network, scope],
  );

  return { rebuild: rebuild, rebuildState: state };
}
