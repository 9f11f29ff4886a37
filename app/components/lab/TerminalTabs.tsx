"use client";
import { useRef, type KeyboardEvent, type MouseEvent } from "react";
import { dict, type Lang } from "@/app/i18n/dict";
import type { ConnectionState } from "@/app/lib/terminal-connection";
import { Icon } from "../ui/Icon";

export interface TabInfo {
  key: string;
  tid: string | null;
  exit: { code: number | null; signal: string | null } | null;
  conn: ConnectionState["kind"];
  focus?: boolean; // opened by the learner: focus it when ready
  /** why this tab's shell is not the one the learner had (shown over the terminal) */
  notice?: "shell-ended";
}

/**
 * The terminal tabs: select, close, add. The tab list holds tabs only (ARIA); a tab's × is part of
 * the tab for the mouse, and Delete closes the focused tab. Arrow keys, Home and End move.
 */
export function TerminalTabs({
  tabs,
  active,
  shown,
  lang,
  onSelect,
  onClose,
  onAdd,
}: {
  tabs: TabInfo[];
  active: string | null;
  /** tabs whose terminal is on screen (two in split view) */
  shown: string[];
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
          const onScreen = shown.includes(tab.key);
          const exitText = tab.exit ? (tab.exit.signal ?? String(tab.exit.code ?? "?")) : null;
          const close = (e: MouseEvent) => {
            e.stopPropagation();
            onClose(tab.key);
          };
          return (
            <button
              key={tab.key}
              ref={(el) => {
                if (el) refs.current.set(tab.key, el);
                else refs.current.delete(tab.key);
              }}
              type="button"
              role="tab"
              id={`tab-${tab.key}`}
              aria-selected={selected}
              aria-controls={`panel-${tab.key}`}
              aria-keyshortcuts="Delete"
              title={`${t.terminal(i + 1)} · ${t.closeTerminalKey}`}
              tabIndex={selected ? 0 : -1}
              onClick={() => onSelect(tab.key)}
              onKeyDown={(e) => onKey(e, i)}
              data-testid="terminal-tab"
              data-terminal-id={tab.tid ?? ""}
              data-conn={tab.conn}
              data-exited={tab.exit ? "true" : "false"}
              className={
                "group flex h-8 items-center gap-1.5 rounded-md pl-2.5 pr-0.5 text-[0.8667rem] transition-colors " +
                (selected ? "bg-surface-3 text-fg" : onScreen ? "bg-surface-2 text-fg" : "text-muted hover:bg-surface-2 hover:text-fg")
              }
            >
              <Icon name="terminal" size={14} className="opacity-70" />
              <span className="whitespace-nowrap">
                <span className="hidden sm:inline">{t.terminal(i + 1)}</span>
                <span className="sm:hidden">{i + 1}</span>
              </span>
              <StatusDot tab={tab} />
              {exitText !== null && (
                <span
                  className={"rounded px-1 font-mono text-[0.7333rem] " + (tab.exit?.code === 0 ? "bg-surface-2 text-muted" : "bg-danger-soft text-danger")}
                  title={t.exitedTitle(exitText)}
                  data-testid="terminal-exit"
                >
                  {t.exited(exitText)}
                </span>
              )}
              <span
                aria-hidden="true"
                onClick={close}
                data-testid="close-terminal"
                className="inline-flex size-[24px] items-center justify-center rounded text-muted opacity-70 hover:bg-surface-2 hover:text-fg hover:opacity-100 group-hover:opacity-100"
              >
                <Icon name="x" size={12} strokeWidth={1.75} />
              </span>
            </button>
          );
        })}
      </div>
      <button
        type="button"
        onClick={onAdd}
        aria-label={t.addTerminal}
        title={t.addTerminal}
        data-testid="add-terminal"
        className="ml-0.5 inline-flex size-8 shrink-0 items-center justify-center rounded-md text-muted hover:bg-surface-2 hover:text-fg"
      >
        <Icon name="plus" size={15} />
      </button>
    </div>
  );
}

function StatusDot({ tab }: { tab: TabInfo }) {
  if (tab.conn === "reconnecting" || tab.conn === "connecting")
    return <span className="animate-soft-pulse inline-block size-1.5 rounded-full bg-warning" aria-hidden="true" />;
  if (tab.conn === "closed") return <span className="inline-block size-1.5 rounded-full bg-muted" aria-hidden="true" />;
  return null;
}
