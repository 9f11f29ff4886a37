import "server-only";
import type { ApiErrorCode } from "../../lib/protocol.ts";

/** Why a class operation was refused. The HTTP adapter maps each code to a status (server/http/errors.ts). */
export type ClassErrorCode = Extract<
  ApiErrorCode,
  "bad_request" | "not_found" | "unknown_lesson" | "unknown_step" | "not_started" | "class_locked" | "class_full" | "class_ended" | "rate_limited" | "no_capacity" | "no_consent" | "conflict"
>;

export class ClassError extends Error {
  constructor(
    readonly code: ClassErrorCode,
    message: string,
    /** seconds, for rate_limited and no_capacity */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}
