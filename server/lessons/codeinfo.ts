import "server-only";

/**
 * The info string of a fenced code block (the words after the opening fence) decides what the
 * block is: code shown to the learner (plain, copy, run) or something that is never shown (a
 * script, a hint). A typo here could show a check script to learners, so unknown words are errors,
 * not plain code.
 */

export const SCRIPT_KINDS = ["check", "solution", "setup", "observe", "highlight"] as const;
/** Blocks that are not shown as code: hints, and the learner's answer, prediction and explorer widgets. */
export const WIDGET_KINDS = ["hint", "answer", "predict", "explore"] as const;
export type HiddenKind = (typeof SCRIPT_KINDS)[number] | (typeof WIDGET_KINDS)[number];

export type BlockInfo =
  | { kind: "run" | "copy" | "plain"; lang: string; terminal?: number; interrupt: boolean; keepsRunning?: true }
  | { kind: HiddenKind };

/** Languages an nslab lesson may show. Anything else is probably a typo (`chekc`). */
export const DISPLAY_LANGUAGES = [
  "bash", "sh", "shell", "console", "text", "c", "json", "yaml", "ini", "diff", "python", "go", "rust",
  "makefile", "toml", "dockerfile", "javascript", "typescript",
] as const;
const RUNNABLE = new Set(["bash", "sh", "shell"]);
export const MAX_TERMINAL = 8; // the default number of terminals per lab (NSLAB_TERMINALS_PER_LAB)

export interface InfoOptions {
  /** Killercoda scenarios use any language name; there are no hidden blocks to mistype. */
  anyLanguage?: boolean;
}

export function parseInfo(info: string, opts: InfoOptions = {}): BlockInfo | { error: string } {
  const words = info.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return { kind: "plain", lang: "", interrupt: false };
  const [first, ...rest] = words as [string, ...string[]];
  if ((WIDGET_KINDS as readonly string[]).includes(first) || (SCRIPT_KINDS as readonly string[]).includes(first)) {
    if (rest.length) return { error: `\`${first}\` blocks take nothing after the word ${first} (found "${rest.join(" ")}")` };
    return { kind: first as HiddenKind };
  }
  if (!/^[a-z0-9][a-z0-9+#-]*$/i.test(first)) return { error: `"${first}" is not a language name` };
  if (!opts.anyLanguage && !(DISPLAY_LANGUAGES as readonly string[]).includes(first)) {
    const near = nearest(first, [...SCRIPT_KINDS, ...WIDGET_KINDS, ...DISPLAY_LANGUAGES]);
    return { error: `unknown code block "${info.trim()}"${near ? ` (did you mean "${near}"?)` : ""}; see docs/lessons.md for the kinds of block` };
  }
  let kind: "run" | "copy" | "plain" = "plain";
  let terminal: number | undefined;
  let interrupt = false;
  let keepsRunning = false;
  for (const [i, w] of rest.entries()) {
    if (w === "run" || w === "copy") {
      if (i !== 0) return { error: `"${w}" must come right after the language` };
      kind = w;
    } else if (/^terminal=/.test(w)) {
      const m = /^terminal=([1-9][0-9]*)$/.exec(w);
      if (!m || Number(m[1]) > MAX_TERMINAL) return { error: `"${w}": terminal must be a number from 1 to ${MAX_TERMINAL}` };
      if (terminal !== undefined) return { error: "terminal is given twice" };
      terminal = Number(m[1]);
    } else if (w === "interrupt") {
      if (interrupt) return { error: "interrupt is given twice" };
      interrupt = true;
    } else if (w === "keeps-running") {
      // a command that runs until it is stopped (a server, sleep infinity): what runs the lesson's
      // text in CI (typed.e2e.test.ts) moves on once it is running instead of waiting for a prompt
      if (keepsRunning) return { error: "keeps-running is given twice" };
      keepsRunning = true;
    } else {
      return { error: `unknown word "${w}" in "${info.trim()}" (known: run, copy, terminal=N, interrupt, keeps-running)` };
    }
  }
  if (kind !== "run" && (terminal !== undefined || interrupt || keepsRunning))
    return { error: `terminal=N, interrupt and keeps-running only apply to run blocks ("${first} run ...")` };
  if (kind === "run" && !RUNNABLE.has(first.toLowerCase()))
    return { error: `only shell blocks can run (bash run), not ${first}` };
  return { kind, lang: first, ...(terminal !== undefined ? { terminal } : {}), interrupt, ...(keepsRunning ? { keepsRunning: true as const } : {}) };
}

/** The closest candidate within edit distance 2, for "did you mean". */
function nearest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = 3;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
