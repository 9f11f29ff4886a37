"use client";
import { useEffect, useLayoutEffect, useRef, type RefObject } from "react";
import type { LabSnapshot } from "@/lib/protocol";
import type { ExplorerFocus } from "../lesson/widgets";
import { focusSelectors } from "./focus";

/**
 * What a lesson step asks the Explorer to show (an explore block): switch to its tab, pick the
 * processes whose mount tables to compare, and mark the targets in whatever the current view
 * draws with `data-focus`. The views re-render rows on their own (a new snapshot, a picked
 * process), so a MutationObserver marks new rows too; the first marked element is scrolled into
 * view once per request and tab.
 */
export function useExplorerFocus(o: {
  panel: RefObject<HTMLDivElement | null>;
  focus: ExplorerFocus | null | undefined;
  snap: LabSnapshot | null;
  tab: string;
  setTab(tab: ExplorerFocus["tab"]): void;
  setMountPids(pids: number[]): void;
}) {
  const { panel, focus, snap, tab, setTab, setMountPids } = o;
  const seq = focus?.seq ?? 0;
  useEffect(() => {
    if (focus) setTab(focus.tab);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once per request
  }, [seq]);

  const mountsFor = useRef(0);
  useEffect(() => {
    if (!focus || !snap || mountsFor.current === focus.seq) return;
    const want = focus.targets.find((x) => x.kind === "mounts");
    if (!want || want.kind !== "mounts") return void (mountsFor.current = focus.seq);
    const hosts = want.pids.map((pid) => snap.processes.find((p) => p.nspid[1] === pid)?.hostPid);
    if (hosts.every((h): h is number => h !== undefined)) {
      setMountPids(hosts);
      mountsFor.current = focus.seq;
    }
  }, [focus, snap, setMountPids]);

  const scrolledFor = useRef("");
  useLayoutEffect(() => {
    const root = panel.current;
    if (!root) return;
    const apply = () => {
      const want = new Set(focus && snap ? focusSelectors(focus.targets, snap, tab).flatMap((sel) => [...root.querySelectorAll<HTMLElement>(sel.css)].filter(sel.test ?? (() => true))) : []);
      for (const el of root.querySelectorAll<HTMLElement>("[data-focus]")) if (!want.has(el)) el.removeAttribute("data-focus");
      for (const el of want) el.setAttribute("data-focus", "");
      const at = `${focus?.seq}:${tab}`;
      if (focus && want.size && scrolledFor.current !== at) {
        scrolledFor.current = at;
        [...want][0]!.scrollIntoView({ block: "nearest", inline: "nearest" });
      }
    };
    apply();
    if (!focus) return;
    let queued = 0;
    const mo = new MutationObserver(() => {
      if (queued) return;
      queued = requestAnimationFrame(() => {
        queued = 0;
        apply();
      });
    });
    mo.observe(root, { childList: true, subtree: true });
    return () => {
      mo.disconnect();
      cancelAnimationFrame(queued);
    };
  });
}
