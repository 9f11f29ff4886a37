"use client";
import { useRef, type KeyboardEvent } from "react";
import type { Strings } from "./strings";

export const TABS = ["processes", "namespaces", "mounts", "users", "trace"] as const;
export type Tab = (typeof TABS)[number];

/** The explorer's views as tabs; arrow keys, Home and End move between them. */
export function ExplorerTabs({ tab, onTab, traceCount, t }: { tab: Tab; onTab(k: Tab): void; traceCount: number; t: Strings }) {
  const refs = useRef(new Map<Tab, HTMLButtonElement>());
  const onKey = (e: KeyboardEvent, i: number) => {
    let j = -1;
    if (e.key === "ArrowRight") j = (i + 1) % TABS.length;
    else if (e.key === "ArrowLeft") j = (i - 1 + TABS.length) % TABS.length;
    else if (e.key === "Home") j = 0;
    else if (e.key === "End") j = TABS.length - 1;
    if (j < 0) return;
    e.preventDefault();
    onTab(TABS[j]!);
    refs.current.get(TABS[j]!)?.focus();
  };
  return (
    <div role="tablist" aria-label={t.explorer} className="flex min-w-0 flex-wrap items-center gap-0.5">
      {TABS.map((k, i) => (
        <button
          key={k}
          ref={(el) => {
            if (el) refs.current.set(k, el);
            else refs.current.delete(k);
          }}
          type="button"
          role="tab"
          id={`nsx-tab-${k}`}
          aria-selected={tab === k}
          aria-controls={tab === k ? `nsx-panel-${k}` : undefined}
          tabIndex={tab === k ? 0 : -1}
          onClick={() => onTab(k)}
          onKeyDown={(e) => onKey(e, i)}
          data-testid={`explorer-tab-${k}`}
          className={
            "h-8 rounded-md px-2.5 text-[0.9333rem] transition-colors " +
            (tab === k ? "bg-surface-3 font-medium text-fg" : "text-muted hover:bg-surface-2 hover:text-fg")
          }
        >
          {t.tabs[k]}
          {k === "trace" && traceCount > 0 && <span className="ml-1.5 font-mono text-[0.8667rem] text-subtle">{traceCount}</span>}
        </button>
      ))}
    </div>
  );
}
