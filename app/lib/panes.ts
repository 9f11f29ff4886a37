"use client";
import { useEffect } from "react";

/**
 * The page's panes for the keyboard: the lesson, each terminal on screen, the explorer (elements
 * marked data-pane, in page order). F6 / Shift+F6 move to the next / previous pane, also out of a
 * terminal (where Tab belongs to the shell); Ctrl+` jumps into the terminal and, from there, back.
 * The terminal lets these keys through (app/components/terminal/mount.ts).
 */
export function isPaneKey(e: KeyboardEvent): boolean {
  return (e.key === "F6" && !e.ctrlKey && !e.altKey && !e.metaKey) || (e.ctrlKey && !e.altKey && !e.metaKey && e.code === "Backquote");
}

function panes(): HTMLElement[] {
  return [...document.querySelectorAll<HTMLElement>("[data-pane]")].filter((p) => p.getClientRects().length > 0 && !p.closest("[hidden]"));
}

/** Where the keyboard goes in a pane: a terminal's input, the explorer's tab, the lesson's current step. */
function focusPane(p: HTMLElement): void {
  const target =
    p.querySelector<HTMLElement>("textarea.xterm-helper-textarea") ??
    p.querySelector<HTMLElement>("[role=tab][aria-selected=true]") ??
    p.querySelector<HTMLElement>("[data-current=true] h2") ??
    p;
  target.focus({ preventScroll: p.dataset.pane !== "lesson" });
}

/** Puts the keyboard in the terminal in front (false if there is none yet). */
export function focusTerminal(): boolean {
  const all = panes().filter((p) => p.dataset.pane === "terminal");
  const term = all.find((p) => p.closest("[data-active=true]")) ?? all[0];
  if (term) focusPane(term);
  return !!term;
}

export function cyclePane(dir: 1 | -1): void {
  const list = panes();
  if (!list.length) return;
  const here = list.findIndex((p) => p.contains(document.activeElement));
  const i = here < 0 ? (dir > 0 ? 0 : list.length - 1) : (here + dir + list.length) % list.length;
  focusPane(list[i]!);
}

export function usePaneKeys(): void {
  useEffect(() => {
    let back: HTMLElement | null = null; // where Ctrl+` returns to
    const onKey = (e: KeyboardEvent) => {
      if (!isPaneKey(e)) return;
      e.preventDefault();
      if (e.key === "F6") return cyclePane(e.shiftKey ? -1 : 1);
      const active = document.activeElement as HTMLElement | null;
      const inTerminal = !!active?.closest("[data-pane=terminal]");
      if (inTerminal) {
        (back && document.contains(back) ? back : panes().find((p) => p.dataset.pane === "lesson"))?.focus();
        return;
      }
      back = active;
      focusTerminal();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}
