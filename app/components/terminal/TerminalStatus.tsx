"use client";
import { useEffect, useState } from "react";
import { dict, type Lang } from "@/app/i18n/dict";
import type { ConnectionState } from "@/app/lib/terminal-connection";
import { Icon } from "../ui/Icon";

/** What a terminal's connection is doing, drawn over the terminal (nothing while all is well). */
export function TerminalStatus({
  state,
  exited,
  notice,
  lang,
  onReconnect,
  onNewTerminal,
}: {
  state: ConnectionState;
  exited: string | null; // exit status text once the shell has ended
  notice: string | null;
  lang: Lang;
  onReconnect(): void;
  onNewTerminal(): void;
}) {
  const t = dict(lang);
  const now = useNow(state.kind === "reconnecting");

  if (state.kind === "closed") {
    const displaced = state.reason === "attached-elsewhere";
    const failed = state.reason === "failed";
    const title =
      state.reason === "lab-destroyed"
        ? t.labGone
        : state.reason === "too-many-terminals"
          ? t.tooManyTerminals
          : displaced
            ? t.attachedElsewhere
            : t.terminalClosed;
    const detail = displaced ? "" : state.message;
    return (
      <div
        className="absolute inset-0 z-10 flex items-center justify-center bg-term-bg/80 p-6 backdrop-blur-[2px]"
        data-testid="terminal-closed"
        data-reason={state.reason}
        role="status"
      >
        <div className="max-w-sm rounded-xl border border-line bg-surface p-5 text-center shadow-lg">
          <p className="font-medium text-fg">{title}</p>
          {detail && <p className="mt-1 text-sm text-muted">{detail}</p>}
          <div className="mt-4 flex justify-center gap-2">
            {displaced || failed ? (
              <button type="button" onClick={onReconnect} className="btn-primary" data-testid="terminal-take-over">
                {displaced ? t.takeOver : t.retry}
              </button>
            ) : state.reason !== "lab-destroyed" ? (
              <button type="button" onClick={onNewTerminal} className="btn-primary" data-testid="terminal-new">
                <Icon name="plus" size={14} /> {t.newTerminal}
              </button>
            ) : null}
          </div>
        </div>
      </div>
    );
  }

  if (state.kind === "reconnecting") {
    const secs = Math.max(0, Math.ceil((state.retryAt - now) / 1000));
    return (
      <div className="pointer-events-none absolute right-3 top-2 z-10 flex justify-end" role="status" data-testid="terminal-reconnecting">
        <div className="pointer-events-auto flex items-center gap-2 rounded-full border border-warning/30 bg-warning-soft py-1 pl-3 pr-1 text-xs text-warning shadow-sm">
          <span className="animate-soft-pulse inline-block size-1.5 rounded-full bg-warning" aria-hidden="true" />
          {secs > 0 ? t.reconnectingIn(secs) : t.reconnecting}
          <button type="button" onClick={onReconnect} className="rounded-full bg-surface/70 px-2 py-0.5 font-medium text-fg hover:bg-surface">
            {t.reconnectNow}
          </button>
        </div>
      </div>
    );
  }

  if (state.kind === "connecting") {
    return (
      <div className="pointer-events-none absolute right-3 top-2 z-10 flex items-center gap-2 text-xs text-subtle" role="status" data-testid="terminal-connecting">
        <span className="animate-soft-pulse inline-block size-1.5 rounded-full bg-accent" aria-hidden="true" />
        {t.connecting}
      </div>
    );
  }

  if (exited !== null) {
    return (
      <div className="absolute inset-x-0 bottom-0 z-10 flex items-center justify-center gap-3 border-t border-line bg-surface/90 px-4 py-2.5 text-sm text-muted backdrop-blur-[2px]" data-testid="terminal-exited">
        <span>{t.exitedTitle(exited)}</span>
        <button type="button" onClick={onNewTerminal} className="btn-primary btn-sm" data-testid="terminal-new">
          <Icon name="plus" size={13} /> {t.newTerminal}
        </button>
      </div>
    );
  }

  if (notice) {
    return (
      <div className="pointer-events-none absolute inset-x-0 top-2 z-10 flex justify-center" role="status">
        <div className="rounded-full border border-line bg-surface px-3 py-1 text-xs text-muted shadow-sm">{notice}</div>
      </div>
    );
  }
  return null;
}

/** The current time, ticking every 250 ms while `on`. */
function useNow(on: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!on) return;
    setNow(Date.now());
    const id = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(id);
  }, [on]);
  return now;
}
