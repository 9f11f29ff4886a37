import "server-only";
import { CLOSE, type ApiError, type ApiErrorCode, type CloseCode, type ServerControl } from "../../lib/protocol.ts";
import { ClassError, type ClassErrorCode } from "../classes/errors.ts";
import { CapacityError, LabCreateError, LabGoneError } from "../labs/errors.ts";
import { TooManyTerminalsError } from "../terminals/errors.ts";
import { LabBusyError } from "../lessons/labqueue.ts";
import { NoSuchScriptError } from "../lessons/runner.ts";

/**
 * The one table from domain errors to what a client sees: an HTTP status and error code, and on a
 * WebSocket a last message and a close code. Domain folders throw their own errors and know
 * nothing of either; routes and sockets let them through to here.
 */

/** Thrown by handlers to answer with a JSON error: for what the HTTP layer itself refuses (auth, bad input). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
    /** more fields for the JSON body (a lab_ended reason, a retryAfterMs) */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The JSON body an HttpError is answered with (an HTTP response, or NEW_LAB_SOCKET's first message). */
export function apiErrorBody(e: HttpError): ApiError {
  return { error: e.code, message: e.message, ...e.extra } as ApiError;
}

interface Answer {
  http: { status: number; code: ApiErrorCode; message?: string; headers?: Record<string, string> };
  /** how a socket ends on this error (absent: the socket's generic failure) */
  socket?: { last: ServerControl; close: CloseCode; reason: string };
  /** what the server's log says (for errors whose message is not for the client) */
  log?: string;
}

type Rule = (e: Error) => Answer | null;
const rule =
  <E extends Error>(cls: abstract new (...args: never[]) => E, answer: (e: E) => Answer): Rule =>
  (e) =>
    e instanceof cls ? answer(e) : null;

/** The classroom's refusals carry their API code; this is each one's status. */
const CLASS_STATUS: Record<ClassErrorCode, number> = {
  bad_request: 400,
  unknown_lesson: 400,
  not_found: 404,
  unknown_step: 404,
  not_started: 403,
  class_locked: 403,
  no_consent: 403,
  class_full: 409,
  conflict: 409,
  class_ended: 410,
  rate_limited: 429,
  no_capacity: 503,
};

const RULES: Rule[] = [
  // admission (http/labs.ts) answers first; this is the manager's own per-address check behind it
  rule(CapacityError, (e) => (e.perClient ? { http: { status: 429, code: "too_many_labs" } } : { http: { status: 429, code: "rate_limited", headers: { "retry-after": "60" } } })),
  rule(LabCreateError, (e) => ({
    http: { status: 500, code: "lab_create_failed", message: "The lab could not be created. The server's log says why; `npm run doctor` checks the host." },
    log: `nslab: lab creation failed: ${e.failure.message}`,
  })),
  rule(LabGoneError, (e) => ({
    http: { status: 409, code: "lab_gone", message: "This lab is not running any more. Start a new one." },
    socket: { last: { type: "closed", reason: "lab-destroyed", message: e.message }, close: CLOSE.LAB_GONE, reason: "lab gone" },
  })),
  rule(TooManyTerminalsError, (e) => ({
    http: { status: 429, code: "rate_limited" },
    socket: { last: { type: "error", code: "too_many_terminals", message: e.message }, close: CLOSE.TOO_MANY_TERMINALS, reason: "too many terminals" },
  })),
  rule(NoSuchScriptError, (e) => ({ http: { status: 404, code: e.code } })),
  rule(LabBusyError, () => ({ http: { status: 429, code: "busy", headers: { "retry-after": "2" } } })),
  rule(ClassError, (e) => ({ http: { status: CLASS_STATUS[e.code], code: e.code, headers: e.retryAfter ? { "retry-after": String(e.retryAfter) } : undefined } })),
];

function answer(e: unknown): Answer | null {
  if (!(e instanceof Error)) return null;
  for (const r of RULES) {
    const a = r(e);
    if (a) return a;
  }
  return null;
}

/** The HttpError a domain error is answered with; null for an error nobody expected (a 500). */
export function toHttpError(e: unknown): HttpError | null {
  if (e instanceof HttpError) return e;
  const a = answer(e);
  if (!a) return null;
  if (a.log) console.error(a.log);
  return new HttpError(a.http.status, a.http.code, a.http.message ?? (e as Error).message, a.http.headers);
}

/** How a lab socket ends on `e`: its last message and close code; null for an unexpected error. */
export function socketEnding(e: unknown): { last: ServerControl; close: CloseCode; reason: string } | null {
  const a = answer(e);
  if (a?.log) console.error(a.log);
  return a?.socket ?? null;
}
