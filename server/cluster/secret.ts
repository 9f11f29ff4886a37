import "server-only";
import crypto from "node:crypto";

/**
 * The internal API between web and agents (docs/scaling.md): every request and WebSocket upgrade
 * that web sends an agent carries the shared secret (NSLAB_INTERNAL_SECRET) in this header, and an
 * agent answers nothing without it. A bearer secret, not a signature: the channel is the cluster's
 * own network (a NetworkPolicy lets only web pods reach agents), and the header never leaves it.
 */
export const INTERNAL_HEADER = "x-nslab-internal";

/** Constant-time: both sides hashed first, so neither the content nor the length leaks by timing. */
export function secretMatches(given: string | string[] | undefined, secret: string): boolean {
  if (typeof given !== "string" || !given) return false;
  const a = crypto.createHash("sha256").update(given).digest();
  const b = crypto.createHash("sha256").update(secret).digest();
  return crypto.timingSafeEqual(a, b);
}

/** SHA-256 of a lab token, hex: what the directory keeps (never the token). */
export function tokenDigest(token: string): string {
  return crypto.createHash("sha256").update(token).digest("hex");
}

/** Does `token` hash to `digest` (constant-time)? */
export function tokenMatchesDigest(token: string, digest: string): boolean {
  const a = crypto.createHash("sha256").update(token).digest();
  const b = Buffer.from(digest, "hex");
  return b.length === a.length && crypto.timingSafeEqual(a, b);
}
