"use client";
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "@/app/lib/api";
import { storeTerminals, type StoredLab, type TerminalView } from "@/app/lib/use-lab";
import type { TerminalHandle } from "../terminal/Terminal";
import type { TabInfo } from "./TerminalTabs";

export interface RunOptions {
  terminal?: number; // 1-based; default: the active terminal
  interrupt?: boolean; // Ctrl-C first
}

/** A tab to restore: a shell to reattach to, or a new one (with why, if it replaces one that ended). */
export interface InitialTab {
  tid: string | null;
  notice?: TabInfo["notice"];
}

let keySeq = 0;
const newKey = () => `t${Date.now().toString(36)}${(keySeq++).toString(36)}`;
const tab = (tid: string | null, extra: Partial<TabInfo> = {}): TabInfo => ({ key: newKey(), tid, exit: null, conn: "connecting", ...extra });

/**
 * A lab's terminal tabs: which exist and how they were shown (remembered, so a reload reattaches to
 * the same shells with the same tab active and the same pair side by side), which one is active,
 * the split view (two terminals at once), and typing into a terminal, also before its xterm exists.
 */
export function useTerminalTabs(lab: StoredLab, initial: InitialTab[], view: TerminalView) {
  const [tabs, setTabs] = useState<TabInfo[]>(() => initial.map((x) => tab(x.tid, x.notice ? { notice: x.notice } : {})));
  const [active, setActive] = useState<string | null>(() => (tabs[view.active] ?? tabs[0])?.key ?? null);
  const [pair, setPair] = useState<[string, string] | null>(() => {
    const p = view.pair && [tabs[view.pair[0]]?.key, tabs[view.pair[1]]?.key];
    return p && p[0] && p[1] && p[0] !== p[1] ? [p[0], p[1]] : null;
  });
  /** opens side by side by itself (when a step or a Run names a second terminal) until the learner closes it */
  const auto = useRef(!view.manual);
  const handles = useRef(new Map<string, TerminalHandle>());
  const pending = useRef(new Map<string, string[]>()); // input for terminals not mounted yet
  const tabsRef = useRef(tabs);
  tabsRef.current = tabs;
  const activeRef = useRef(active);
  activeRef.current = active;

  const split = !!pair && tabs.some((x) => x.key === pair[0]) && tabs.some((x) => x.key === pair[1]);
  const shown = split ? pair! : active ? [active] : [];

  // remember the terminals and the view, so a reload comes back to the same shells, as they were
  useEffect(() => {
    const kept = tabs.filter((x) => x.tid);
    const at = (k: string | null | undefined) => Math.max(0, kept.findIndex((x) => x.key === k));
    storeTerminals(
      lab.id,
      kept.map((x) => x.tid!),
      { active: at(active), pair: split ? [at(pair![0]), at(pair![1])] : null, ...(auto.current ? {} : { manual: true }) },
    );
  }, [lab.id, tabs, active, pair, split]);

  const patch = useCallback((key: string, p: Partial<TabInfo>) => {
    setTabs((ts) => ts.map((x) => (x.key === key ? { ...x, ...p } : x)));
  }, []);

  /** The tabs up to terminal n (1-based), made if missing; returns them. */
  const ensure = useCallback((n: number): TabInfo[] => {
    let ts = tabsRef.current;
    while (ts.length < n) ts = [...ts, tab(null)];
    if (ts !== tabsRef.current) {
      tabsRef.current = ts;
      setTabs(ts);
    }
    return ts;
  }, []);

  /** Shows a tab; in split view it takes the place of the other pane's terminal. */
  const select = useCallback((key: string) => {
    setActive(key);
    setPair((p) => (!p || p.includes(key) ? p : ordered(tabsRef.current, [p.includes(activeRef.current!) ? activeRef.current! : p[0], key])));
  }, []);

  const add = useCallback(() => {
    const t = tab(null, { focus: true });
    setTabs((ts) => [...ts, t]);
    select(t.key);
    return t.key;
  }, [select]);

  const close = useCallback(
    (key: string) => {
      const ts = tabsRef.current;
      const i = ts.findIndex((x) => x.key === key);
      if (i < 0) return;
      if (ts[i]!.tid) api.closeTerminal(lab, ts[i]!.tid!).catch(() => {});
      const rest = ts.filter((x) => x.key !== key);
      setTabs(rest);
      setPair((p) => (p?.includes(key) ? null : p));
      setActive((a) => (a === key ? (rest[Math.min(i, rest.length - 1)]?.key ?? null) : a));
    },
    [lab],
  );

  /** Terminal 1 and terminal n side by side (n ≥ 2), unless the learner closed the split view. */
  const showBeside = useCallback(
    (n: number, force = false) => {
      if (n < 2 || (!force && !auto.current)) return;
      const ts = ensure(n);
      setPair(ordered(ts, [ts[0]!.key, ts[n - 1]!.key]));
    },
    [ensure],
  );

  /** The split view on (terminal 1 beside the active one, or terminal 2) or off. */
  const setSplit = useCallback(
    (on: boolean) => {
      auto.current = on;
      if (!on) return setPair(null);
      const ts = ensure(2);
      const a = ts.find((x) => x.key === activeRef.current) ?? ts[0]!;
      const other = a.key === ts[0]!.key ? ts[1]! : ts[0]!;
      setPair(ordered(ts, [a.key, other.key]));
    },
    [ensure],
  );

  /** The xterm of a tab mounted (or unmounted): deliver what was typed before it existed. */
  const attach = useCallback((key: string, h: TerminalHandle | null) => {
    if (!h) {
      handles.current.delete(key);
      return;
    }
    handles.current.set(key, h);
    const queued = pending.current.get(key);
    if (queued) {
      pending.current.delete(key);
      for (const q of queued) h.type(q);
    }
  }, []);

  const type = useCallback((key: string, text: string) => {
    const h = handles.current.get(key);
    if (h) h.type(text);
    else pending.current.set(key, [...(pending.current.get(key) ?? []), text]);
  }, []);

  /** Run: a command line typed into terminal N (opened if needed, beside terminal 1), after Ctrl-C if asked. */
  const run = useCallback(
    (command: string, opts: RunOptions = {}) => {
      const n = opts.terminal && opts.terminal >= 1 ? opts.terminal : null;
      const ts = ensure(n ?? 1);
      const key = n ? ts[n - 1]!.key : (ts.find((x) => x.key === activeRef.current) ?? ts[0]!).key;
      if (n && n >= 2) showBeside(n);
      select(key);
      const line = command.replace(/\r?\n/g, "\r").replace(/\r+$/, "") + "\r";
      if (opts.interrupt) {
        type(key, "\x03");
        setTimeout(() => type(key, line), 150);
      } else type(key, line);
    },
    [ensure, showBeside, select, type],
  );

  const focus = useCallback((key: string | null) => {
    const k = key ?? activeRef.current ?? tabsRef.current[0]?.key;
    if (k) handles.current.get(k)?.focus();
    return !!k;
  }, []);

  return { tabs, active, shown, split, select, patch, add, close, attach, run, focus, showBeside, setSplit };
}

/** Two tab keys in tab order (terminal 1 on the left). */
function ordered(tabs: TabInfo[], [a, b]: [string, string]): [string, string] {
  const i = (k: string) => tabs.findIndex((x) => x.key === k);
  return i(a) <= i(b) ? [a, b] : [b, a];
}
