"use client";
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "@/app/lib/api";
import { storeTerminals, type StoredLab } from "@/app/lib/use-lab";
import type { TerminalHandle } from "../terminal/Terminal";
import type { TabInfo } from "./TerminalTabs";

export interface RunOptions {
  terminal?: number; // 1-based; default: the active terminal
  interrupt?: boolean; // Ctrl-C first
}

let keySeq = 0;
const newKey = () => `t${Date.now().toString(36)}${(keySeq++).toString(36)}`;
const tab = (tid: string | null, focus = false): TabInfo => ({ key: newKey(), tid, exit: null, conn: "connecting", ...(focus ? { focus } : {}) });

/**
 * A lab's terminal tabs: which exist (remembered so a reload reattaches to the same shells), which
 * is active, and typing into one, also before its xterm exists.
 */
export function useTerminalTabs(lab: StoredLab, initial: (string | null)[]) {
  const [tabs, setTabs] = useState<TabInfo[]>(() => initial.map((tid) => tab(tid)));
  const [active, setActive] = useState<string | null>(() => tabs[0]?.key ?? null);
  const handles = useRef(new Map<string, TerminalHandle>());
  const pending = useRef(new Map<string, string[]>()); // input for terminals not mounted yet
  const tabsRef = useRef(tabs);
  tabsRef.current = tabs;
  const activeRef = useRef(active);
  activeRef.current = active;

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

  const add = useCallback((): string => {
    const t = tab(null, true);
    setTabs((ts) => [...ts, t]);
    setActive(t.key);
    return t.key;
  }, []);

  const close = useCallback(
    (key: string) => {
      const ts = tabsRef.current;
      const i = ts.findIndex((x) => x.key === key);
      if (i < 0) return;
      if (ts[i]!.tid) api.closeTerminal(lab, ts[i]!.tid!).catch(() => {});
      const rest = ts.filter((x) => x.key !== key);
      setTabs(rest);
      setActive((a) => (a === key ? (rest[Math.min(i, rest.length - 1)]?.key ?? null) : a));
    },
    [lab],
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

  /** The tab of terminal N (1-based), opening terminals up to N; or the active one. */
  const target = useCallback((n: number | undefined): string => {
    let ts = tabsRef.current;
    let key: string | undefined;
    if (n && n >= 1) {
      while (ts.length < n) ts = [...ts, tab(null)];
      key = ts[n - 1]!.key;
    } else {
      key = ts.find((x) => x.key === activeRef.current)?.key ?? ts[0]?.key;
      if (!key) ts = [tab(null)];
      key ??= ts[0]!.key;
    }
    if (ts !== tabsRef.current) {
      tabsRef.current = ts;
      setTabs(ts);
    }
    return key;
  }, []);

  /** Run: a command line typed into a terminal, after Ctrl-C if asked. */
  const run = useCallback(
    (command: string, opts: RunOptions = {}) => {
      const key = target(opts.terminal);
      setActive(key);
      const line = command.replace(/\r?\n/g, "\r").replace(/\r+$/, "") + "\r";
      if (opts.interrupt) {
        type(key, "\x03");
        setTimeout(() => type(key, line), 150);
      } else type(key, line);
    },
    [target, type],
  );

  const focus = useCallback((key: string | null) => {
    const k = key ?? activeRef.current ?? tabsRef.current[0]?.key;
    if (k) handles.current.get(k)?.focus();
    return !!k;
  }, []);

  return { tabs, active, setActive, patch, add, close, attach, run, focus };
}
