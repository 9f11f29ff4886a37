import "server-only";
import type { MarkedExtension, Tokens } from "marked";
import { MAX_TERMINAL } from "./codeinfo.ts";
import { codeBlockHtml, escapeHtml, type CodeAttrs } from "./markdown.ts";
import type { LessonError } from "./model.ts";

/**
 * Killercoda/Katacoda Markdown: a code span or fenced block followed by `{{exec}}`,
 * `{{exec interrupt}}`, `{{execute}}`, `{{execute T2}}` or `{{copy}}` becomes a click-to-run or
 * copy block; `{{}}` means plain code. Fenced blocks are rewritten to nslab info strings before
 * marked sees them (a closing fence with text after it would not close the block); code spans
 * are handled by a marked extension.
 */

export type KcAction = { kind: "run"; terminal?: number; interrupt: boolean } | { kind: "copy" } | { kind: "plain" };

export function parseAction(inner: string): KcAction | { error: string } {
  const words = inner.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return { kind: "plain" };
  const [verb, ...rest] = words as [string, ...string[]];
  if (verb === "copy") return rest.length ? { error: `{{copy}} takes no options (found "${rest.join(" ")}")` } : { kind: "copy" };
  if (verb !== "exec" && verb !== "execute") return { error: `unknown action {{${inner.trim()}}} (known: exec, execute, exec interrupt, execute T2, copy)` };
  const a: KcAction = { kind: "run", interrupt: false };
  for (const w of rest) {
    const t = /^T([1-9][0-9]*)$/.exec(w);
    if (w === "interrupt") a.interrupt = true;
    else if (t && Number(t[1]) <= MAX_TERMINAL) a.terminal = Number(t[1]);
    else if (w === "HOST1") continue; // Katacoda's multi-host syntax; a lab is one host
    else return { error: `unknown option "${w}" in {{${inner.trim()}}} (known: interrupt, T1..T${MAX_TERMINAL})` };
  }
  return a;
}

function attrs(a: KcAction, lang: string): CodeAttrs {
  if (a.kind === "run") return { kind: "run", lang: "bash", interrupt: a.interrupt, ...(a.terminal ? { terminal: a.terminal } : {}) };
  return { kind: a.kind, lang, interrupt: false };
}

const OPEN = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)(.*)$/;
const INLINE_ACTION = /`\{\{([^}\n]*)\}\}/g;

/** Rewrites fenced blocks that end in `{{action}}` to nslab info strings; keeps every line where it was. */
export function rewriteFences(text: string, file: string): { text: string; errors: LessonError[] } {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const errors: LessonError[] = [];
  let open: { index: number; fence: string; indent: string; lang: string } | null = null;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (!open) {
      const m = OPEN.exec(l);
      if (m && !(m[2]![0] === "`" && m[4]!.includes("`"))) {
        open = { index: i, fence: m[2]!, indent: m[1]!, lang: m[3]! };
        continue;
      }
      for (const a of l.matchAll(INLINE_ACTION)) {
        const p = parseAction(a[1]!);
        if ("error" in p) errors.push({ file, line: i + 1, message: p.error });
      }
      continue;
    }
    const close = new RegExp(`^\\s*(${open.fence[0] === "`" ? "`" : "~"}{${open.fence.length},})\\s*(?:\\{\\{([^}]*)\\}\\})?\\s*$`).exec(l);
    if (!close) continue;
    if (close[2] !== undefined) {
      const p = parseAction(close[2]);
      if ("error" in p) errors.push({ file, line: i + 1, message: p.error });
      else {
        const a = attrs(p, open.lang || "text");
        const info = a.kind === "plain" ? open.lang : `${a.lang} ${a.kind}${a.terminal ? ` terminal=${a.terminal}` : ""}${a.interrupt ? " interrupt" : ""}`;
        lines[open.index] = `${open.indent}${open.fence}${info}`;
      }
      lines[i] = `${open.indent}${close[1]}`;
    }
    open = null;
  }
  return { text: lines.join("\n"), errors };
}

interface ActionToken extends Tokens.Generic {
  type: "kcAction";
  raw: string;
  text: string;
  action: KcAction;
}

/** Code spans with an action; a paragraph of nothing but such spans becomes blocks with buttons. */
export const killercodaExtension: MarkedExtension = {
  extensions: [
    {
      name: "kcAction",
      level: "inline",
      start(src: string) {
        const i = src.indexOf("`");
        return i < 0 ? undefined : i;
      },
      tokenizer(src: string) {
        const m = /^(`+)(?!`)([\s\S]*?[^`])\1(?!`)\{\{([^}\n]*)\}\}/.exec(src);
        if (!m) return undefined;
        const action = parseAction(m[3]!);
        if ("error" in action) return undefined; // reported by rewriteFences; shown as written
        let text = m[2]!.replace(/\n/g, " ");
        if (/^ .* $/.test(text) && text.trim()) text = text.slice(1, -1); // CommonMark code span rule
        return { type: "kcAction", raw: m[0], text, action } satisfies ActionToken;
      },
      renderer(token) {
        const t = token as ActionToken;
        if (t.action.kind === "plain") return `<code>${escapeHtml(t.text)}</code>`; // {{}}: copying disabled
        const a = attrs(t.action, "bash");
        const data = [`data-nslab-code`, `data-kind="${a.kind}"`];
        if (a.terminal !== undefined) data.push(`data-terminal="${a.terminal}"`);
        if (a.interrupt) data.push(`data-interrupt="true"`);
        return `<code ${data.join(" ")}>${escapeHtml(t.text)}</code>`;
      },
    },
  ],
  renderer: {
    paragraph(token: Tokens.Paragraph) {
      const parts = token.tokens;
      const isAction = (t: Tokens.Generic): t is ActionToken => t.type === "kcAction" && (t as ActionToken).action.kind !== "plain";
      const only = parts.every((t) => isAction(t) || t.type === "br" || (t.type === "text" && !t.raw.trim()));
      if (!only || !parts.some(isAction)) return false;
      return parts
        .filter(isAction)
        .map((t) => codeBlockHtml(t.text, attrs(t.action, "bash")))
        .join("");
    },
  },
};
