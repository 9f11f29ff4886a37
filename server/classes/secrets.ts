import "server-only";
import crypto from "node:crypto";
import { CODE_ALPHABET, CODE_LENGTH } from "../../lib/classes.ts";
import { isLearnerId } from "../../lib/ids.ts";

/** Ids, keys and join codes of the classroom, and how keys are checked. */

export const newClassId = (): string => crypto.randomBytes(8).toString("hex");
export const newLearnerId = (): string => crypto.randomBytes(6).toString("hex");
export const newHelpId = (): string => crypto.randomBytes(6).toString("hex");
/** 192 random bits, base64url: the instructor key, and the secret part of a learner key */
export const newSecret = (): string => crypto.randomBytes(24).toString("base64url");

/**
 * A learner key is the learner's id followed by a secret, so one string both names and proves the
 * learner (`0123456789ab` + 32 characters). Only its hash is stored.
 */
export function learnerKey(learnerId: string): string {
  return learnerId + newSecret();
}
export function learnerIdOfKey(key: string): string | null {
  const id = key.slice(0, 12);
  return isLearnerId(id) && key.length === 44 ? id : null;
}

export function hashKey(key: string): string {
  return crypto.createHash("sha256").update(key).digest("hex");
}

/** Constant-time comparison of a presented key with a stored hash. */
export function keyMatches(key: string | null | undefined, hash: string): boolean {
  if (!key || key.length > 200) return false;
  const a = crypto.createHash("sha256").update(key).digest();
  const b = Buffer.from(hash, "hex");
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** A join code: CODE_LENGTH characters of CODE_ALPHABET, uniformly random (crypto.randomInt has no modulo bias). */
export function newJoinCode(): string {
  let s = "";
  for (let i = 0; i < CODE_LENGTH; i++) s += CODE_ALPHABET[crypto.randomInt(CODE_ALPHABET.length)];
  return s;
}
