import "server-only";
import { Marked, type MarkedExtension, type Token, type Tokens, type TokensList } from "marked";
import { parseInfo } from "./codeinfo.ts";

/**
 * Markdown rendering for lessons (marked), with the one thing lessons need beyond CommonMark+GFM:
 * code blocks carry their kind as data attributes for the client's run/copy buttons, and hidden
 * blocks (scripts, hints) never reach the HTML even if misplaced.
 */

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

export interface CodeAttrs {
  kind: "run" | "copy" | "plain";
  lang: string;
  terminal?: number;
  interrupt: boolean;
  /** The command runs until stopped (a server): `keeps-running` in the info string. */
  keepsRunning?: true;
  /** A run block between a prediction and its observation: the index of that prediction in the step. */
  predict?: number;
}

/** A code token of a step, marked by the parser as the command a prediction is about. */
export type CodeToken = Tokens.Code & { nslabPredict?: number };

/** `<pre data-nslab-code ...><code class="language-x">text</code></pre>`: the contract with app/components/lesson. */
export function codeBlockHtml(text: string, a: CodeAttrs): string {
  const attrs = [`data-nslab-code`, `data-kind="${a.kind}"`];
  if (a.terminal !== undefined) attrs.push(`data-terminal="${a.terminal}"`);
  if (a.interrupt) attrs.push(`data-interrupt="true"`);
  if (a.keepsRunning) attrs.push(`data-keeps-running="true"`);
  if (a.predict !== undefined) attrs.push(`data-predict="${a.predict}"`);
  const cls = a.lang ? ` class="language-${escapeHtml(a.lang)}"` : "";
  return `<pre ${attrs.join(" ")}><code${cls}>${escapeHtml(text)}\n</code></pre>\n`;
}

/** A marked instance with the lesson renderer, plus format-specific extensions. */
export function createMarked(...extensions: MarkedExtension[]): Marked {
  return new Marked(
    { gfm: true },
    {
      renderer: {
        code(token: CodeToken) {
          if (token.codeBlockStyle === "indented") return codeBlockHtml(token.text, { kind: "plain", lang: "", interrupt: false });
          const info = parseInfo(token.lang ?? "", { anyLanguage: true });
          if ("error" in info) return codeBlockHtml(token.text, { kind: "plain", lang: "", interrupt: false });
          if (info.kind === "run") return codeBlockHtml(token.text, { ...info, ...(token.nslabPredict !== undefined ? { predict: token.nslabPredict } : {}) });
          if (info.kind === "copy" || info.kind === "plain") return codeBlockHtml(token.text, info);
          return ""; // scripts, hints and widgets are never shown as code
        },
      },
    },
    ...extensions,
  );
}

/** Renders a slice of a token list; reference links are resolved against the whole document. */
export function renderTokens(md: Marked, tokens: Token[], links: TokensList["links"]): string {
  const list = Object.assign([...tokens], { links }) as TokensList;
  return md.parser(list);
}

/** The text of inline tokens without markup (for step titles). */
export function plainText(tokens: Token[] | undefined): string {
  let out = "";
  for (const t of tokens ?? []) {
    if ("tokens" in t && Array.isArray(t.tokens) && t.type !== "codespan") out += plainText(t.tokens);
    else if (t.type === "br") out += " ";
    else if (t.type === "html") continue;
    else if ("text" in t && typeof t.text === "string") out += t.text;
  }
  return decodeEntities(out).replace(/\s+/g, " ").trim();
}

function decodeEntities(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[e] ?? _);
}

/** How many lines a token's source spans before the next token starts. */
export function lineCount(raw: string): number {
  let n = 0;
  for (const c of raw) if (c === "\n") n++;
  return n;
}

/**
 * Visits every fenced code block inside a container token (list, blockquote, table...) with its
 * source line. Nested tokens' `raw` is de-indented, so the line is found by searching the source
 * for the opening fence, from `line` on.
 */
export function nestedCodeBlocks(token: Token, line: number, source: string[], visit: (code: Tokens.Code, line: number) => void): void {
  let cursor = line;
  const walk = (t: Token) => {
    for (const child of children(t)) {
      if (child.type === "code") {
        const first = child.raw.split("\n")[0]!.trim();
        let at = cursor;
        while (at <= source.length && source[at - 1]!.trim().replace(/^(?:>\s*)+/, "").replace(/^(?:[-*+]|\d+[.)])\s+/, "").trim() !== first) at++;
        if (at > source.length) at = cursor; // not found verbatim: report the container's line
        cursor = at + 1;
        visit(child as Tokens.Code, at);
      } else walk(child);
    }
  };
  walk(token);
}

function children(t: Token): Token[] {
  const out: Token[] = [];
  if ("tokens" in t && Array.isArray(t.tokens)) out.push(...(t.tokens as Token[]));
  if (t.type === "list") out.push(...(t as Tokens.List).items);
  return out;
}
