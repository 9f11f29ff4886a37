"use client";
import type { Lang } from "@/app/i18n/dict";
import type { LabCredentials } from "@/app/lib/api";
import { Explorer } from "../explorer/Explorer";
import type { ExplorerFocus } from "../lesson/widgets";

/** The namespace explorer (app/components/explorer/) of the current lab, below the terminals. */
export function ExplorerSlot({
  lab,
  lang,
  terminals,
  focus,
  onClearFocus,
}: {
  lab: LabCredentials;
  lang: Lang;
  terminals: string[];
  focus?: ExplorerFocus | null;
  onClearFocus?(): void;
}) {
  return (
    <div className="flex h-full min-h-0 flex-col overflow-hidden bg-surface" data-testid="explorer-slot">
      <Explorer labId={lab.id} token={lab.token} lang={lang} terminals={terminals} focus={focus} onClearFocus={onClearFocus} />
    </div>
  );
}
