"use client";
import { dict, type Lang } from "@/app/i18n/dict";
import type { LabCredentials } from "@/app/lib/api";
import { Icon } from "../ui/Icon";

/**
 * Where the namespace explorer goes (app/components/explorer/, built separately). Until it
 * exists this is a placeholder with the same frame.
 */
export function ExplorerSlot({ lab: _lab, lang }: { lab: LabCredentials; lang: Lang }) {
  const t = dict(lang);
  return (
    <div className="flex h-full min-h-0 flex-col bg-surface" data-testid="explorer-slot">
      <div className="flex h-9 shrink-0 items-center gap-1 border-b border-line px-2 text-[0.8667rem]">
        <span className="rounded-md bg-surface-3 px-2 py-1 text-fg">{t.explorer}</span>
        <span className="rounded-md px-2 py-1 text-subtle">{t.trace}</span>
      </div>
      <div className="flex flex-1 items-center justify-center p-6">
        <p className="flex max-w-sm items-start gap-2 text-sm text-muted">
          <Icon name="layers" className="mt-0.5 shrink-0 text-subtle" />
          {t.explorerSoon}
        </p>
      </div>
    </div>
  );
}
