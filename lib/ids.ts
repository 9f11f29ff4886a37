/**
 * The id rules every side shares: what a lab, lesson, step and terminal id and a lab token look
 * like. The server checks what it receives against these and nothing else; the schema holds
 * lesson files to the same rule, so an id a request may carry is exactly an id a lesson may have.
 * Pure: no Node, no DOM.
 */

/** A lab id: 16 lowercase hex digits (64 random bits). */
export const LAB_ID_RE = /^[0-9a-f]{16}$/;
export function isLabId(v: unknown): v is string {
  return typeof v === "string" && LAB_ID_RE.test(v);
}

/** Lesson and step ids: lowercase letters and digits in words joined by single dashes ("pid-namespaces"). */
export const LESSON_ID_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const LESSON_ID_MAX = 100;
export function isLessonId(v: unknown): v is string {
  return typeof v === "string" && v.length <= LESSON_ID_MAX && LESSON_ID_RE.test(v);
}
/** Step ids follow the lesson-id rule. */
export const isStepId = isLessonId;

/** A class id: 16 lowercase hex digits. */
export const CLASS_ID_RE = /^[0-9a-f]{16}$/;
export function isClassId(v: unknown): v is string {
  return typeof v === "string" && CLASS_ID_RE.test(v);
}

/** A learner id within a class: 12 lowercase hex digits (the start of the learner's key). */
export const LEARNER_ID_RE = /^[0-9a-f]{12}$/;
export function isLearnerId(v: unknown): v is string {
  return typeof v === "string" && LEARNER_ID_RE.test(v);
}

/** A terminal id within its lab: "t1", "t2", … */
export const TERMINAL_ID_RE = /^t[1-9][0-9]{0,8}$/;
export function isTerminalId(v: unknown): v is string {
  return typeof v === "string" && TERMINAL_ID_RE.test(v);
}

/** A lab token as a client sends it: base64url, at most 128 characters (ours are 32). */
export const TOKEN_RE = /^[A-Za-z0-9_-]{1,128}$/;
export function isToken(v: unknown): v is string {
  return typeof v === "string" && TOKEN_RE.test(v);
}
