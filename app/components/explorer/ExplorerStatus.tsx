"use client";
import { useEffect, useState } from "react";
import type { ExplorerConnState } from "./connection";
import type { Strings } from "./strings";

/** Live, connecting, reconnecting (with a button), or the lab gone. */
export function ExplorerStatus({ conn, t, onRetry }: { conn: ExplorerConnState; t: Strings; onRetry(): void }) {
  const [, setNow] = useState(0);
  useEffect(() => {
    if (conn.kind !== "reconnecting") return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [conn.kind]);
  if (conn.kind === "open")
    return (
      <span className="flex items-center gap-1.5 text-success" role="status" data-testid="explorer-status">
        <span className="size-2 rounded-full bg-success motion-safe:animate-pulse" aria-hidden="true" />
        {t.live}
      </span>
    );
  if (conn.kind === "closed")
    return (
      <span className="text-danger" role="status" data-testid="explorer-status">
        {t.gone}
      </span>
    );
  if (conn.kind === "connecting")
    return (
      <span className="text-muted" role="status" data-testid="explorer-status">
        {t.connecting}
      </span>
    );
  const secs = Math.max(0, Math.ceil((conn.retryAt - Date.now()) / 1000));
  return (
    <span className="flex items-center gap-2 text-warning" role="status" data-testid="explorer-status">
      {t.reconnecting(secs)}
      <button type="button" className="btn-ghost btn-sm" onClick={onRetry}>
        {t.reconnectNow}
      </button>
    </span>
  );
}
