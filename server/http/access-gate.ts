import "server-only";
import type { Access, Verdict } from "../access/access.ts";
import { log } from "../log/log.ts";
import { HttpError } from "./errors.ts";

/**
 * A refused workshop code as the HTTP answer (access mode "code"): 401 without a code, 403 for a
 * wrong one, 429 once the address is locked out. Logged with the address, never with the value.
 */
export function refuseCode(verdict: Extract<Verdict, { ok: false }>, ip: string, what = "access code"): never {
  if (verdict.why === "missing") throw new HttpError(401, "code_required", "This server is for a workshop: enter the access code you were given.");
  throw lockedOrWrong(verdict, ip, what);
}

/** 429 for a locked-out address (logged); otherwise logs the wrong guess and returns the 403. */
export function lockedOrWrong(verdict: Extract<Verdict, { ok: false }>, ip: string, what: string): HttpError {
  if (verdict.why === "locked") {
    log.warn({ ip, what }, "locked out after too many wrong codes");
    const s = Math.ceil((verdict.retryAfterMs ?? 60_000) / 1000);
    return new HttpError(429, "locked_out", `Too many wrong codes from your network. Try again in ${s} s.`, { "retry-after": String(s) }, { retryAfterMs: verdict.retryAfterMs });
  }
  log.warn({ ip, what }, `wrong ${what}`);
  return new HttpError(403, "wrong_code", "That access code is not right. Check it with your instructor.");
}

/** Throws unless `ip` may go on with this workshop code (always, in access mode "open"). */
export async function requireCode(access: Access, ip: string, code: unknown): Promise<void> {
  if (code !== undefined && code !== null && (typeof code !== "string" || code.length > 200)) throw new HttpError(400, "bad_request", "code must be a string.");
  const verdict = await access.admit(ip, { code: (code as string | undefined) ?? null });
  if (!verdict.ok) refuseCode(verdict, ip);
}
