"use client";
import { dict, type Lang } from "@/app/i18n/dict";
import type { LabPhase } from "@/app/lib/use-lab";
import { Icon } from "../ui/Icon";
import { admissionStrings } from "./admission-strings";
import { CodeForm, WaitingView } from "./LabAdmission";

/** The lab area while there is no usable lab: finding it, creating it, or why not. */
export function LabPhaseView({ phase, lang, onRetry, onNew }: { phase: LabPhase; lang: Lang; onRetry(): void; onNew(): void }) {
  const t = dict(lang);
  let body: React.ReactNode = null;
  switch (phase.kind) {
    case "checking":
    case "creating":
      body = (
        <div className="flex flex-col items-center gap-3" role="status" aria-live="polite" data-testid="lab-creating">
          <Spinner />
          <p className="font-medium text-fg">{phase.kind === "checking" ? t.labChecking : t.labStarting}</p>
          {phase.kind === "creating" && <p className="text-sm text-muted">{t.labStartingDetail}</p>}
        </div>
      );
      break;
    case "rate-limited":
      body = (
        <Card icon="clock" tone="warning" title={t.rateLimited} detail={phase.message} testId="lab-rate-limited">
          <button type="button" className="btn-secondary" onClick={onRetry}>
            <Icon name="refresh" size={14} /> {t.retry}
          </button>
        </Card>
      );
      break;
    case "error":
      body = (
        <Card icon="alert" tone="danger" title={t.labError} detail={phase.message} testId="lab-error">
          <button type="button" className="btn-secondary" onClick={onRetry}>
            <Icon name="refresh" size={14} /> {t.retry}
          </button>
        </Card>
      );
      break;
    case "gone": {
      // the server said why (idle, time limit, operator...): say so, and offer a fresh lab
      const why = phase.reason ? admissionStrings(lang).ended[phase.reason] : null;
      body = (
        <Card icon="terminal" tone="muted" title={why?.[0] ?? t.labGone} detail={why?.[1] ?? t.labGoneDetail} testId="lab-gone">
          <button type="button" className="btn-primary" onClick={onNew} data-testid="lab-new" data-reason={phase.reason ?? ""}>
            <Icon name="plus" size={14} /> {why ? admissionStrings(lang).freshLab : t.labNew}
          </button>
        </Card>
      );
      break;
    }
    case "waiting":
      body = <WaitingView wait={phase.wait} lang={lang} />;
      break;
    case "code":
      body = <CodeForm wrong={phase.wrong} lang={lang} onSubmit={onRetry} />;
      break;
    case "ready":
      break;
  }
  return <div className="flex flex-1 items-center justify-center bg-term-bg p-8 text-center">{body}</div>;
}

function Card({
  icon,
  tone,
  title,
  detail,
  testId,
  children,
}: {
  icon: "clock" | "alert" | "terminal";
  tone: "warning" | "danger" | "muted";
  title: string;
  detail: string;
  testId: string;
  children: React.ReactNode;
}) {
  const toneCls = tone === "warning" ? "bg-warning-soft text-warning" : tone === "danger" ? "bg-danger-soft text-danger" : "bg-surface-2 text-muted";
  return (
    <div className="flex max-w-md flex-col items-center gap-3" role="alert" data-testid={testId}>
      <span className={"flex size-10 items-center justify-center rounded-full " + toneCls}>
        <Icon name={icon} size={18} />
      </span>
      <p className="text-[1rem] font-medium text-fg">{title}</p>
      {detail && <p className="text-sm leading-relaxed text-muted">{detail}</p>}
      <div className="mt-1">{children}</div>
    </div>
  );
}

function Spinner() {
  return (
    <svg className="size-6 animate-spin text-accent" viewBox="0 0 24 24" aria-hidden="true">
      <circle cx="12" cy="12" r="9" fill="none" stroke="currentColor" strokeOpacity="0.2" strokeWidth="2.5" />
      <path d="M21 12a9 9 0 0 0-9-9" fill="none" stroke="currentColor" strokeWidth="2.5" strokeLinecap="round" />
    </svg>
  );
}
