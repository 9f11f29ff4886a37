"use client";
import "@xterm/xterm/css/xterm.css";
import { useEffect, useImperativeHandle, useRef, useState, type Ref } from "react";
import { dict, type Lang } from "@/app/i18n/dict";
import type { LabCredentials } from "@/app/lib/api";
import { mark } from "@/app/lib/marks";
import { isPaneKey } from "@/app/lib/panes";
import { currentTheme, useTextSize, useTheme } from "@/app/lib/prefs";
import type { ConnectionState } from "@/app/lib/terminal-connection";
import { mountTerminal, type MountedTerminal } from "./mount";
import type { RendererKind } from "./renderer";
import { TerminalStatus } from "./TerminalStatus";
import { applyTheme, FONT_SIZE, loadXterm, refit } from "./xterm";

// a page that shows a terminal starts loading xterm.js as soon as this module runs, not after hydration
if (typeof window !== "undefined") {
  mark("terminal-module");
  void loadXterm().then(() => mark("xterm-loaded"));
}

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

/** xterm.js bound to one lab terminal; survives reconnects (the instance is kept). */
export function Terminal(props: TerminalProps) {
  const { index, visible, lang, ref } = props;
  const t = dict(lang);
  const host = useRef<HTMLDivElement>(null);
  const outer = useRef<HTMLDivElement>(null);
  const live = useRef<MountedTerminal | null>(null);
  const early = useRef<string[]>([]); // typed before the connection exists
  const cb = useRef(props);
  cb.current = props;
  const theme = useTheme();
  const textSize = useTextSize();
  const [state, setState] = useState<ConnectionState>({ kind: "connecting" });
  const [notice, setNotice] = useState<string | null>(null);
  const [tid, setTid] = useState<string | null>(props.initialTerminalId);
  const [renderer, setRenderer] = useState<{ kind: RendererKind; settled: boolean }>({ kind: "dom", settled: false });
  const [exited, setExited] = useState<string | null>(null);

  useImperativeHandle(
    ref,
    () => ({
      type: (text) => {
        if (live.current) live.current.conn.send(text);
        else early.current.push(text);
      },
      focus: () => live.current?.term.focus(),
    }),
    [],
  );

  // one xterm and one connection per mount
  useEffect(() => {
    let cancelled = false;
    let noticeTimer: ReturnType<typeof setTimeout> | null = null;
    mark("terminal-effect");
    void loadXterm().then((m) => {
      const el = host.current;
      if (cancelled || !el) return;
      let exitShown = false;
      const mt = mountTerminal(m, el, {
        lab: cb.current.lab,
        terminal: cb.current.initialTerminalId,
        theme: currentTheme(),
        large: document.documentElement.getAttribute("data-size") === "large",
        hookEl: outer.current,
        onKey: isPaneKey,
        onRenderer: (kind, settled) => setRenderer({ kind, settled }),
        probe: () => cb.current.probe?.() ?? Promise.resolve("unknown"),
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
            if (exitShown) return;
            exitShown = true;
            const what = signal ?? String(code ?? "?");
            mt.term.write(`\r\n\x1b[2m[${dict(cb.current.lang).exitedTitle(what)}]\x1b[0m\r\n\x1b[?25l`);
            setExited(what);
            cb.current.onExit?.(code, signal);
          },
          command: (code) => cb.current.onCommand?.(code),
          error: (_code, message) => {
            setNotice(message);
            if (noticeTimer) clearTimeout(noticeTimer);
            noticeTimer = setTimeout(() => setNotice(null), 4000);
          },
        },
      });
      live.current = mt;
      for (const text of early.current.splice(0)) mt.conn.send(text);
      if (cb.current.autoFocus && cb.current.visible) mt.term.focus();
    });
    return () => {
      cancelled = true;
      if (noticeTimer) clearTimeout(noticeTimer);
      live.current?.dispose();
      live.current = null;
    };
  }, []);

  // follow theme and text size
  useEffect(() => {
    if (live.current) applyTheme(live.current.term, theme);
  }, [theme]);
  useEffect(() => {
    const mt = live.current;
    if (!mt) return;
    mt.term.options.fontSize = FONT_SIZE[textSize];
    if (host.current) refit(host.current, mt.fit);
  }, [textSize]);

  // becoming visible (a tab switch): fit and focus
  const firstVisible = useRef(true);
  useEffect(() => {
    if (!visible) return;
    const focus = !firstVisible.current;
    firstVisible.current = false;
    const id = requestAnimationFrame(() => {
      const mt = live.current;
      if (mt && host.current) refit(host.current, mt.fit);
      if (focus) mt?.term.focus();
    });
    return () => cancelAnimationFrame(id);
  }, [visible]);

  return (
    <div
      ref={outer}
      className="relative h-full w-full"
      hidden={!visible}
      data-testid="terminal"
      data-pane="terminal"
      data-terminal-index={index}
      data-terminal-id={tid ?? ""}
      data-state={state.kind}
      data-renderer={renderer.kind}
      data-renderer-settled={renderer.settled ? "true" : undefined}
    >
      <div ref={host} className="nslab-xterm absolute inset-0 bg-term-bg" role="region" aria-label={t.terminalLabel(index)} />
      <TerminalStatus
        state={state}
        exited={exited}
        notice={notice}
        lang={lang}
        onReconnect={() => live.current?.conn.reconnectNow()}
        onNewTerminal={() => cb.current.onNewTerminal?.()}
      />
    </div>
  );
}
