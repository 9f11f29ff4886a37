"use client";
import { useCallback, useEffect, useRef, useState } from "react";
import type { CreateLabResponse, LabEndReason, LabStatus } from "@/lib/protocol";
import { accessCode, CodeNeeded, obtainLab, type Waiting } from "./admission";
import { api, ApiCallError } from "./api";
import { labKey } from "./early-lab";
import { labLifetime } from "./lab-lifetime";
import { mark } from "./marks";
import { readJson, writeJson } from "./storage";

export type StoredLab = CreateLabResponse;

export type LabPhase =
  | { kind: "checking" }
  | { kind: "creating" }
  | { kind: "ready"; lab: StoredLab; status: LabStatus | null; generation: number }
  | { kind: "rate-limited"; message: string }
  | { kind: "error"; message: string }
  /** the server is full (a queue) or asks us to wait (a countdown): LabAdmission.tsx */
  | { kind: "waiting"; wait: Waiting }
  /** a workshop server: the learner types the access code (again, when `wrong`) */
  | { kind: "code"; wrong: boolean }
  /** the lab ended; `reason` when the server said why (idle, max-lifetime, operator, ...) */
  | { kind: "gone"; reason?: LabEndReason };

const terminalsKey = (labId: string) => `nslab:terminals:${labId}`;

/** How a lab's terminals were shown: which tab was active, and whether two were side by side (tab indexes). */
export interface TerminalView {
  active: number;
  pair: [number, number] | null;
  /** the learner turned the side-by-side view off: do not open it by itself */
  manual?: boolean;
}
interface StoredTerminals extends TerminalView {
  ids: string[];
}

function readTerminals(labId: string): StoredTerminals {
  const v = readJson<StoredTerminals | string[]>(terminalsKey(labId));
  const ids = (Array.isArray(v) ? v : Array.isArray(v?.ids) ? v.ids : []).filter((x): x is string => typeof x === "string");
  const int = (x: unknown) => (Number.isInteger(x) && (x as number) >= 0 ? (x as number) : null);
  const o = !v || Array.isArray(v) ? null : v;
  const pair = o && Array.isArray(o.pair) && o.pair.length === 2 && o.pair.every((x) => int(x) !== null) ? ([o.pair[0], o.pair[1]] as [number, number]) : null;
  return { ids, active: int(o?.active) ?? 0, pair, ...(o?.manual === true ? { manual: true } : {}) };
}

/** Terminal ids of a lab, in tab order, so a reload reattaches to the same shells. */
export function storedTerminals(labId: string): string[] {
  return readTerminals(labId).ids;
}
export function storedView(labId: string): TerminalView {
  const { ids: _ids, ...view } = readTerminals(labId);
  return view;
}
export function storeTerminals(labId: string, ids: string[], view: TerminalView = { active: 0, pair: null }): void {
  writeJson(terminalsKey(labId), ids.length ? { ids, ...view } : null);
}

// One lookup/creation in flight per lesson, shared by React's double effects and concurrent callers,
// so a page never creates two labs.
const inflight = new Map<string, Promise<{ lab: StoredLab; status: LabStatus | null }>>();

/** The stored lab ended while the page was away: the server said why (410). */
class LabEnded extends Error {
  constructor(readonly reason: LabEndReason) {
    super(reason);
  }
}

function findOrCreate(lesson: string, onCreating: () => void, onWait: (w: Waiting) => void): Promise<{ lab: StoredLab; status: LabStatus | null }> {
  let p = inflight.get(lesson);
  if (!p) {
    p = (async () => {
      const stored = readJson<StoredLab>(labKey(lesson));
      if (stored && typeof stored.id === "string" && typeof stored.token === "string") {
        try {
          const status = await api.labStatus(stored);
          if (status.state === "running") return { lab: stored, status };
        } catch (e) {
          if (!(e instanceof ApiCallError) || e.status === 0 || e.status >= 500) throw e; // server down: keep it
          if (e.code === "lab_ended" && typeof e.detail.reason === "string") {
            // put away while the page was closed: say why, and offer a fresh lab (one click)
            writeJson(labKey(lesson), null);
            storeTerminals(stored.id, []);
            throw new LabEnded(e.detail.reason as LabEndReason);
          }
        }
        writeJson(labKey(lesson), null);
        storeTerminals(stored.id, []);
      }
      onCreating();
      let lab: StoredLab;
      try {
        lab = await obtainLab(lesson, onWait);
      } catch (e) {
        // a server without this lesson (or without lessons at all) still gives a plain lab
        if (!(e instanceof ApiCallError && e.code === "unknown_lesson")) throw e;
        lab = await obtainLab(undefined, onWait);
      }
      writeJson(labKey(lesson), lab);
      return { lab, status: null };
    })().finally(() => inflight.delete(lesson));
    inflight.set(lesson, p);
  }
  return p;
}

/**
 * The learner's lab for a lesson: reused while the server says it runs, created otherwise.
 * `reset` throws it away and starts a fresh one.
 */
export function useLab(lesson: string) {
  const [phase, setPhase] = useState<LabPhase>({ kind: "checking" });
  const generation = useRef(0);
  const alive = useRef(true);
  const loads = useRef(0);

  const load = useCallback(() => {
    const me = ++loads.current; // only the latest load may set the phase
    const current = () => alive.current && me === loads.current;
    setPhase({ kind: "checking" });
    findOrCreate(
      lesson,
      () => current() && setPhase({ kind: "creating" }),
      (wait) => current() && setPhase({ kind: "waiting", wait }),
    )
      .then(({ lab, status }) => {
        if (!current()) return;
        mark("lab-ready");
        setPhase({ kind: "ready", lab, status, generation: ++generation.current });
      })
      .catch((e: unknown) => {
        if (!current()) return;
        if (e instanceof LabEnded) setPhase({ kind: "gone", reason: e.reason });
        else if (e instanceof CodeNeeded) setPhase({ kind: "code", wrong: e.wrong });
        else if (e instanceof ApiCallError && e.status === 429) setPhase({ kind: "rate-limited", message: e.message });
        else setPhase({ kind: "error", message: e instanceof Error ? e.message : String(e) });
      });
  }, [lesson]);

  useEffect(() => {
    alive.current = true;
    mark("hydrated"); // the lab panel's first effect: React has hydrated it
    load();
    return () => {
      alive.current = false;
    };
  }, [load]);

  const resetting = useRef(false);
  const reset = useCallback(async () => {
    const stored = readJson<StoredLab>(labKey(lesson));
    resetting.current = true; // the old lab's terminals report it gone: that is expected now
    setPhase({ kind: "creating" });
    try {
      if (stored) {
        storeTerminals(stored.id, []);
        writeJson(labKey(lesson), null);
        await api.deleteLab(stored).catch(() => {});
      }
    } finally {
      resetting.current = false;
    }
    load();
  }, [lesson, load]);

  /** The lab disappeared under us (a terminal said so, or the API answered 404). */
  const markGone = useCallback(() => {
    if (resetting.current) return;
    loads.current++;
    const stored = readJson<StoredLab>(labKey(lesson));
    if (stored) {
      storeTerminals(stored.id, []);
      writeJson(labKey(lesson), null);
    }
    // the terminal's last message said why, when the server put it away
    const reason = stored ? (labLifetime.get(stored.id).ended ?? undefined) : undefined;
    setPhase({ kind: "gone", reason });
  }, [lesson]);

  /** The learner typed the workshop's access code. */
  const submitCode = useCallback(
    (code: string) => {
      accessCode.set(code.trim());
      load();
    },
    [load],
  );

  return { phase, reset, retry: load, markGone, submitCode };
}
