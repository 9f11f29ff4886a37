"use client";
import { useCallback, useEffect, useImperativeHandle, useMemo, useRef, useState, type Ref } from "react";
import { dict, type Lang } from "@/app/i18n/dict";
import { api, ApiCallError } from "@/app/lib/api";
import { readJson, writeJson } from "@/app/lib/storage";
import { storedTerminals, storedView, type LabPhase, type StoredLab } from "@/app/lib/use-lab";
import type { ExplorerFocus } from "../lesson/widgets";
import { useAnnounce } from "../ui/Announcer";
import { Icon } from "../ui/Icon";
import { SplitPane } from "../ui/SplitPane";
import { ExplorerSlot } from "./ExplorerSlot";
import { LabExpiryBanner } from "./LabExpiry";
import { LabPhaseView } from "./LabPhaseView";
import { LabToolbar } from "./LabToolbar";
import { TerminalPanes } from "./TerminalPanes";
import { useTerminalTabs, type InitialTab, type RunOptions } from "./use-terminal-tabs";

export interface LabPanelHandle {
  run(command: string, opts?: RunOptions): void;
  /** Opens the explorer at a tab with what a lesson step points at highlighted. */
  explore(focus: Omit<ExplorerFocus, "seq">): void;
}

interface Props {
  phase: LabPhase;
  lang: Lang;
  /** the highest terminal the current step names (2 or more opens terminals side by side) */
  wantTerminals: number;
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
export function LabPanel({ phase, lang, wantTerminals, ref, onReset, onRetry, onGone, onCommand, onActiveTerminal, explorerInitiallyOpen }: Props) {
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
          initial={initialTerminals(phase)}
          lang={lang}
          wantTerminals={wantTerminals}
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
          <div className="flex h-11 shrink-0 items-center border-b border-line px-3 text-[0.8667rem] text-muted">
            <Icon name="terminal" size={14} className="mr-2" />
            {t.terminals}
          </div>
          <LabPhaseView phase={phase} lang={lang} onRetry={onRetry} onNew={onReset} />
        </>
      )}
    </section>
  );
}

/**
 * Tabs to restore: the stored shells, in their places. A stored shell the server no longer has
 * (ended after the grace period) becomes a new shell that says so; with nothing stored, the lab's
 * live shells, else one new terminal.
 */
function initialTerminals(phase: Extract<LabPhase, { kind: "ready" }>): InitialTab[] {
  const live = phase.status?.terminals ?? [];
  const existing = new Set(live.map((x) => x.id));
  const stored = storedTerminals(phase.lab.id);
  if (stored.length && phase.status) return stored.map((id) => (existing.has(id) ? { tid: id } : { tid: null, notice: "shell-ended" }));
  const ids = live.filter((x) => !x.exited).map((x) => x.id);
  return ids.length ? ids.map((tid) => ({ tid })) : [{ tid: null }];
}

/** A running lab: terminal tabs and panes (two side by side when asked), the explorer below them. */
function ReadyLab({
  lab,
  initial,
  lang,
  wantTerminals,
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
  initial: InitialTab[];
  lang: Lang;
  wantTerminals: number;
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
  const announce = useAnnounce();
  const tabs = useTerminalTabs(lab, initial, storedView(lab.id));
  runRef.current = tabs.run;
  const activeTid = tabs.tabs.find((x) => x.key === tabs.active)?.tid ?? null;
  const onActive = useRef(onActiveTerminal);
  onActive.current = onActiveTerminal;
  useEffect(() => {
    onActive.current?.(activeTid);
  }, [activeTid]);
  const { showBeside } = tabs;
  const tidList = tabs.tabs.map((x) => x.tid ?? "").join(" ");
  const tids = useMemo(() => tidList.split(" "), [tidList]); // the explorer labels processes with these tab numbers
  useEffect(() => showBeside(wantTerminals), [wantTerminals, showBeside]);

  // shells that ended while the learner was away: say so once, here and to screen readers
  useEffect(() => {
    const ended = initial.flatMap((x, i) => (x.notice === "shell-ended" ? [i + 1] : []));
    if (ended.length) announce({ text: ended.map((n) => t.shellEndedShort(n)).join(" "), tone: "warning", toast: true });
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once per lab view
  }, []);

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
      <LabToolbar lab={lab} lang={lang} tabs={tabs} explorerOpen={explorerOpen} onToggleExplorer={onToggleExplorer} onReset={onReset} />
      <SplitPane
        vertical
        collapsed={!explorerOpen}
        storageKey="nslab:split:explorer"
        initial={0.55}
        min={0.2}
        max={0.85}
        label={t.resizeExplorer}
        first={<TerminalPanes lab={lab} lang={lang} tabs={tabs} probe={probe} onGone={onGone} onCommand={onCommand} />}
        second={<ExplorerSlot lab={lab} lang={lang} terminals={tids} focus={focus} onClearFocus={onClearFocus} />}
      />
    </>
  );
}
