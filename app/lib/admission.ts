/**
 * Getting a lab from a server that may be full, busy or private (docs/api.md, "Admission"):
 * POST /api/labs answers 201 (here is the lab), 202 (a place in the queue: long-poll it until the
 * lab is ready), 429/503 with retryAfterMs (wait, then ask again), or 401/403 (a workshop code is
 * needed). The learner sees the queue and the countdowns (LabAdmission.tsx); never a bare error.
 */
import type { CreateLabResponse, QueueView } from "@/lib/protocol";
import { api, ApiCallError } from "./api";
import { CODE_KEY } from "./early-lab";
import { readJson, writeJson } from "./storage";

export type Waiting =
  | { kind: "queued"; position: number; waiting: number; waitingFor: "capacity" | "memory"; starting: boolean }
  | { kind: "retry"; reason: "rate_limited" | "draining" | "locked_out"; until: number; message: string };

/** The server wants a workshop access code (again, when `wrong`). */
export class CodeNeeded extends Error {
  constructor(readonly wrong: boolean) {
    super(wrong ? "wrong code" : "code required");
  }
}

export const accessCode = {
  get: (): string | undefined => readJson<string>(CODE_KEY) ?? undefined,
  set: (code: string | null): void => writeJson(CODE_KEY, code),
};

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), reject(new DOMException("aborted", "AbortError"))), { once: true });
  });

/**
 * A lab for `lesson`: made at once, or after waiting in the queue or out a rate limit, reporting
 * each wait to `onWait`. Throws CodeNeeded, or ApiCallError for what waiting cannot fix.
 */
export async function obtainLab(lesson: string | undefined, onWait: (w: Waiting) => void, signal?: AbortSignal): Promise<CreateLabResponse> {
  for (;;) {
    const code = accessCode.get();
    let r;
    try {
      r = await api.createLab(lesson, signal, code);
    } catch (e) {
      if (!(e instanceof ApiCallError)) throw e;
      if (e.code === "code_required" || e.code === "wrong_code") {
        if (e.code === "wrong_code") accessCode.set(null);
        throw new CodeNeeded(e.code === "wrong_code");
      }
      if (e.code === "rate_limited" || e.code === "draining" || e.code === "locked_out") {
        const ms = typeof e.detail.retryAfterMs === "number" ? Math.min(Math.max(e.detail.retryAfterMs, 1000), 600_000) : 30_000;
        onWait({ kind: "retry", reason: e.code, until: Date.now() + ms, message: e.message });
        await sleep(ms, signal);
        continue;
      }
      throw e;
    }
    if (!("queued" in r)) return r;
    const lab = await waitInQueue(r.ticket, r.view, onWait, signal);
    if (lab) return lab;
    // the place expired (the page slept, or the server restarted): ask again
  }
}

/** Waits out a place in the queue: the lab when it is ready, null when the place expired (ask again). */
export async function waitInQueue(ticket: string, first: QueueView, onWait: (w: Waiting) => void, signal?: AbortSignal): Promise<CreateLabResponse | null> {
  let v = first;
  const leave = () => void api.leaveQueue(ticket).catch(() => {});
  signal?.addEventListener("abort", leave, { once: true });
  try {
    for (;;) {
      if (v.state === "ready" && v.lab) return v.lab;
      if (v.state === "gone") return null;
      if (v.state === "failed") throw new ApiCallError(503, "lab_create_failed", v.message ?? "The lab could not be created.");
      onWait({ kind: "queued", position: v.position, waiting: v.waiting, waitingFor: v.waitingFor, starting: v.state === "starting" });
      try {
        v = await api.queue(ticket, v.version, signal);
      } catch (e) {
        if (e instanceof ApiCallError && e.status === 0) {
          await sleep(2000, signal); // the network blinked: keep our place, ask again
          continue;
        }
        throw e;
      }
    }
  } finally {
    signal?.removeEventListener("abort", leave);
  }
}
