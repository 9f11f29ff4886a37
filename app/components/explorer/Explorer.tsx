"use client";
import "./explorer.css";
import { useCallback, useEffect, useRef, useState, type KeyboardEvent } from "react";
import type { Lang } from "@/app/i18n/dict";
import { labSocketUrl } from "@/app/lib/api";
import type { ExplorerServerMessage, LabSnapshot, MountEntry, TraceEntry } from "@/lib/protocol";
import { ExplorerConnection, type ExplorerConnState } from "./connection";
import { ChangeTracker } from "./model/changes";
import { mergeTrace } from "./model/trace";
import { MountsView } from "./MountsView";
import { NamespacesView } from "./NamespacesView";
import { ProcessesView } from "./ProcessesView";
import { strings } from "./strings";
import { TraceView } from "./TraceView";
import { UsersView } from "./UsersView";

const TABS = ["processes", "namespaces", "mounts", "users", "trace"] as const;
type Tab = (typeof TABS)[number];
const TAB_KEY = "nslab:explorer-tab";

/**
 * The live namespace explorer of one lab: what the kernel holds for it (processes, namespaces,
 * mounts, id maps) and the system calls nslab made, updated as the learner types.
 * Opens WS /api/labs/:id/explorer?token=… on the same origin and reconnects by itself.
 */
export function Explorer({ labId, token, lang }: { labId: string; token: string; lang?: Lang }) {
  const t = strings(lang);
  const [snap, setSnap] = useState<LabSnapshot | null>(null);
  const [trace, setTrace] = useState<TraceEntry[]>([]);
  const [mounts, setMounts] = useState<Map<number, MountEntry[]>>(() => new Map());
  const [conn, setConn] = useState<ExplorerConnState>({ kind: "connecting" });
  const [tab, setTab] = useState<Tab>("processes");
  const [mountPids, setMountPids] = useState<number[]>([]);
  const [, setTick] = useState(0);
  const tracker = useRef(new ChangeTracker());
  const connection = useRef<ExplorerConnection | null>(null);
  const tabRefs = useRef(new Map<Tab, HTMLButtonElement>());

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

  useEffect(() => {
    tracker.current.reset();
    setSnap(null);
    setTrace([]);
    setMounts(new Map());
    const onMessage = (m: ExplorerServerMessage) => {
      if (m.type === "snapshot") {
        tracker.current.update(m.snapshot, Date.now());
        setSnap(m.snapshot);
      } else if (m.type === "trace") setTrace((have) => mergeTrace(have, m.entries));
      else if (m.type === "mounts") setMounts((have) => new Map(have).set(m.pid, m.mounts));
    };
    const c = new ExplorerConnection({ url: () => labSocketUrl({ id: labId, token }, "explorer"), onMessage, onState: setConn });
    connection.current = c;
    // deferred: React's development double-run of effects would otherwise open and drop a socket
    const start = setTimeout(() => c.connect(), 0);
    return () => {
      clearTimeout(start);
      c.dispose();
      connection.current = null;
    };
  }, [labId, token]);

  // re-render when the next highlight is due to end
  useEffect(() => {
    const due = tracker.current.nextExpiry();
    if (due === null) return;
    const timer = setTimeout(() => setTick((n) => n + 1), Math.max(0, due - Date.now()) + 30);
    return () => clearTimeout(timer);
  });

  // mounts: a sensible first choice (the newest shell, else init), followed only while the tab shows
  useEffect(() => {
    if (tab !== "mounts" || !snap || mountPids.length) return;
    const shells = snap.processes.filter((p) => p.comm === "bash");
    const pick = shells.at(-1) ?? snap.processes.find((p) => p.nspid[1] === 1) ?? snap.processes[0];
    if (pick) setMountPids([pick.hostPid]);
  }, [tab, snap, mountPids.length]);
  useEffect(() => {
    connection.current?.setMountPids(tab === "mounts" ? mountPids : []);
  }, [tab, mountPids, conn.kind]);

  const onTabKey = (e: KeyboardEvent, i: number) => {
    let j = -1;
    if (e.key === "ArrowRight") j = (i + 1) % TABS.length;
    else if (e.key === "ArrowLeft") j = (i - 1 + TABS.length) % TABS.length;
    else if (e.key === "Home") j = 0;
    else if (e.key === "End") j = TABS.length - 1;
    if (j < 0) return;
    e.preventDefault();
    choose(TABS[j]!);
    tabRefs.current.get(TABS[j]!)?.focus();
  };

  const changes = tracker.current.view(Date.now());
  const liveNs = snap ? snap.namespaces.filter((n) => n.processes.length > 0).length : 0;

  return (
    <div className="@container flex h-full min-h-0 flex-col bg-surface text-fg" data-testid="explorer" data-lab-id={labId} data-conn={conn.kind}>
      <div className="flex shrink-0 flex-wrap items-center gap-x-3 gap-y-1 border-b border-line px-2 py-1">
        <div role="tablist" aria-label={t.explorer} className="flex min-w-0 flex-wrap items-center gap-0.5">
          {TABS.map((k, i) => (
            <button
              key={k}
              ref={(el) => {
                if (el) tabRefs.current.set(k, el);
                else tabRefs.current.delete(k);
              }}
              type="button"
              role="tab"
              id={`nsx-tab-${k}`}
              aria-selected={tab === k}
              aria-controls={tab === k ? `nsx-panel-${k}` : undefined}
              tabIndex={tab === k ? 0 : -1}
              onClick={() => choose(k)}
              onKeyDown={(e) => onTabKey(e, i)}
              data-testid={`explorer-tab-${k}`}
              className={
                "h-8 rounded-md px-2.5 text-[0.9333rem] transition-colors " +
                (tab === k ? "bg-surface-3 font-medium text-fg" : "text-muted hover:bg-surface-2 hover:text-fg")
              }
            >
              {t.tabs[k]}
              {k === "trace" && trace.length > 0 && <span className="ml-1.5 font-mono text-[0.8667rem] text-subtle">{trace.length}</span>}
            </button>
          ))}
        </div>
        <div className="ml-auto flex items-center gap-3 text-[0.8667rem]">
          {snap && <span className="hidden text-muted sm:inline">{t.counts(snap.processes.length, liveNs)}</span>}
          <Status conn={conn} t={t} onRetry={() => connection.current?.reconnectNow()} />
        </div>
      </div>
      <div
        role="tabpanel"
        id={`nsx-panel-${tab}`}
        aria-labelledby={`nsx-tab-${tab}`}
        className={`min-h-0 flex-1 ${tab === "trace" ? "flex flex-col" : "overflow-auto"}`}
        tabIndex={tab === "trace" ? undefined : -1}
      >
        {tab === "trace" ? (
          <TraceView trace={trace} t={t} />
        ) : !snap ? (
          <p className="px-4 py-6 text-[0.9333rem] text-muted">{conn.kind === "closed" ? t.gone : t.waiting}</p>
        ) : tab === "processes" ? (
          <ProcessesView snap={snap} changes={changes} t={t} />
        ) : tab === "namespaces" ? (
          <NamespacesView snap={snap} changes={changes} t={t} />
        ) : tab === "mounts" ? (
          <MountsView snap={snap} mounts={mounts} pids={mountPids} onPids={setMountPids} t={t} />
        ) : (
          <UsersView snap={snap} t={t} />
        )}
      </div>
    </div>
  );
}

function Status({ conn, t, onRetry }: { conn: ExplorerConnState; t: ReturnType<typeof strings>; onRetry(): void }) {
  const [, setNow] = useState(0);
  useEffect(() => {
    if (conn.kind !== "reconnecting") return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [conn.kind]);
  if (conn.kind === "open")
    return (
      <span className="flex items-center gap-1.5 text-success" role="status" data-testid="explorer-status">
        <span className="size-2 rounded-full bg-success motion-safe:animate-pulse" aria-hidden="true" />
        {t.live}
      </span>
    );
  if (conn.kind === "closed")
    return (
      <span className="text-danger" role="status" data-testid="explorer-status">
        {t.gone}
      </span>
    );
  if (conn.kind === "connecting")
    return (
      <span className="text-muted" role="status" data-testid="explorer-status">
        {t.connecting}
      </span>
    );
  const secs = Math.max(0, Math.ceil((conn.retryAt - Date.now()) / 1000));
  return (
    <span className="flex items-center gap-2 text-warning" role="status" data-testid="explorer-status">
      {t.reconnecting(secs)}
      <button type="button" className="btn-ghost btn-sm" onClick={onRetry}>
        {t.reconnectNow}
      </button>
    </span>
  );
}
