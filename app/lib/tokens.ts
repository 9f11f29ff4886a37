/**
 * Line breaking for commands, paths and arguments: a line may break between tokens (at spaces),
 * never inside one (browsers otherwise break `--mount-proc` after its hyphens). A long token may
 * still break after a `/`, `|`, `,` or `=` (between path segments, flag lists, key=value), the
 * way findmnt and most terminals fold them; a short one never breaks.
 */

/** Tokens longer than this may break at their segment boundaries. */
export const LONG_TOKEN = 24;

/** Text split into whitespace runs and tokens, in order. */
export function splitTokens(text: string): { text: string; space: boolean }[] {
  return text
    .split(/(\s+)/)
    .filter((p) => p.length > 0)
    .map((p) => ({ text: p, space: /^\s+$/.test(p) }));
}

/** A token's unbreakable pieces: itself, or (when long) its segments ending in / | , =. */
export function segments(token: string): string[] {
  if (token.length <= LONG_TOKEN) return [token];
  return token.split(/(?<=[/|,=])/).filter(Boolean);
}

/**
 * Rewrites the text of `root` (a code block) into nowrap token spans, in place, once. The text
 * content stays exactly the same, so selecting and copying it gives the original command.
 */
export function tokenizeDom(root: HTMLElement): void {
  if (root.dataset.tokenized) return;
  root.dataset.tokenized = "true";
  const walker = root.ownerDocument.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes: Text[] = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) nodes.push(n as Text);
  for (const node of nodes) {
    const frag = root.ownerDocument.createDocumentFragment();
    for (const part of splitTokens(node.data)) {
      if (part.space) {
        frag.append(part.text);
        continue;
      }
      segments(part.text).forEach((seg, i) => {
        if (i > 0) frag.append(root.ownerDocument.createElement("wbr"));
        const span = root.ownerDocument.createElement("span");
        span.className = "nslab-tok";
        span.textContent = seg;
        frag.append(span);
      });
    }
    node.replaceWith(frag);
  }
}
