/**
 * Browser client for the nslab HTTP API (same origin). Types come from lib/protocol.ts.
 */
import type { ApiError, CheckResponse, CreateLabResponse, LabStatus, QueuedResponse, QueueView } from "@/lib/protocol";
import type { Lang } from "@/lib/languages";
import { takeEarly } from "./early-lab";
import type { HighlightResponse, ObserveResponse, SolveResponse } from "@/lib/lessons";

export interface LabCredentials {
  id: string;
  token: string;
}

/** A failed API call: HTTP status plus the server's machine code and message. */
export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** the rest of the error body (retryAfterMs, a lab_ended reason, ...) */
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, opts: { token?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const body = opts.body === undefined ? null : JSON.stringify(opts.body);
  let res: Response;
  try {
    // the lesson page's inline script may have sent this very request already (early-lab.ts)
    res = await (takeEarly(method, path, body, opts.token ?? null) ??
      fetch(path, {
        method,
        headers,
        body,
        cache: "no-store",
        signal: opts.signal,
      }));
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiCallError(0, "network", "The server could not be reached.");
  }
  if (res.status === 204) return undefined as T;
  let data: unknown = null;
  try {
    data = await res.json();
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const err = (data ?? {}) as Partial<ApiError> & Record<string, unknown>;
    throw new ApiCallError(res.status, err.error ?? `http_${res.status}`, err.message ?? `${res.status} ${res.statusText}`, err);
  }
  return data as T;
}

export const api = {
  /** 201: the lab; 202: a place in the queue (the server is full). */
  createLab: (lesson: string | undefined, signal?: AbortSignal, code?: string) =>
    call<CreateLabResponse | QueuedResponse>("POST", "/api/labs", { body: { ...(lesson ? { lesson } : {}), ...(code ? { code } : {}) }, signal }),
  /** A long poll: answers when the place in the queue changes from `seen` (or after ~25 s). */
  queue: (ticket: string, seen: number | null, signal?: AbortSignal) =>
    call<QueueView>("GET", `/api/queue${seen === null ? "?wait=0" : `?seen=${seen}`}`, { token: ticket, signal }),
  leaveQueue: (ticket: string) => call<void>("DELETE", "/api/queue", { token: ticket }),
  /** "I'm still here": the lab's idle timeout starts again. */
  keepalive: (lab: LabCredentials) => call<LabStatus>("POST", `/api/labs/${encodeURIComponent(lab.id)}/keepalive`, { token: lab.token }),
  labStatus: (lab: LabCredentials, signal?: AbortSignal) =>
    call<LabStatus>("GET", `/api/labs/${encodeURIComponent(lab.id)}`, { token: lab.token, signal }),
  deleteLab: (lab: LabCredentials) => call<void>("DELETE", `/api/labs/${encodeURIComponent(lab.id)}`, { token: lab.token }),
  closeTerminal: (lab: LabCredentials, tid: string) =>
    call<void>("DELETE", `/api/labs/${encodeURIComponent(lab.id)}/terminals/${encodeURIComponent(tid)}`, { token: lab.token }),
  /** `lang`: the language of the feedback; `answer`: what the learner typed, for a step that asks for one. */
  check: (lab: LabCredentials, lesson: string, step: string, signal?: AbortSignal, extra: { lang?: Lang; answer?: string } = {}) =>
    call<CheckResponse>("POST", `/api/labs/${encodeURIComponent(lab.id)}/check`, { token: lab.token, body: { lesson, step, ...extra }, signal }),
  solve: (lab: LabCredentials, lesson: string, step: string, lang?: Lang) =>
    call<SolveResponse>("POST", `/api/labs/${encodeURIComponent(lab.id)}/solve`, { token: lab.token, body: { lesson, step, ...(lang ? { lang } : {}) } }),
  /** What the kernel did, for a step's prediction `index`. */
  observe: (lab: LabCredentials, lesson: string, step: string, index: number, lang: Lang) =>
    call<ObserveResponse>("POST", `/api/labs/${encodeURIComponent(lab.id)}/observe`, { token: lab.token, body: { lesson, step, index, lang } }),
  /** What a step's explore block `index` points at in the lab now. */
  highlight: (lab: LabCredentials, lesson: string, step: string, index: number, lang: Lang) =>
    call<HighlightResponse>("POST", `/api/labs/${encodeURIComponent(lab.id)}/highlight`, { token: lab.token, body: { lesson, step, index, lang } }),
};

/** ws(s)://host/api/labs/ID/PATH?token=… on the page's own origin. */
export function labSocketUrl(lab: LabCredentials, path: "terminals" | "explorer", params: Record<string, string | number | undefined> = {}): string {
  const u = new URL(`/api/labs/${encodeURIComponent(lab.id)}/${path}`, window.location.href);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  u.searchParams.set("token", lab.token);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, String(v));
  return u.toString();
}
