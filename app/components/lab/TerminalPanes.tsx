"use client";
import { dict, type Lang } from "@/app/i18n/dict";
import type { StoredLab } from "@/app/lib/use-lab";
import { Terminal } from "../terminal/Terminal";
import { Icon } from "../ui/Icon";
import type { TabInfo } from "./TerminalTabs";
import type { useTerminalTabs } from "./use-terminal-tabs";

type Tabs = ReturnType<typeof useTerminalTabs>;

/**
 * The terminals: the active one, or two side by side (stacked when the lab pane is narrow). Every
 * tab's terminal stays mounted, so switching never drops a shell's screen.
 */
/** What every pane needs from the lab panel. */
interface PanesProps {
  lab: StoredLab;
  lang: Lang;
  tabs: Tabs;
  probe(): Promise<"ok" | "gone" | "unknown">;
  onGone(): void;
  onCommand(exitCode: number): void;
}

export function TerminalPanes({ lab, lang, tabs, probe, onGone, onCommand }: PanesProps) {
  const t = dict(lang);
  return (
    <div className="nslab-panes relative min-h-0 flex-1 bg-term-bg" data-testid="terminal-split" data-split={tabs.split ? "on" : "off"}>
      {tabs.tabs.map((tab, i) => (
        <TerminalPane
          key={tab.key}
          tab={tab}
          index={i + 1}
          slot={tabs.split ? (tab.key === tabs.shown[0] ? "a" : tab.key === tabs.shown[1] ? "b" : null) : tab.key === tabs.active ? "all" : null}
          lab={lab}
          lang={lang}
          tabs={tabs}
          probe={probe}
          onGone={onGone}
          onCommand={onCommand}
        />
      ))}
      {tabs.tabs.length === 0 && (
        <div className="absolute inset-0 flex items-center justify-center">
          <button type="button" className="btn-secondary" onClick={tabs.add} data-testid="terminal-empty-new">
            <Icon name="plus" size={14} /> {t.newTerminal}
          </button>
        </div>
      )}
    </div>
  );
}

/** One tab's panel: its terminal, in the whole area, one half of it, or hidden. */
function TerminalPane({
  tab,
  index,
  slot,
  lab,
  lang,
  tabs,
  probe,
  onGone,
  onCommand,
}: PanesProps & {
  tab: TabInfo;
  index: number;
  slot: "all" | "a" | "b" | null;
}) {
  const t = dict(lang);
  const key = tab.key;
  return (
    <div
      id={`panel-${key}`}
      role="tabpanel"
      aria-labelledby={`tab-${key}`}
      className="nslab-pane flex flex-col"
      data-slot={slot ?? undefined}
      data-active={tab.key === tabs.active ? "true" : undefined}
      hidden={!slot}
      onFocusCapture={() => tab.key !== tabs.active && tabs.select(tab.key)}
    >
      {tab.notice === "shell-ended" && (
        <p className="flex shrink-0 items-start gap-2 border-b border-warning/30 bg-warning-soft px-3 py-1.5 text-[0.8667rem] text-fg" data-testid="terminal-notice" data-reason="shell-ended">
          <Icon name="alert" size={14} className="mt-0.5 shrink-0 text-warning" />
          <span className="min-w-0 flex-1">{t.shellEnded(index)}</span>
          <button type="button" className="btn-ghost btn-sm -my-0.5 shrink-0" onClick={() => tabs.patch(key, { notice: undefined })}>
            {t.close}
          </button>
        </p>
      )}
      <div className="relative min-h-0 flex-1">
        <Terminal
          ref={(h) => tabs.attach(key, h)}
          lab={lab}
          initialTerminalId={tab.tid}
          index={index}
          visible={!!slot}
          autoFocus={tab.focus}
          lang={lang}
          onReady={(tid) => tabs.patch(key, { tid })}
          onState={(s) => {
            tabs.patch(key, { conn: s.kind });
            if (s.kind === "closed" && s.reason === "lab-destroyed") onGone();
          }}
          onExit={(code, signal) => tabs.patch(key, { exit: { code, signal } })}
          onCommand={onCommand}
          onNewTerminal={() => {
            tabs.close(key);
            tabs.add();
          }}
          probe={probe}
        />
      </div>
    </div>
  );
}
