/**
 * One live terminal in an element: xterm.js, its renderer, keys, and the connection to a lab
 * terminal, following the element's size. What Terminal.tsx mounts; no React.
 */
import type { Terminal as XTerm } from "@xterm/xterm";
import type { FitAddon } from "@xterm/addon-fit";
import type { LabCredentials } from "@/app/lib/api";
import { takeEarlyTerminal } from "@/app/lib/early-lab";
import { mark } from "@/app/lib/marks";
import type { Theme } from "@/app/lib/prefs";
import { TerminalConnection, type ConnectionEvents } from "@/app/lib/terminal-connection";
import { attachRenderer, type RendererReport } from "./renderer";
import { bufferText, copyOnSelect, createXterm, installKeys, loadXtermExtras, proposedSize, refit, type XtermModules } from "./xterm";

const RESIZE_DEBOUNCE_MS = 80;
/** A terminal that has shown nothing yet gets its extras anyway after this long. */
const UPGRADE_AFTER_MS = 3000;

export interface MountOptions {
  lab: LabCredentials;
  terminal: string | null;
  theme: Theme;
  large: boolean;
  /** The element that gets the test hook nslabText() (browser tests cannot read a WebGL canvas). */
  hookEl: HTMLElement | null;
  events: ConnectionEvents;
  onRenderer: RendererReport;
  /** Keys the page handles while the terminal has the keyboard (true: handled). */
  onKey?(e: KeyboardEvent): boolean;
  probe?(): Promise<"ok" | "gone" | "unknown">;
}

export interface MountedTerminal {
  term: XTerm;
  fit: FitAddon;
  conn: TerminalConnection;
  dispose(): void;
}

export function mountTerminal(m: XtermModules, el: HTMLElement, o: MountOptions): MountedTerminal {
  const { term, fit } = createXterm(m, el, { theme: o.theme, large: o.large });
  if (o.hookEl) (o.hookEl as HTMLElement & { nslabText?: () => string }).nslabText = () => bufferText(term);
  // Unicode 11 widths and the WebGL renderer once the terminal has shown its first output (the
  // prompt comes first, drawn by the DOM renderer), or after a few seconds without any
  let disposed = false;
  let disposeRenderer = () => {};
  let upgraded = false;
  const upgrade = () => {
    if (upgraded || disposed) return;
    upgraded = true;
    mark("terminal-upgrade");
    clearTimeout(upgradeTimer);
    void loadXtermExtras().then((x) => {
      if (disposed) return;
      if (x.unicode) {
        term.loadAddon(new x.unicode.Unicode11Addon());
        term.unicode.activeVersion = "11";
      }
      disposeRenderer = attachRenderer(term, x.webgl, o.onRenderer);
    });
  };
  const upgradeTimer = setTimeout(upgrade, UPGRADE_AFTER_MS);
  // after the frame that shows the first output: the DOM renderer paints the prompt before the
  // WebGL chunk is fetched, run and checked (~0.1 s of main thread on a busy machine)
  let upgradeAsked = false;
  const upgradeAfterPaint = () => {
    if (upgradeAsked) return;
    upgradeAsked = true;
    requestAnimationFrame(() => setTimeout(upgrade, 0));
  };
  installKeys(term, o.onKey);
  const stopCopy = copyOnSelect(term);

  const conn = new TerminalConnection({
    lab: o.lab,
    terminal: o.terminal,
    sink: {
      write: (data, done) =>
        term.write(data, () => {
          mark("first-output-parsed");
          done();
          upgradeAfterPaint();
        }),
      reset: () => term.reset(),
      size: () => proposedSize(el, fit),
    },
    events: o.events,
    probe: o.probe,
    // a first visit: the page's script may have opened this lab's first terminal already
    early: o.terminal === null ? takeEarlyTerminal(o.lab.id) : null,
  });
  term.onData((d) => conn.send(d));
  term.onBinary((d) => conn.sendBinaryString(d));
  term.onResize(({ cols, rows }) => conn.resize(cols, rows));

  // follow the panel's size; never fit a hidden (0×0) terminal
  let timer: ReturnType<typeof setTimeout> | null = null;
  const ro = new ResizeObserver(() => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => refit(el, fit), RESIZE_DEBOUNCE_MS);
  });
  ro.observe(el);
  refit(el, fit);
  mark("terminal-open");
  conn.connect();

  return {
    term,
    fit,
    conn,
    dispose() {
      disposed = true;
      clearTimeout(upgradeTimer);
      ro.disconnect();
      if (timer) clearTimeout(timer);
      stopCopy();
      conn.dispose();
      disposeRenderer();
      term.dispose();
    },
  };
}
