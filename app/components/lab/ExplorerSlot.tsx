"use client";
import dynamic from "next/dynamic";
import type { Lang } from "@/app/i18n/dict";
import type { LabCredentials } from "@/app/lib/api";
import type { ExplorerFocus } from "../lesson/widgets";

// the Explorer is loaded when it is first opened: a lesson page without it needs ~20 KB less JavaScript
const Explorer = dynamic(() => import("../explorer/Explorer").then((m) => m.Explorer), {
  ssr: false,
  loading: () => <div className="flex-1" aria-busy="true" data-testid="explorer-loading" />,
});

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
