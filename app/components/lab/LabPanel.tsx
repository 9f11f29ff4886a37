"use client";
import { useCallback, useEffect, useImperativeHandle, useRef, useState, type Ref } from "react";
import { dict, type Lang } from "@/app/i18n/dict";
import { api, ApiCallError } from "@/app/lib/api";
import { readJson, writeJson } from "@/app/lib/storage";
import { storedTerminals, storeTerminals, type LabPhase, type StoredLab } from "@/app/lib/use-lab";
import type { ConnectionState } from "@/app/lib/terminal-connection";
import { Terminal, type TerminalHandle } from "../terminal/Terminal";
import { Icon } from "../ui/Icon";
import { SplitPane } from "../ui/SplitPane";
import { ExplorerSlot } from "./ExplorerSlot";
import { LabPhaseView } from "./LabPhaseView";
import { TerminalTabs, type TabInfo } from "./TerminalTabs";

export interface RunOptions {
  terminal?: number; // 1-based; default: the active terminal
  interrupt?: boolean; // Ctrl-C first
}
export interface LabPanelHandle {
  run(command: string, opts?: RunOptions): void;
}

interface Props {
  phase: LabPhase;
  lang: Lang;
  ref?: Ref<LabPanelHandle>;
  onReset(): void;
  onRetry(): void;
  onGone(): void;
  onCommand(exitCode: number): void;
}

const EXPLORER_KEY = "nslab:explorer-open";
let keySeq = 0;
const newKey = () => `t${Date.now().toString(36)}${(keySeq++).toString(36)}`;

/** The right side of a lesson: the lab's state, terminal tabs, and the explorer slot. */
export function LabPanel({ phase, lang, ref, onReset, onRetry, onGone, onCommand }: Props) {
  const t = dict(lang);
  const [explorerOpen, setExplorerOpen] = useState(() => typeof window !== "undefined" && readJson<boolean>(EXPLORER_KEY) === true);
  useEffect(() => writeJson(EXPLORER_KEY, explorerOpen || null), [explorerOpen]);
  const runRef = useRef<LabPanelHandle["run"]>(() => {});

  useImperativeHandle(ref, () => ({ run: (c, o) => runRef.current(c, o) }), []);

  const confirmReset = () => {
    if (window.confirm(t.resetLabConfirm)) onReset();
  };

  return (
    <section className="flex h-full min-h-0 flex-col bg-surface" aria-label={t.labPane} data-testid="lab-panel" data-lab-phase={phase.kind}>
      {phase.kind === "ready" ? (
        <ReadyLab
          key={`${phase.lab.id}:${phase.generation}`}
          lab={phase.lab}
          initialTerminals={initialTerminals(phase)}
          lang={lang}
          explorerOpen={explorerOpen}
          onToggleExplorer={() => setExplorerOpen((o) => !o)}
          onReset={confirmReset}
          onGone={onGone}
          onCommand={onCommand}
          runRef={runRef}
        />
      ) : (
        <>
          <div className="flex h-11 shrink-0 items-center border-b border-line px-3 text-[0.8667rem] text-subtle">
            <Icon name="terminal" size={14} className="mr-2" />
            {t.terminals}
          </div>
          <LabPhaseView phase={phase} lang={lang} onRetry={onRetry} onNew={onReset} />
        </>
      )}
    </section>
  );
}

/** Tabs to restore: stored ids the server still has (else its live ones), else one new terminal. */
function initialTerminals(phase: Extract<LabPhase, { kind: "ready" }>): (string | null)[] {
  const live = phase.status?.terminals ?? [];
  const existing = new Set(live.map((x) => x.id));
  let ids = storedTerminals(phase.lab.id).filter((id) => existing.has(id));
  if (!ids.length) ids = live.filter((x) => !x.exited).map((x) => x.id);
  return ids.length ? ids : [null];
}

function ReadyLab({
  lab,
  initialTerminals: initial,
  lang,
  explorerOpen,
  onToggleExplorer,
  onReset,
  onGone,
  onCommand,
  runRef,
}: {
  lab: StoredLab;
  initialTerminals: (string | null)[];
  lang: Lang;
  explorerOpen: boolean;
  onToggleExplorer(): void;
  onReset(): void;
  onGone(): void;
  onCommand(exitCode: number): void;
  runRef: React.RefObject<LabPanelHandle["run"]>;
}) {
  const t = dict(lang);
  const [tabs, setTabs] = useState<TabInfo[]>(() => initial.map((tid) => ({ key: newKey(), tid, exit: null, conn: "connecting" })));
  const [active, setActive] = useState<string | null>(() => tabs[0]?.key ?? null);
  const handles = useRef(new Map<string, TerminalHandle>());
  const pending = useRef(new Map<string, string[]>()); // input for terminals not mounted yet
  const tabsRef = useRef(tabs);
  tabsRef.current = tabs;
  const cbs = useRef({ onGone, onCommand });
  cbs.current = { onGone, onCommand };

  // remember the terminal ids so a reload reattaches to the same shells
  useEffect(() => {
    storeTerminals(
      lab.id,
      tabs.flatMap((x) => (x.tid ? [x.tid] : [])),
    );
  }, [lab.id, tabs]);

  const patch = useCallback((key: string, p: Partial<TabInfo>) => {
    setTabs((ts) => ts.map((x) => (x.key === key ? { ...x, ...p } : x)));
  }, []);

  const addTab = useCallback((): string => {
    const key = newKey();
    setTabs((ts) => [...ts, { key, tid: null, exit: null, conn: "connecting", focus: true }]);
    setActive(key);
    return key;
  }, []);

  const closeTab = useCallback(
    (key: string) => {
      const ts = tabsRef.current;
      const i = ts.findIndex((x) => x.key === key);
      if (i < 0) return;
      const tab = ts[i]!;
      if (tab.tid) api.closeTerminal(lab, tab.tid).catch(() => {});
      const rest = ts.filter((x) => x.key !== key);
      setTabs(rest);
      setActive((a) => (a === key ? (rest[Math.min(i, rest.length - 1)]?.key ?? null) : a));
    },
    [lab],
  );

  const type = useCallback((key: string, text: string) => {
    const h = handles.current.get(key);
    if (h) h.type(text);
    else pending.current.set(key, [...(pending.current.get(key) ?? []), text]);
  }, []);

  // Run: into terminal N (opening terminals up to N), or the active one
  runRef.current = (command, opts = {}) => {
    let ts = tabsRef.current;
    let key: string | null = null;
    if (opts.terminal && opts.terminal >= 1) {
      while (ts.length < opts.terminal) {
        const k = newKey();
        ts = [...ts, { key: k, tid: null, exit: null, conn: "connecting" }];
      }
      if (ts !== tabsRef.current) setTabs(ts);
      key = ts[opts.terminal - 1]!.key;
    } else {
      key = ts.find((x) => x.key === active)?.key ?? ts[0]?.key ?? null;
      if (!key) {
        key = newKey();
        setTabs([{ key, tid: null, exit: null, conn: "connecting" }]);
      }
    }
    setActive(key);
    const line = command.replace(/\r?\n/g, "\r").replace(/\r+$/, "") + "\r";
    const k = key;
    if (opts.interrupt) {
      type(k, "\x03");
      setTimeout(() => type(k, line), 150);
    } else type(k, line);
  };

  // Ctrl+` (anywhere on the page) puts the keyboard in the active terminal
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey && !e.altKey && !e.metaKey && e.code === "Backquote") {
        const key = active ?? tabsRef.current[0]?.key;
        if (!key) return;
        e.preventDefault();
        handles.current.get(key)?.focus();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [active]);

  const probe = useCallback(async (): Promise<"ok" | "gone" | "unknown"> => {
    try {
      const s = await api.labStatus(lab);
      return s.state === "running" ? "ok" : "gone";
    } catch (e) {
      return e instanceof ApiCallError && (e.status === 404 || e.status === 401) ? "gone" : "unknown";
    }
  }, [lab]);

  const terminals = (
    <div className="relative min-h-0 flex-1 bg-term-bg">
      {tabs.map((tab, i) => (
        <div
          key={tab.key}
          id={`panel-${tab.key}`}
          role="tabpanel"
          aria-labelledby={`tab-${tab.key}`}
          className="absolute inset-0"
          hidden={tab.key !== active}
        >
          <Terminal
            ref={(h) => {
              if (h) {
                handles.current.set(tab.key, h);
                const queued = pending.current.get(tab.key);
                if (queued) {
                  pending.current.delete(tab.key);
                  for (const q of queued) h.type(q);
                }
              } else handles.current.delete(tab.key);
            }}
            lab={lab}
            initialTerminalId={tab.tid}
            index={i + 1}
            visible={tab.key === active}
            autoFocus={tab.focus}
            lang={lang}
            onReady={(tid) => patch(tab.key, { tid })}
            onState={(s: ConnectionState) => {
              patch(tab.key, { conn: s.kind });
              if (s.kind === "closed" && s.reason === "lab-destroyed") cbs.current.onGone();
            }}
            onExit={(code, signal) => patch(tab.key, { exit: { code, signal } })}
            onCommand={(code) => cbs.current.onCommand(code)}
            onNewTerminal={() => {
              closeTab(tab.key);
              addTab();
            }}
            probe={probe}
          />
        </div>
      ))}
      {tabs.length === 0 && (
        <div className="absolute inset-0 flex items-center justify-center">
          <button type="button" className="btn-secondary" onClick={addTab} data-testid="terminal-empty-new">
            <Icon name="plus" size={14} /> {t.newTerminal}
          </button>
        </div>
      )}
    </div>
  );

  return (
    <>
      <div className="flex h-11 shrink-0 items-center gap-2 border-b border-line px-2">
        <TerminalTabs tabs={tabs} active={active} lang={lang} onSelect={setActive} onClose={closeTab} onAdd={addTab} />
        <div className="ml-auto flex shrink-0 items-center gap-1">
          <span className="hidden truncate pr-1 font-mono text-[0.7667rem] text-subtle xl:inline" title={lab.id} data-testid="lab-info">
            {t.labInfo(lab.hostname, lab.mode === "root" ? t.modeRoot : t.modeRootless)}
          </span>
          <button
            type="button"
            onClick={onToggleExplorer}
            aria-pressed={explorerOpen}
            aria-label={explorerOpen ? t.hideExplorer : t.showExplorer}
            title={explorerOpen ? t.hideExplorer : t.showExplorer}
            data-testid="toggle-explorer"
            className={"btn-ghost btn-sm " + (explorerOpen ? "bg-surface-3 text-fg" : "")}
          >
            <Icon name="layers" size={14} />
            <span className="hidden lg:inline">{t.explorer}</span>
          </button>
          <button type="button" onClick={onReset} className="btn-ghost btn-sm" data-testid="reset-lab" title={t.resetLab}>
            <Icon name="refresh" size={14} />
            <span className="hidden lg:inline">{t.resetLab}</span>
          </button>
        </div>
      </div>
      <SplitPane
          vertical
          collapsed={!explorerOpen}
          storageKey="nslab:split:explorer"
          initial={0.55}
          min={0.2}
          max={0.85}
          label={t.resizeExplorer}
          first={terminals}
          second={<ExplorerSlot lab={lab} lang={lang} />}
        />
    </>
  );
}
