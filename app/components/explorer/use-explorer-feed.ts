"use client";
import { useEffect, useRef, useState } from "react";
import { labSocketUrl } from "@/app/lib/api";
import type { ExplorerServerMessage, LabSnapshot, MountEntry, TraceEntry } from "@/lib/protocol";
import { ExplorerConnection, type ExplorerConnState } from "./connection";
import { ChangeTracker } from "./model/changes";
import { mergeTrace } from "./model/trace";

/**
 * What the explorer socket of a lab delivers, as React state: the latest snapshot (with a change
 * tracker for highlights), the trace, the mount tables followed (`mountPids`), and the link's state.
 */
export function useExplorerFeed(labId: string, token: string, mountPids: number[]) {
  const [snap, setSnap] = useState<LabSnapshot | null>(null);
  const [trace, setTrace] = useState<TraceEntry[]>([]);
  const [mounts, setMounts] = useState<Map<number, MountEntry[]>>(() => new Map());
  // the processes whose table the server cut (more mounts than it reads)
  const [truncated, setTruncated] = useState<ReadonlySet<number>>(() => new Set());
  const [conn, setConn] = useState<ExplorerConnState>({ kind: "connecting" });
  const [, setTick] = useState(0);
  const tracker = useRef(new ChangeTracker());
  const connection = useRef<ExplorerConnection | null>(null);

  useEffect(() => {
    tracker.current.reset();
    setSnap(null);
    setTrace([]);
    setMounts(new Map());
    setTruncated(new Set());
    const onMessage = (m: ExplorerServerMessage) => {
      if (m.type === "snapshot") {
        tracker.current.update(m.snapshot, Date.now());
        setSnap(m.snapshot);
      } else if (m.type === "trace") setTrace((have) => mergeTrace(have, m.entries));
      else if (m.type === "mounts") {
        setMounts((have) => new Map(have).set(m.pid, m.mounts));
        setTruncated((have) => {
          if (!!m.truncated === have.has(m.pid)) return have;
          const next = new Set(have);
          if (m.truncated) next.add(m.pid);
          else next.delete(m.pid);
          return next;
        });
      }
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

  useEffect(() => {
    connection.current?.setMountPids(mountPids);
  }, [mountPids, conn.kind]);

  return {
    snap,
    trace,
    mounts,
    truncated,
    conn,
    changes: tracker.current.view(Date.now()),
    reconnectNow: () => connection.current?.reconnectNow(),
  };
}
