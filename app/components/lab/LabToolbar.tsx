"use client";
import { dict, type Lang } from "@/app/i18n/dict";
import type { StoredLab } from "@/app/lib/use-lab";
import { Icon } from "../ui/Icon";
import { TerminalTabs, type TabInfo } from "./TerminalTabs";

/** Above the terminals: their tabs, which lab this is, the explorer toggle and Reset. */
export function LabToolbar({
  lab,
  lang,
  tabs,
  active,
  explorerOpen,
  onSelect,
  onClose,
  onAdd,
  onToggleExplorer,
  onReset,
}: {
  lab: StoredLab;
  lang: Lang;
  tabs: TabInfo[];
  active: string | null;
  explorerOpen: boolean;
  onSelect(key: string): void;
  onClose(key: string): void;
  onAdd(): void;
  onToggleExplorer(): void;
  onReset(): void;
}) {
  const t = dict(lang);
  return (
    <div className="flex h-11 shrink-0 items-center gap-2 border-b border-line px-2">
      <TerminalTabs tabs={tabs} active={active} lang={lang} onSelect={onSelect} onClose={onClose} onAdd={onAdd} />
      <div className="ml-auto flex shrink-0 items-center gap-1">
        <span className="hidden truncate pr-1 font-mono text-[0.7667rem] text-subtle xl:inline" title={lab.id} data-testid="lab-info">
          {t.labInfo(lab.hostname, lab.mode === "root" ? t.modeRoot : t.modeRootless)}
        </span>
        <button
          type="button"
          onClick={onToggleExplorer}
          aria-pressed={explorerOpen}
          aria-label={explorerOpen ? t.hideExplorer : t.showExplorer}
          title={explorerOpen ? t.hideExplorer : t.showExplorer}
          data-testid="toggle-explorer"
          className={"btn-ghost btn-sm " + (explorerOpen ? "bg-surface-3 text-fg" : "")}
        >
          <Icon name="layers" size={14} />
          <span className="hidden lg:inline">{t.explorer}</span>
        </button>
        <button type="button" onClick={onReset} className="btn-ghost btn-sm" data-testid="reset-lab" title={t.resetLab}>
          <Icon name="refresh" size={14} />
          <span className="hidden lg:inline">{t.resetLab}</span>
        </button>
      </div>
    </div>
  );
}
