"use client";
import { useRef, type KeyboardEvent } from "react";
import { dict, type Lang } from "@/app/i18n/dict";
import type { ConnectionState } from "@/app/lib/terminal-connection";
import { Icon } from "../ui/Icon";

export interface TabInfo {
  key: string;
  tid: string | null;
  exit: { code: number | null; signal: string | null } | null;
  conn: ConnectionState["kind"];
  focus?: boolean; // opened by the learner: focus it when ready
}

/** The terminal tabs: select, close (×), add (+). Arrow keys move between tabs. */
export function TerminalTabs({
  tabs,
  active,
  lang,
  onSelect,
  onClose,
  onAdd,
}: {
  tabs: TabInfo[];
  active: string | null;
  lang: Lang;
  onSelect(key: string): void;
  onClose(key: string): void;
  onAdd(): void;
}) {
  const t = dict(lang);
  const refs = useRef(new Map<string, HTMLButtonElement>());

  const onKey = (e: KeyboardEvent, i: number) => {
    let j = -1;
    if (e.key === "ArrowRight") j = (i + 1) % tabs.length;
    else if (e.key === "ArrowLeft") j = (i - 1 + tabs.length) % tabs.length;
    else if (e.key === "Home") j = 0;
    else if (e.key === "End") j = tabs.length - 1;
    else if (e.key === "Delete") {
      e.preventDefault();
      onClose(tabs[i]!.key);
      return;
    }
    if (j < 0) return;
    e.preventDefault();
    const k = tabs[j]!.key;
    onSelect(k);
    refs.current.get(k)?.focus();
  };

  return (
    <div className="flex min-w-0 items-center gap-0.5 overflow-x-auto">
      <div role="tablist" aria-label={t.terminals} className="flex min-w-0 items-center gap-0.5">
        {tabs.map((tab, i) => {
          const selected = tab.key === active;
          const exitText = tab.exit ? (tab.exit.signal ?? String(tab.exit.code ?? "?")) : null;
          return (
            <div
              key={tab.key}
              className={
                "group flex h-8 items-center rounded-md text-[0.8667rem] transition-colors " +
                (selected ? "bg-surface-3 text-fg" : "text-muted hover:bg-surface-2 hover:text-fg")
              }
            >
              <button
                ref={(el) => {
                  if (el) refs.current.set(tab.key, el);
                  else refs.current.delete(tab.key);
                }}
                type="button"
                role="tab"
                id={`tab-${tab.key}`}
                aria-selected={selected}
                aria-controls={`panel-${tab.key}`}
                tabIndex={selected ? 0 : -1}
                onClick={() => onSelect(tab.key)}
                onKeyDown={(e) => onKey(e, i)}
                data-testid="terminal-tab"
                data-terminal-id={tab.tid ?? ""}
                data-conn={tab.conn}
                data-exited={tab.exit ? "true" : "false"}
                className="flex h-full items-center gap-1.5 rounded-md pl-2.5 pr-1"
              >
                <Icon name="terminal" size={14} className="opacity-70" />
                <span>{t.terminal(i + 1)}</span>
                <StatusDot tab={tab} />
                {exitText !== null && (
                  <span
                    className={
                      "rounded px-1 font-mono text-[0.7333rem] " +
                      (tab.exit?.code === 0 ? "bg-surface-2 text-muted" : "bg-danger-soft text-danger")
                    }
                    title={t.exitedTitle(exitText)}
                    data-testid="terminal-exit"
                  >
                    {t.exited(exitText)}
                  </span>
                )}
              </button>
              <button
                type="button"
                onClick={() => onClose(tab.key)}
                aria-label={t.closeTerminal(i + 1)}
                title={t.closeTerminal(i + 1)}
                data-testid="close-terminal"
                tabIndex={selected ? 0 : -1}
                className="mr-1 inline-flex size-5 items-center justify-center rounded text-subtle opacity-60 hover:bg-surface-2 hover:text-fg hover:opacity-100 focus-visible:opacity-100 group-hover:opacity-100"
              >
                <Icon name="x" size={12} strokeWidth={1.75} />
              </button>
            </div>
          );
        })}
      </div>
      <button
        type="button"
        onClick={onAdd}
        aria-label={t.addTerminal}
        title={t.addTerminal}
        data-testid="add-terminal"
        className="ml-0.5 inline-flex size-7 shrink-0 items-center justify-center rounded-md text-muted hover:bg-surface-2 hover:text-fg"
      >
        <Icon name="plus" size={15} />
      </button>
    </div>
  );
}

function StatusDot({ tab }: { tab: TabInfo }) {
  if (tab.conn === "reconnecting" || tab.conn === "connecting")
    return <span className="animate-soft-pulse inline-block size-1.5 rounded-full bg-warning" aria-hidden="true" />;
  if (tab.conn === "closed") return <span className="inline-block size-1.5 rounded-full bg-subtle" aria-hidden="true" />;
  return null;
}
