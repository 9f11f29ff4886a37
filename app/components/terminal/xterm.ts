/**
 * xterm.js as every nslab terminal uses it: the modules (loaded once, in parallel), a terminal with
 * our font, theme and addons, clipboard keys, copy on select, fitting, and its text for tests.
 * No React.
 */
import type { Terminal as XTerm } from "@xterm/xterm";
import type { FitAddon } from "@xterm/addon-fit";
import { copyText } from "@/app/lib/clipboard";
import type { Theme } from "@/app/lib/prefs";
import { TERMINAL_FONT, XTERM_THEMES } from "@/app/lib/xterm-theme";

export const FONT_SIZE = { normal: 14, large: 18 } as const;

export type XtermModules = Awaited<ReturnType<typeof importAll>>;
export type XtermExtras = Awaited<ReturnType<typeof importExtras>>;

// what a prompt needs; the rest (Unicode 11 widths, the WebGL renderer: ~40 KB) comes after it (mount.ts)
const importAll = () =>
  Promise.all([import("@xterm/xterm"), import("@xterm/addon-fit"), import("@xterm/addon-web-links")]).then(([xterm, fit, links]) => ({ xterm, fit, links }));
const importExtras = () =>
  Promise.all([import("@xterm/addon-unicode11").catch(() => null), import("@xterm/addon-webgl").catch(() => null)]).then(([unicode, webgl]) => ({ unicode, webgl }));

let modules: Promise<XtermModules> | null = null;
let extras: Promise<XtermExtras> | null = null;

/** xterm.js and its addons; the first call starts loading them, later calls share the load. */
export function loadXterm(): Promise<XtermModules> {
  return (modules ??= importAll());
}

/** The addons a terminal takes once it shows something: loaded once, shared. */
export function loadXtermExtras(): Promise<XtermExtras> {
  return (extras ??= importExtras());
}

/** A terminal opened in `el`, fitted by the returned FitAddon. */
export function createXterm(m: XtermModules, el: HTMLElement, o: { theme: Theme; large: boolean }): { term: XTerm; fit: FitAddon } {
  const term = new m.xterm.Terminal({
    allowProposedApi: true,
    cursorBlink: true,
    fontFamily: TERMINAL_FONT,
    fontSize: o.large ? FONT_SIZE.large : FONT_SIZE.normal,
    lineHeight: 1.2,
    scrollback: 5000,
    theme: XTERM_THEMES[o.theme],
    minimumContrastRatio: o.theme === "light" ? 4.5 : 1,
    macOptionIsMeta: true,
    rightClickSelectsWord: true,
    drawBoldTextInBrightColors: false,
  });
  const fit = new m.fit.FitAddon();
  term.loadAddon(fit);
  term.loadAddon(new m.links.WebLinksAddon());
  term.open(el);
  return { term, fit };
}

export function applyTheme(term: XTerm, theme: Theme): void {
  term.options.theme = XTERM_THEMES[theme];
  term.options.minimumContrastRatio = theme === "light" ? 4.5 : 1;
}

/**
 * Keys the terminal does not take: Ctrl+Shift+C copies, Ctrl+Shift+V and Shift+Insert paste (the
 * browser's paste event), and whatever `other` claims (it returns true when it handled the key).
 */
export function installKeys(term: XTerm, other: (e: KeyboardEvent) => boolean = () => false): void {
  term.attachCustomKeyEventHandler((e) => {
    if (e.type !== "keydown") return true;
    const k = e.key.toLowerCase();
    if (e.ctrlKey && e.shiftKey && !e.altKey && k === "c") {
      e.preventDefault();
      const s = term.getSelection();
      if (s) void copyText(s);
      return false;
    }
    if (e.ctrlKey && e.shiftKey && !e.altKey && k === "v") return false;
    if (e.shiftKey && !e.ctrlKey && e.key === "Insert") return false;
    return !other(e);
  });
}

/** Copies a selection once it settles, where the Clipboard API works without a user gesture. Returns a disposer. */
export function copyOnSelect(term: XTerm): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const sub = term.onSelectionChange(() => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      const s = term.hasSelection() ? term.getSelection() : "";
      if (s && window.isSecureContext) navigator.clipboard?.writeText(s).catch(() => {});
    }, 150);
  });
  return () => {
    if (timer) clearTimeout(timer);
    sub.dispose();
  };
}

/** The size the terminal would have in `el`, or null while it has no layout (hidden); never 0×0. */
export function proposedSize(el: HTMLElement, fit: FitAddon): { cols: number; rows: number } | null {
  if (!el.offsetWidth || !el.offsetHeight) return null;
  const d = fit.proposeDimensions();
  return d && d.cols >= 2 && d.rows >= 1 && Number.isFinite(d.cols) && Number.isFinite(d.rows) ? d : null;
}

/** Fits the terminal to `el` unless it is hidden. */
export function refit(el: HTMLElement, fit: FitAddon): void {
  if (proposedSize(el, fit)) fit.fit();
}

/** The terminal's buffer as text (scrollback included), trailing blank lines dropped. */
export function bufferText(term: XTerm): string {
  const b = term.buffer.active;
  const lines: string[] = [];
  for (let i = 0; i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? "");
  while (lines.length && !lines[lines.length - 1]) lines.pop();
  return lines.join("\n");
}
