"use client";
import { useCallback, useEffect, useImperativeHandle, useRef, useState, type Ref } from "react";
import { dict, type Lang } from "@/app/i18n/dict";
import { api, ApiCallError } from "@/app/lib/api";
import { readJson, writeJson } from "@/app/lib/storage";
import { storedTerminals, type LabPhase, type StoredLab } from "@/app/lib/use-lab";
import type { ExplorerFocus } from "../lesson/widgets";
import { Terminal } from "../terminal/Terminal";
import { Icon } from "../ui/Icon";
import { SplitPane } from "../ui/SplitPane";
import { ExplorerSlot } from "./ExplorerSlot";
import { LabExpiryBanner } from "./LabExpiry";
import { LabPhaseView } from "./LabPhaseView";
import { LabToolbar } from "./LabToolbar";
import type { TabInfo } from "./TerminalTabs";
import { useTerminalTabs, type RunOptions } from "./use-terminal-tabs";

export interface LabPanelHandle {
  run(command: string, opts?: RunOptions): void;
  /** Opens the explorer at a tab with what a lesson step points at highlighted. */
  explore(focus: Omit<ExplorerFocus, "seq">): void;
}

interface Props {
  phase: LabPhase;
  lang: Lang;
  ref?: Ref<LabPanelHandle>;
  onReset(): void;
  onRetry(): void;
  onGone(): void;
  onCommand(exitCode: number): void;
  /** the terminal in front changed (a class reports it, so the instructor watches that one) */
  onActiveTerminal?(terminalId: string | null): void;
  /** open the explorer at first, whatever was chosen before (demo mode) */
  explorerInitiallyOpen?: boolean;
}

const EXPLORER_KEY = "nslab:explorer-open";

/** The right side of a lesson: the lab's state, terminal tabs, and the explorer slot. */
export function LabPanel({ phase, lang, ref, onReset, onRetry, onGone, onCommand, onActiveTerminal, explorerInitiallyOpen }: Props) {
  const t = dict(lang);
  const [explorerOpen, setExplorerOpen] = useState(() => explorerInitiallyOpen || (typeof window !== "undefined" && readJson<boolean>(EXPLORER_KEY) === true));
  useEffect(() => writeJson(EXPLORER_KEY, explorerOpen || null), [explorerOpen]);
  const runRef = useRef<LabPanelHandle["run"]>(() => {});
  const [focus, setFocus] = useState<ExplorerFocus | null>(null);

  useImperativeHandle(
    ref,
    () => ({
      run: (c, o) => runRef.current(c, o),
      explore: (f) => {
        setExplorerOpen(true);
        setFocus((prev) => ({ ...f, seq: (prev?.seq ?? 0) + 1 }));
      },
    }),
    [],
  );

  const confirmReset = () => {
    if (window.confirm(t.resetLabConfirm)) onReset();
  };

  return (
    <section className="flex h-full min-h-0 flex-col bg-surface" aria-label={t.labPane} data-testid="lab-panel" data-lab-phase={phase.kind}>
      {phase.kind === "ready" && <LabExpiryBanner lab={phase.lab} lang={lang} />}
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
          onActiveTerminal={onActiveTerminal}
          runRef={runRef}
          focus={focus}
          onClearFocus={() => setFocus(null)}
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

/** A running lab: terminal tabs and panes, the explorer below them. */
function ReadyLab({
  lab,
  initialTerminals,
  lang,
  explorerOpen,
  onToggleExplorer,
  onReset,
  onGone,
  onCommand,
  onActiveTerminal,
  runRef,
  focus,
  onClearFocus,
}: {
  lab: StoredLab;
  initialTerminals: (string | null)[];
  lang: Lang;
  explorerOpen: boolean;
  onToggleExplorer(): void;
  onReset(): void;
  onGone(): void;
  onCommand(exitCode: number): void;
  onActiveTerminal?(terminalId: string | null): void;
  runRef: React.RefObject<LabPanelHandle["run"]>;
  focus: ExplorerFocus | null;
  onClearFocus(): void;
}) {
  const t = dict(lang);
  const tabs = useTerminalTabs(lab, initialTerminals);
  const activeTid = tabs.tabs.find((x) => x.key === tabs.active)?.tid ?? null;
  const onActive = useRef(onActiveTerminal);
  onActive.current = onActiveTerminal;
  useEffect(() => {
    onActive.current?.(activeTid);
  }, [activeTid]);
  runRef.current = tabs.run;
  usePaneKeys(tabs.focus);

  const probe = useCallback(async (): Promise<"ok" | "gone" | "unknown"> => {
    try {
      const s = await api.labStatus(lab);
      return s.state === "running" ? "ok" : "gone";
    } catch (e) {
      return e instanceof ApiCallError && (e.status === 404 || e.status === 401) ? "gone" : "unknown";
    }
  }, [lab]);

  return (
    <>
      <LabToolbar
        lab={lab}
        lang={lang}
        tabs={tabs.tabs}
        active={tabs.active}
        explorerOpen={explorerOpen}
        onSelect={tabs.setActive}
        onClose={tabs.close}
        onAdd={tabs.add}
        onToggleExplorer={onToggleExplorer}
        onReset={onReset}
      />
      <SplitPane
        vertical
        collapsed={!explorerOpen}
        storageKey="nslab:split:explorer"
        initial={0.55}
        min={0.2}
        max={0.85}
        label={t.resizeExplorer}
        first={
          <div className="relative min-h-0 flex-1 bg-term-bg">
            {tabs.tabs.map((tab, i) => (
              <TerminalPane key={tab.key} tab={tab} index={i + 1} lab={lab} lang={lang} tabs={tabs} probe={probe} onGone={onGone} onCommand={onCommand} />
            ))}
            {tabs.tabs.length === 0 && (
              <div className="absolute inset-0 flex items-center justify-center">
                <button type="button" className="btn-secondary" onClick={tabs.add} data-testid="terminal-empty-new">
                  <Icon name="plus" size={14} /> {t.newTerminal}
                </button>
              </div>
            )}
          </div>
        }
        second={<ExplorerSlot lab={lab} lang={lang} focus={focus} onClearFocus={onClearFocus} />}
      />
    </>
  );
}

/** One tab's panel: its terminal, shown while the tab is active. */
function TerminalPane({
  tab,
  index,
  lab,
  lang,
  tabs,
  probe,
  onGone,
  onCommand,
}: {
  tab: TabInfo;
  index: number;
  lab: StoredLab;
  lang: Lang;
  tabs: ReturnType<typeof useTerminalTabs>;
  probe(): Promise<"ok" | "gone" | "unknown">;
  onGone(): void;
  onCommand(exitCode: number): void;
}) {
  const visible = tab.key === tabs.active;
  const key = tab.key;
  return (
    <div id={`panel-${key}`} role="tabpanel" aria-labelledby={`tab-${key}`} className="absolute inset-0" hidden={!visible}>
      <Terminal
        ref={(h) => tabs.attach(key, h)}
        lab={lab}
        initialTerminalId={tab.tid}
        index={index}
        visible={visible}
        autoFocus={tab.focus}
        lang={lang}
        onReady={(tid) => tabs.patch(key, { tid })}
        onState={(s) => {
          tabs.patch(key, { conn: s.kind });
          if (s.kind === "closed" && s.reason === "lab-destroyed") onGone();
        }}
        onExit={(code, signal) => tabs.patch(key, { exit: { code, signal } })}
        onCommand={onCommand}
        onNewTerminal={() => {
          tabs.close(key);
          tabs.add();
        }}
        probe={probe}
      />
    </div>
  );
}

/** Ctrl+` (anywhere on the page) puts the keyboard in the active terminal. */
function usePaneKeys(focusTerminal: (key: string | null) => boolean) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey && !e.altKey && !e.metaKey && e.code === "Backquote" && focusTerminal(null)) e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [focusTerminal]);
}
