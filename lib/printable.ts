/**
 * Text a lab controls, made safe to show: process names (comm), command lines, mount paths, the
 * arguments of traced calls. A learner can name a process anything, escape sequences and bidi
 * overrides included (prctl(PR_SET_NAME), argv, a directory name). React escapes HTML, so this is
 * not about injection: it is about what a reader sees. A terminal escape in a name may drive a
 * terminal that prints it (an exported log, a trainer's `cat`), and a right-to-left override
 * (U+202E) makes "hsab" read as "bash" (the Trojan Source trick, CVE-2021-42574).
 *
 * Each control or bidi-formatting character becomes "?", as ps(1) shows what it cannot print, so
 * the reader sees that something was there. Pure: no Node, no DOM; the server applies it once,
 * before anything reaches a client (server/inspect, the trace).
 */

// C0 controls, DEL, C1 controls; the bidi marks, embeddings, overrides and isolates (Unicode
// UAX #9: ALM U+061C, LRM/RLM U+200E-F, LRE..RLO U+202A-E, LRI..PDI U+2066-9); line and
// paragraph separators (U+2028-9, they break lines like \n); the byte-order mark and the other
// zero-width formatting characters that hide text inside a name (U+200B-D, U+2060, U+FEFF).
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** `s` with every control and bidi-formatting character replaced by "?". */
export function printable(s: string): string {
  return s.replace(UNPRINTABLE, "?");
}

/** Whether `s` has nothing `printable` would replace. */
export function isPrintable(s: string): boolean {
  UNPRINTABLE.lastIndex = 0;
  return !UNPRINTABLE.test(s);
}
