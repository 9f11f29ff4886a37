"use client";
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { Icon } from "./Icon";

export type Tone = "success" | "info" | "warning";
export interface Announcement {
  text: string;
  tone?: Tone;
  /** Also show it as a toast (for what happened out of sight); the live region always gets it. */
  toast?: boolean;
}

type Announce = (a: Announcement) => void;
const Ctx = createContext<Announce>(() => {});

/** Tells the learner (and their screen reader) about something that happened, wherever they look. */
export function useAnnounce(): Announce {
  return useContext(Ctx);
}

const TOAST_MS = 6000;
const MAX_TOASTS = 3;

interface Toast extends Announcement {
  id: number;
}

/**
 * One polite live region for the page, and toasts for what happened off screen (a step that
 * passed while the learner looked at the terminal, a lab that was replaced). Toasts stay 6 s, or
 * while hovered or focused, and can be closed.
 */
export function Announcer({ children, closeLabel }: { children: ReactNode; closeLabel: string }) {
  const [live, setLive] = useState("");
  const [toasts, setToasts] = useState<Toast[]>([]);
  const seq = useRef(0);

  const announce = useCallback<Announce>((a) => {
    // a repeat of the same words must still be spoken: clear, then set
    setLive("");
    requestAnimationFrame(() => setLive(a.text));
    if (a.toast) setToasts((ts) => [...ts, { ...a, id: ++seq.current }].slice(-MAX_TOASTS));
  }, []);
  const dismiss = useCallback((id: number) => setToasts((ts) => ts.filter((t) => t.id !== id)), []);

  return (
    <Ctx.Provider value={announce}>
      {children}
      <div role="status" aria-live="polite" aria-atomic="true" className="sr-only" data-testid="announcer">
        {live}
      </div>
      {toasts.length > 0 && (
        <div className="pointer-events-none fixed inset-x-0 bottom-4 z-50 flex flex-col items-center gap-2 px-4 sm:items-end" aria-hidden="true">
          {toasts.map((t) => (
            <ToastView key={t.id} toast={t} onClose={() => dismiss(t.id)} closeLabel={closeLabel} />
          ))}
        </div>
      )}
    </Ctx.Provider>
  );
}

function ToastView({ toast, onClose, closeLabel }: { toast: Toast; onClose(): void; closeLabel: string }) {
  const [held, setHeld] = useState(false);
  useEffect(() => {
    if (held) return;
    const id = setTimeout(onClose, TOAST_MS);
    return () => clearTimeout(id);
  }, [held, onClose]);
  const tone = toast.tone ?? "info";
  const cls = useMemo(
    () => (tone === "success" ? "border-success/40 text-success" : tone === "warning" ? "border-warning/40 text-warning" : "border-line-strong text-fg"),
    [tone],
  );
  return (
    <div
      className={`pointer-events-auto flex max-w-sm items-start gap-2 rounded-lg border bg-surface px-3 py-2 text-[0.9rem] shadow-lg ${cls}`}
      data-testid="toast"
      data-tone={tone}
      onMouseEnter={() => setHeld(true)}
      onMouseLeave={() => setHeld(false)}
    >
      <Icon name={tone === "success" ? "check" : tone === "warning" ? "alert" : "terminal"} size={15} strokeWidth={2} className="mt-0.5 shrink-0" />
      <span className="min-w-0 flex-1 text-fg">{toast.text}</span>
      <button type="button" onClick={onClose} className="-mr-1 inline-flex size-6 shrink-0 items-center justify-center rounded text-muted hover:bg-surface-2 hover:text-fg" tabIndex={-1} aria-label={closeLabel}>
        <Icon name="x" size={12} />
      </button>
    </div>
  );
}
