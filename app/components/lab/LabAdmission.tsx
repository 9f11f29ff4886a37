"use client";
import { useEffect, useState } from "react";
import type { Lang } from "@/app/i18n/dict";
import { accessCode, type Waiting } from "@/app/lib/admission";
import { Icon } from "../ui/Icon";
import { admissionStrings } from "./admission-strings";

/**
 * What a learner sees while the server cannot give them a lab yet: their place in the queue (it
 * updates live), a countdown before the page asks again, or the workshop code form. Nothing here
 * needs a click to go on, except typing the code.
 */
export function WaitingView({ wait, lang }: { wait: Waiting; lang: Lang }) {
  const s = admissionStrings(lang);
  if (wait.kind === "queued")
    return (
      <div className="flex max-w-md flex-col items-center gap-3" role="status" aria-live="polite" data-testid="lab-queue" data-position={wait.position}>
        <span className="flex size-10 items-center justify-center rounded-full bg-accent-soft text-accent">
          <Icon name="clock" size={18} />
        </span>
        <p className="text-[1rem] font-medium text-fg">{s.busyTitle}</p>
        {wait.starting ? (
          <p className="text-sm text-fg" data-testid="lab-queue-starting">
            {s.queueStarting}
          </p>
        ) : (
          <p className="text-lg font-semibold text-fg" data-testid="lab-queue-place">
            {s.queuePlace(wait.position, wait.waiting)}
          </p>
        )}
        {wait.waitingFor === "memory" && <p className="text-sm text-muted">{s.queueMemory}</p>}
        <p className="text-sm leading-relaxed text-muted">{s.queueHint}</p>
      </div>
    );
  return (
    <div className="flex max-w-md flex-col items-center gap-3" role="status" aria-live="polite" data-testid="lab-wait" data-reason={wait.reason}>
      <span className="flex size-10 items-center justify-center rounded-full bg-warning-soft text-warning">
        <Icon name="clock" size={18} />
      </span>
      <p className="text-[1rem] font-medium text-fg">{s.retryTitle[wait.reason]}</p>
      <p className="text-sm leading-relaxed text-muted">{s.retryWhy[wait.reason]}</p>
      <Countdown until={wait.until} render={(sec) => <p className="text-sm text-fg">{s.retryIn(sec)}</p>} />
    </div>
  );
}

function Countdown({ until, render }: { until: number; render(seconds: number): React.ReactNode }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return <>{render(Math.max(0, Math.ceil((until - now) / 1000)))}</>;
}

/** The workshop code: saved in this browser, then the lab is asked for again. */
export function CodeForm({ wrong, lang, onSubmit }: { wrong: boolean; lang: Lang; onSubmit(): void }) {
  const s = admissionStrings(lang);
  const [code, setCode] = useState("");
  return (
    <form
      className="flex w-full max-w-sm flex-col items-center gap-3"
      data-testid="lab-code"
      onSubmit={(e) => {
        e.preventDefault();
        if (!code.trim()) return;
        accessCode.set(code.trim());
        onSubmit();
      }}
    >
      <span className="flex size-10 items-center justify-center rounded-full bg-accent-soft text-accent">
        <Icon name="keyboard" size={18} />
      </span>
      <p className="text-[1rem] font-medium text-fg">{s.codeTitle}</p>
      <p className="text-sm text-muted">{s.codeHint}</p>
      {wrong && (
        <p className="text-sm text-danger" role="alert" data-testid="lab-code-wrong">
          {s.codeWrong}
        </p>
      )}
      <label className="flex w-full flex-col gap-1 text-left text-sm text-muted">
        {s.codeLabel}
        <input
          className="w-full rounded-md border border-line bg-surface px-3 py-2 font-mono text-fg"
          value={code}
          onChange={(e) => setCode(e.target.value)}
          autoComplete="off"
          spellCheck={false}
          maxLength={200}
          autoFocus
          data-testid="lab-code-input"
        />
      </label>
      <button type="submit" className="btn-primary" data-testid="lab-code-submit">
        <Icon name="play" size={14} /> {s.codeSubmit}
      </button>
    </form>
  );
}
