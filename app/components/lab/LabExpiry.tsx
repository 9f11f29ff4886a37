"use client";
import { useEffect, useState, useSyncExternalStore } from "react";
import type { Lang } from "@/app/i18n/dict";
import { api, type LabCredentials } from "@/app/lib/api";
import { labLifetime } from "@/app/lib/lab-lifetime";
import { Icon } from "../ui/Icon";
import { admissionStrings } from "./admission-strings";

/**
 * The warning before a lab is put away (the server sends it on the terminal socket, two minutes
 * before by default): what will happen, a countdown, and "I'm still here", which counts as
 * activity. Activity of any kind (typing, output) withdraws it.
 */
export function LabExpiryBanner({ lab, lang }: { lab: LabCredentials; lang: Lang }) {
  const s = admissionStrings(lang);
  const state = useSyncExternalStore(labLifetime.subscribe, () => labLifetime.get(lab.id), () => labLifetime.get(lab.id));
  const [now, setNow] = useState(() => Date.now());
  const [sending, setSending] = useState(false);
  const expiring = state.expiring;
  useEffect(() => {
    if (!expiring) return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [expiring]);
  if (!expiring) return null;
  const left = Math.max(0, Math.ceil((expiring.at - now) / 1000));
  const text = left >= 60 ? `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}` : `${left} s`;
  // laid over the lab's toolbar, not in the flow: if it pushed the terminal down, the terminal
  // would resize, the shell redraw its prompt, and that output would count as activity
  return (
    <div className="relative z-20 h-0">
    <div className="absolute inset-x-0 top-0 flex items-center gap-3 border-b border-warning/30 bg-warning-soft px-3 py-2 text-sm text-warning shadow-sm" role="alert" data-testid="lab-expiring" data-reason={expiring.reason}>
      <Icon name="clock" size={16} />
      <p className="min-w-0 flex-1 text-fg">
        {s.expiringTitle[expiring.reason]} <span className="font-medium tabular-nums">{s.expiringIn(text)}</span>
      </p>
      <button
        type="button"
        className="btn-primary shrink-0"
        disabled={sending}
        data-testid="lab-still-here"
        onClick={() => {
          setSending(true);
          api
            .keepalive(lab)
            .then(() => labLifetime.extended(lab.id))
            .catch(() => {})
            .finally(() => setSending(false));
        }}
      >
        {s.stillHere}
      </button>
    </div>
    </div>
  );
}
