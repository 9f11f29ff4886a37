"use client";
import "@xterm/xterm/css/xterm.css";
import type { Terminal as XTerm } from "@xterm/xterm";
import type { FitAddon } from "@xterm/addon-fit";
import { useEffect, useImperativeHandle, useRef, useState, type Ref } from "react";
import { dict, type Lang } from "@/app/i18n/dict";
import type { LabCredentials } from "@/app/lib/api";
import { copyText } from "@/app/lib/clipboard";
import { currentTheme, useTextSize, useTheme } from "@/app/lib/prefs";
import { TerminalConnection, type ConnectionState } from "@/app/lib/terminal-connection";
import { TERMINAL_FONT, XTERM_THEMES } from "@/app/lib/xterm-theme";
import { TerminalStatus } from "./TerminalStatus";

export interface TerminalHandle {
  /** Types text into the shell (queued until connected). */
  type(text: string): void;
  focus(): void;
}

export interface TerminalProps {
  lab: LabCredentials;
  /** Reattach to this server terminal; null opens a new one. Read once, when mounted. */
  initialTerminalId: string | null;
  index: number;
  visible: boolean;
  /** Focus the terminal once it exists (a tab the learner just opened). */
  autoFocus?: boolean;
  lang: Lang;
  ref?: Ref<TerminalHandle>;
  onReady?(terminalId: string): void;
  onState?(s: ConnectionState): void;
  onExit?(code: number | null, signal: string | null): void;
  onCommand?(exitCode: number): void;
  onNewTerminal?(): void;
  probe?(): Promise<"ok" | "gone" | "unknown">;
}

const FONT_SIZE = { normal: 14, large: 18 } as const;
const RESIZE_DEBOUNCE_MS = 80;

/** xterm.js bound to one lab terminal; survives reconnects (the instance is kept). */
export function Terminal(props: TerminalProps) {
  const { lab, initialTerminalId, index, visible, lang, ref } = props;
  const t = dict(lang);
  const host = useRef<HTMLDivElement>(null);
  const outer = useRef<HTMLDivElement>(null);
  const term = useRef<XTerm | null>(null);
  const fit = useRef<FitAddon | null>(null);
  const conn = useRef<TerminalConnection | null>(null);
  const early = useRef<string[]>([]); // typed before the connection exists
  const cb = useRef(props);
  cb.current = props;
  const theme = useTheme();
  const textSize = useTextSize();
  const [state, setState] = useState<ConnectionState>({ kind: "connecting" });
  const [notice, setNotice] = useState<string | null>(null);
  const [tid, setTid] = useState<string | null>(initialTerminalId);
  const [renderer, setRenderer] = useState<"webgl" | "dom">("dom");
  const [exited, setExited] = useState<string | null>(null);

  useImperativeHandle(
    ref,
    () => ({
      type: (text) => {
        if (conn.current) conn.current.send(text);
        else early.current.push(text);
      },
      focus: () => term.current?.focus(),
    }),
    [],
  );

  // create xterm and the connection once per mount
  useEffect(() => {
    let cancelled = false;
    let cleanup: (() => void) | null = null;
    (async () => {
      const [{ Terminal: XTermCtor }, { FitAddon }, { WebLinksAddon }, { Unicode11Addon }, webglMod] = await Promise.all([
        import("@xterm/xterm"),
        import("@xterm/addon-fit"),
        import("@xterm/addon-web-links"),
        import("@xterm/addon-unicode11"),
        import("@xterm/addon-webgl").catch(() => null),
      ]);
      const el = host.current;
      if (cancelled || !el) return;
      const large = document.documentElement.getAttribute("data-size") === "large";
      const x = new XTermCtor({
        allowProposedApi: true,
        cursorBlink: true,
        fontFamily: TERMINAL_FONT,
        fontSize: large ? FONT_SIZE.large : FONT_SIZE.normal,
        lineHeight: 1.2,
        scrollback: 5000,
        theme: XTERM_THEMES[currentTheme()],
        minimumContrastRatio: currentTheme() === "light" ? 4.5 : 1,
        macOptionIsMeta: true,
        rightClickSelectsWord: true,
        drawBoldTextInBrightColors: false,
      });
      const f = new FitAddon();
      x.loadAddon(f);
      x.loadAddon(new WebLinksAddon());
      x.loadAddon(new Unicode11Addon());
      x.unicode.activeVersion = "11";
      x.open(el);
      term.current = x;
      fit.current = f;
      // test hook: the visible text of the terminal (browser tests cannot read a WebGL canvas)
      if (outer.current) (outer.current as HTMLDivElement & { nslabText?: () => string }).nslabText = () => bufferText(x);

      // WebGL when the browser has it; the DOM renderer otherwise, or once the context is lost
      if (webglMod) {
        try {
          const gl = new webglMod.WebglAddon();
          gl.onContextLoss(() => {
            gl.dispose();
            setRenderer("dom");
          });
          x.loadAddon(gl);
          setRenderer("webgl");
        } catch {
          setRenderer("dom");
        }
      }

      // copy on select; Ctrl+Shift+C copies, Ctrl+Shift+V pastes (the browser's paste event)
      let selTimer: ReturnType<typeof setTimeout> | null = null;
      const copySelection = () => {
        const s = x.getSelection();
        if (s) void copyText(s);
      };
      x.onSelectionChange(() => {
        if (selTimer) clearTimeout(selTimer);
        // copy-on-select only where the Clipboard API works without a user gesture
        selTimer = setTimeout(() => {
          const s = x.hasSelection() ? x.getSelection() : "";
          if (s && window.isSecureContext) navigator.clipboard?.writeText(s).catch(() => {});
        }, 150);
      });
      x.attachCustomKeyEventHandler((e) => {
        if (e.type !== "keydown") return true;
        const k = e.key.toLowerCase();
        if (e.ctrlKey && e.shiftKey && !e.altKey && k === "c") {
          e.preventDefault();
          copySelection();
          return false;
        }
        if (e.ctrlKey && e.shiftKey && !e.altKey && k === "v") return false; // let the browser fire "paste"
        if (e.shiftKey && !e.ctrlKey && e.key === "Insert") return false;
        return true;
      });

      let exitShown = false;
      const c = new TerminalConnection({
        lab,
        terminal: initialTerminalId,
        sink: {
          write: (data, done) => x.write(data, done),
          reset: () => x.reset(),
          size: () => {
            if (!el.offsetWidth || !el.offsetHeight) return null;
            const d = f.proposeDimensions();
            return d && d.cols >= 2 && d.rows >= 1 && Number.isFinite(d.cols) && Number.isFinite(d.rows) ? d : null;
          },
        },
        events: {
          state: (s) => {
            setState(s);
            cb.current.onState?.(s);
          },
          ready: (id) => {
            setTid(id);
            cb.current.onReady?.(id);
          },
          exit: (code, signal) => {
            const what = signal ?? String(code ?? "?");
            if (exitShown) return;
            exitShown = true;
            x.write(`\r\n\x1b[2m[${t.exitedTitle(what)}]\x1b[0m\r\n\x1b[?25l`);
            setExited(what);
            cb.current.onExit?.(code, signal);
          },
          command: (code) => cb.current.onCommand?.(code),
          error: (_code, message) => {
            setNotice(message);
            setTimeout(() => setNotice((n) => (n === message ? null : n)), 4000);
          },
        },
        probe: () => cb.current.probe?.() ?? Promise.resolve("unknown"),
      });
      conn.current = c;
      for (const text of early.current.splice(0)) c.send(text);
      x.onData((d) => c.send(d));
      x.onBinary((d) => c.sendBinaryString(d));
      x.onResize(({ cols, rows }) => c.resize(cols, rows));

      // follow the panel's size; never fit a hidden (0×0) terminal
      let resizeTimer: ReturnType<typeof setTimeout> | null = null;
      const refit = () => {
        if (!el.offsetWidth || !el.offsetHeight) return;
        const d = f.proposeDimensions();
        if (!d || !(d.cols >= 2) || !(d.rows >= 1)) return;
        f.fit();
      };
      const ro = new ResizeObserver(() => {
        if (resizeTimer) clearTimeout(resizeTimer);
        resizeTimer = setTimeout(refit, RESIZE_DEBOUNCE_MS);
      });
      ro.observe(el);
      refit();
      c.connect();
      if (cb.current.autoFocus && cb.current.visible) x.focus();

      cleanup = () => {
        ro.disconnect();
        if (resizeTimer) clearTimeout(resizeTimer);
        if (selTimer) clearTimeout(selTimer);
        c.dispose();
        x.dispose();
        term.current = null;
        fit.current = null;
        conn.current = null;
      };
    })();
    return () => {
      cancelled = true;
      cleanup?.();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- one xterm per mount
  }, []);

  // follow theme and text size
  useEffect(() => {
    const x = term.current;
    if (!x) return;
    x.options.theme = XTERM_THEMES[theme];
    x.options.minimumContrastRatio = theme === "light" ? 4.5 : 1;
  }, [theme]);
  useEffect(() => {
    const x = term.current;
    if (!x) return;
    x.options.fontSize = FONT_SIZE[textSize];
    const el = host.current;
    if (el && el.offsetWidth && el.offsetHeight) fit.current?.fit();
  }, [textSize]);

  // becoming visible (a tab switch): fit and focus
  const firstVisible = useRef(true);
  useEffect(() => {
    if (!visible) return;
    const focus = !firstVisible.current;
    firstVisible.current = false;
    const id = requestAnimationFrame(() => {
      const el = host.current;
      if (el && el.offsetWidth && el.offsetHeight) fit.current?.fit();
      if (focus) term.current?.focus();
    });
    return () => cancelAnimationFrame(id);
  }, [visible]);

  return (
    <div
      ref={outer}
      className="relative h-full w-full"
      hidden={!visible}
      data-testid="terminal"
      data-terminal-index={index}
      data-terminal-id={tid ?? ""}
      data-state={state.kind}
      data-renderer={renderer}
    >
      <div
        ref={host}
        className="nslab-xterm absolute inset-0 bg-term-bg"
        role="region"
        aria-label={t.terminalLabel(index)}
      />
      <TerminalStatus
        state={state}
        exited={exited}
        notice={notice}
        lang={lang}
        onReconnect={() => conn.current?.reconnectNow()}
        onNewTerminal={() => cb.current.onNewTerminal?.()}
      />
    </div>
  );
}

/** The terminal's buffer as text (scrollback included), trailing blank lines dropped. */
function bufferText(x: XTerm): string {
  const b = x.buffer.active;
  const lines: string[] = [];
  for (let i = 0; i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? "");
  while (lines.length && !lines[lines.length - 1]) lines.pop();
  return lines.join("\n");
}
