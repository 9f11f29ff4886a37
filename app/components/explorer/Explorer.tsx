"use client";
import "./explorer.css";
import { useCallback, useEffect, useRef, useState } from "react";
import type { Lang } from "@/app/i18n/dict";
import type { ExplorerFocus } from "../lesson/widgets";
import { ExplorerStatus } from "./ExplorerStatus";
import { ExplorerTabs, TABS, type Tab } from "./ExplorerTabs";
import { liveMountPids } from "./model/processes";
import { MountsView } from "./MountsView";
import { NamespacesView } from "./NamespacesView";
import { ProcessesView } from "./ProcessesView";
import { strings } from "./strings";
import { TraceView } from "./TraceView";
import { UsersView } from "./UsersView";
import { useExplorerFeed } from "./use-explorer-feed";
import { useExplorerFocus } from "./use-explorer-focus";

const TAB_KEY = "nslab:explorer-tab";
const NO_TERMINALS: string[] = [];

/**
 * The live namespace explorer of one lab: what the kernel holds for it (processes, namespaces,
 * mounts, id maps) and the system calls nslab made, updated as the learner types.
 * Opens WS /api/labs/:id/explorer?token=… on the same origin and reconnects by itself. A lesson
 * step can point it at something (`focus`): a tab, and what to highlight there.
 */
export function Explorer({
  labId,
  token,
  lang,
  focus,
  onClearFocus,
  terminals = NO_TERMINALS,
}: {
  labId: string;
  token: string;
  lang?: Lang;
  focus?: ExplorerFocus | null;
  onClearFocus?(): void;
  /** the learner's terminal ids in tab order (processes are labelled with these numbers) */
  terminals?: string[];
}) {
  const t = strings(lang);
  const [tab, setTab] = useState<Tab>("processes");
  const [mountPids, setMountPids] = useState<number[]>([]);
  const feed = useExplorerFeed(labId, token, tab === "mounts" ? mountPids : []);
  const { snap, conn } = feed;

  // the tab chosen last time (after mount: the server render knows no storage)
  useEffect(() => {
    try {
      const saved = window.localStorage.getItem(TAB_KEY) as Tab | null;
      if (saved && (TABS as readonly string[]).includes(saved)) setTab(saved);
    } catch {}
  }, []);
  const choose = useCallback((k: Tab) => {
    setTab(k);
    try {
      window.localStorage.setItem(TAB_KEY, k);
    } catch {}
  }, []);

  // mounts: a live process always (a chosen one that ended gives way to the default choice)
  useEffect(() => {
    if (tab !== "mounts" || !snap) return;
    const next = liveMountPids(snap, mountPids, terminals);
    if (next.length !== mountPids.length || next.some((p, i) => p !== mountPids[i])) setMountPids(next);
  }, [tab, snap, mountPids, terminals]);

  const panel = useRef<HTMLDivElement>(null);
  useExplorerFocus({ panel, focus, snap, tab, setTab, setMountPids });

  const liveNs = snap ? snap.namespaces.filter((n) => n.processes.length > 0).length : 0;

  return (
    <div className="@container flex h-full min-h-0 flex-col bg-surface text-fg" data-testid="explorer" data-pane="explorer" data-lab-id={labId} data-conn={conn.kind}>
      <div className="flex shrink-0 flex-wrap items-center gap-x-3 gap-y-1 border-b border-line px-2 py-1">
        <ExplorerTabs tab={tab} onTab={choose} traceCount={feed.trace.length} t={t} />
        <div className="ml-auto flex items-center gap-3 text-[0.8667rem]">
          {snap && <span className="hidden text-muted sm:inline">{t.counts(snap.processes.length, liveNs)}</span>}
          <ExplorerStatus conn={conn} t={t} onRetry={feed.reconnectNow} />
        </div>
      </div>
      {focus && (
        <div className="flex shrink-0 items-start gap-2 border-b border-accent/30 bg-accent/[0.07] px-3 py-1.5 text-[0.9333rem]" data-testid="explorer-focus" data-tab={focus.tab}>
          <span className="mt-0.5 shrink-0 text-[0.8667rem] font-semibold text-accent">{t.fromLesson}</span>
          <div className="prose-lesson min-w-0 flex-1 [&_p]:m-0" dangerouslySetInnerHTML={{ __html: focus.captionHtml }} />
          <button type="button" className="btn-ghost btn-sm -my-0.5 shrink-0" onClick={onClearFocus} aria-label={t.clearFocus} title={t.clearFocus} data-testid="explorer-focus-clear">
            ×
          </button>
        </div>
      )}
      <div
        ref={panel}
        role="tabpanel"
        id={`nsx-panel-${tab}`}
        aria-labelledby={`nsx-tab-${tab}`}
        className={`relative min-h-0 flex-1 ${tab === "trace" ? "flex flex-col" : "overflow-auto"}`}
        tabIndex={tab === "trace" ? undefined : 0}
      >
        {tab === "trace" ? (
          <TraceView trace={feed.trace} t={t} />
        ) : !snap ? (
          <p className="px-4 py-6 text-[0.9333rem] text-muted">{conn.kind === "closed" ? t.gone : t.waiting}</p>
        ) : tab === "processes" ? (
          <ProcessesView snap={snap} changes={feed.changes} terminals={terminals} t={t} />
        ) : tab === "namespaces" ? (
          <NamespacesView snap={snap} changes={feed.changes} t={t} />
        ) : tab === "mounts" ? (
          <MountsView snap={snap} mounts={feed.mounts} truncated={feed.truncated} pids={mountPids} onPids={setMountPids} t={t} />
        ) : (
          <UsersView snap={snap} t={t} />
        )}
      </div>
    </div>
  );
}
