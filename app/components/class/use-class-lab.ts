"use client";
import { useCallback, useEffect, useRef, useState } from "react";
import { api, ApiCallError } from "@/app/lib/api";
import { waitInQueue } from "@/app/lib/admission";
import { classApi, type StoredMembership } from "@/app/lib/classes";
import { storeTerminals, type LabPhase } from "@/app/lib/use-lab";

/**
 * A learner's class lab, in the shape LabPanel takes (see useLab): the server keeps one lab per
 * learner for the whole class (POST /api/classes/:id/me/lab answers with it, or makes a fresh one
 * with the current lesson's setup run when it is gone). `reset` asks for a fresh one.
 */
export function useClassLab(m: StoredMembership | null, ended: boolean) {
  const [phase, setPhase] = useState<LabPhase>({ kind: "checking" });
  const generation = useRef(0);
  const loads = useRef(0);

  const load = useCallback(
    (fresh = false) => {
      if (!m) return;
      const me = ++loads.current;
      setPhase(fresh ? { kind: "creating" } : { kind: "checking" });
      (async () => {
        let lab;
        for (let ask = fresh; !lab; ask = false) {
          const r = await classApi.myLab(m, ask);
          if (!("queued" in r)) lab = r.lab;
          // a full server: the learner waits in its queue, seeing their place, like any learner
          else lab = await waitInQueue(r.ticket, r.view, (wait) => me === loads.current && setPhase({ kind: "waiting", wait }));
          if (me !== loads.current) return;
        }
        const status = await api.labStatus(lab).catch(() => null);
        if (me === loads.current) setPhase({ kind: "ready", lab, status, generation: ++generation.current });
      })().catch((e: unknown) => {
        if (me !== loads.current) return;
        if (e instanceof ApiCallError && (e.status === 429 || e.status === 503)) setPhase({ kind: "rate-limited", message: e.message });
        else setPhase({ kind: "error", message: e instanceof Error ? e.message : String(e) });
      });
    },
    [m],
  );

  useEffect(() => {
    if (!ended) load();
  }, [load, ended]);

  useEffect(() => {
    if (ended) {
      loads.current++;
      setPhase({ kind: "gone" });
    }
  }, [ended]);

  const reset = useCallback(async () => {
    if (phase.kind === "ready") storeTerminals(phase.lab.id, []);
    load(true);
  }, [load, phase]);

  const markGone = useCallback(() => {
    loads.current++;
    if (phase.kind === "ready") storeTerminals(phase.lab.id, []);
    setPhase({ kind: "gone" });
  }, [phase]);

  return { phase, reset, retry: () => load(false), markGone };
}
