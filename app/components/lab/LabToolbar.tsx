"use client";
import { dict, type Lang } from "@/app/i18n/dict";
import type { StoredLab } from "@/app/lib/use-lab";
import { Icon } from "../ui/Icon";
import { TerminalTabs } from "./TerminalTabs";
import type { useTerminalTabs } from "./use-terminal-tabs";

/** Above the terminals: their tabs, side by side or not, which lab this is, the pane keys, the explorer toggle and Reset. */
export function LabToolbar({
  lab,
  lang,
  tabs,
  explorerOpen,
  onToggleExplorer,
  onReset,
}: {
  lab: StoredLab;
  lang: Lang;
  tabs: ReturnType<typeof useTerminalTabs>;
  explorerOpen: boolean;
  onToggleExplorer(): void;
  onReset(): void;
}) {
  const t = dict(lang);
  // labels show by the lab pane's width, not the window's: a projector's large text or a wide lesson
  // pane leaves the tabs too little room otherwise (tab 2 and + were hidden at 1024 px, large text)
  return (
    <div className="@container flex h-11 shrink-0 items-center gap-2 border-b border-line px-2" data-pane="lab-toolbar">
      <TerminalTabs tabs={tabs.tabs} active={tabs.active} shown={tabs.shown} lang={lang} onSelect={tabs.select} onClose={tabs.close} onAdd={tabs.add} />
      <div className="ml-auto flex shrink-0 items-center gap-1">
        <span className="hidden items-center gap-1 whitespace-nowrap pr-1 text-[0.7667rem] text-muted @[44rem]:inline-flex" title={t.paneKeysTitle} data-testid="pane-keys-hint">
          <kbd className="rounded border border-line-strong bg-surface px-1 font-mono text-[0.7rem] text-fg">F6</kbd>
          {t.paneKeys}
        </span>
        <span className="hidden truncate pr-1 font-mono text-[0.7667rem] text-muted @[60rem]:inline" title={lab.id} data-testid="lab-info">
          {t.labInfo(lab.hostname, lab.mode === "root" ? t.modeRoot : t.modeRootless)}
        </span>
        <button
          type="button"
          onClick={() => tabs.setSplit(!tabs.split)}
          aria-pressed={tabs.split}
          title={tabs.split ? t.splitHide : t.splitShow}
          data-testid="toggle-split"
          className={"btn-ghost btn-sm " + (tabs.split ? "bg-surface-3 text-fg" : "")}
        >
          <Icon name="split" size={14} />
          <span className="sr-only @[40rem]:not-sr-only">{t.splitOn}</span>
        </button>
        <button
          type="button"
          onClick={onToggleExplorer}
          aria-pressed={explorerOpen}
          title={explorerOpen ? t.hideExplorer : t.showExplorer}
          data-testid="toggle-explorer"
          className={"btn-ghost btn-sm " + (explorerOpen ? "bg-surface-3 text-fg" : "")}
        >
          <Icon name="layers" size={14} />
          <span className="sr-only @[36rem]:not-sr-only">{t.explorer}</span>
        </button>
        <button type="button" onClick={onReset} className="btn-ghost btn-sm" data-testid="reset-lab" title={t.resetLab}>
          <Icon name="refresh" size={14} />
          <span className="sr-only @[36rem]:not-sr-only">{t.resetLab}</span>
        </button>
      </div>
    </div>
  );
}
