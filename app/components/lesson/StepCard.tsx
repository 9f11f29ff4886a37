"use client";
import { forwardRef } from "react";
import { dict, type Lang } from "@/app/i18n/dict";
import type { StepView } from "@/app/lib/lesson-view";
import type { RebuildState, StepStatus } from "@/app/lib/use-steps";
import { Icon } from "../ui/Icon";
import { Tokens } from "../ui/Tokens";
import { Hints } from "./Hints";
import { LessonHtml, type RunRequest } from "./LessonHtml";
import { lessonStrings } from "./strings";
import { StepContext } from "./widgets";

/** One step: number and state, text with runnable code, Check, feedback, hints. */
export const StepCard = forwardRef<
  HTMLLIElement,
  {
    step: StepView;
    n: number;
    total: number;
    status: StepStatus;
    current: boolean;
    lang: Lang;
    onRun(r: RunRequest): void;
    onCheck(): void;
    onSolve(): void;
    onMarkDone(): void;
    /** Shown once this step passed: go to the step to do next. */
    onNext?: () => void;
    onFocus(): void;
    /** For a step that asks for an answer: what the learner typed. */
    answer?: string;
    onAnswer?(text: string): void;
    /** Offered on the current step when the lab does not hold what the earlier steps built. */
    rebuild?: { state: RebuildState; onRebuild(): void };
  }
>(function StepCard({ step, n, total, status, current, lang, onRun, onCheck, onSolve, onMarkDone, onNext, onFocus, answer = "", onAnswer, rebuild }, ref) {
  const t = dict(lang);
  const lt = lessonStrings(lang);
  const st = status.state;
  const dataState = st === "passed" ? "passed" : st === "failed" ? "failed" : "idle";
  return (
    <li
      ref={ref}
      data-testid="step"
      data-step-id={step.id}
      data-state={dataState}
      data-checking={st === "checking" ? "true" : undefined}
      data-current={current ? "true" : undefined}
      aria-current={current ? "step" : undefined}
      onFocusCapture={onFocus}
      className={
        "relative scroll-mt-14 rounded-xl border bg-surface p-4 pl-[3.25rem] transition-colors " +
        (current ? "border-accent/45 shadow-card" : st === "passed" ? "border-line" : "border-line")
      }
    >
      <span
        aria-hidden="true"
        className={
          "absolute left-4 top-4 flex size-6 items-center justify-center rounded-full text-xs font-semibold tabular-nums " +
          (st === "passed"
            ? "bg-success text-white dark:text-[#0d0e11]"
            : current
              ? "bg-accent text-accent-fg"
              : "bg-surface-3 text-muted")
        }
      >
        {st === "passed" ? <Icon name="check" size={13} strokeWidth={2.25} /> : n}
      </span>
      <header className="mb-2 flex items-baseline justify-between gap-3">
        <h2 tabIndex={-1} className="outline-none text-[1.0333rem] font-semibold leading-snug tracking-tight text-fg">
          <span className="sr-only">{t.stepOf(n, total)}{t.colon}</span>
          {step.title}
        </h2>
        {st === "passed" && (
          <span className="shrink-0 text-xs font-medium text-success" data-testid="step-passed-badge">
            {t.passed}
          </span>
        )}
      </header>
      {rebuild && <Rebuild n={n} lang={lang} {...rebuild} />}
      <StepContext.Provider value={step.id}>
        <LessonHtml html={step.html} lang={lang} onRun={onRun} className="text-[0.9667rem]" />
      </StepContext.Provider>

      <div className="mt-4 flex flex-col gap-3">
        {step.answerHtml && (
          <form
            className="flex flex-col gap-1.5 rounded-lg border border-line bg-surface-2/50 p-3"
            onSubmit={(e) => {
              e.preventDefault();
              if (st !== "checking") onCheck();
            }}
            data-testid="answer-form"
          >
            <label htmlFor={`answer-${step.id}`} className="prose-lesson text-[0.9333rem]">
              <span dangerouslySetInnerHTML={{ __html: step.answerHtml }} />
            </label>
            <input
              id={`answer-${step.id}`}
              type="text"
              value={answer}
              maxLength={200}
              onChange={(e) => onAnswer?.(e.target.value)}
              placeholder={lt.answerPlaceholder}
              aria-label={lt.answerLabel}
              autoComplete="off"
              spellCheck={false}
              className="h-9 rounded-md border border-line-strong bg-surface px-2 font-mono text-fg"
              data-testid="answer-input"
            />
          </form>
        )}
        {step.hasCheck && (
          <div className="flex flex-wrap items-center gap-3">
            <button
              type="button"
              className={st === "passed" ? "btn-secondary btn-sm" : "btn-secondary"}
              onClick={onCheck}
              disabled={st === "checking"}
              data-testid="check-button"
            >
              {st === "checking" && !status.solving ? <Icon name="refresh" size={13} className="animate-spin" /> : <Icon name="check" size={14} />}
              {st === "checking" && !status.solving ? t.checking : t.check}
            </button>
            <Feedback status={status} lang={lang} />
            {st === "passed" && onNext && (
              <button type="button" className="btn-primary btn-sm ml-auto" onClick={onNext} data-testid="next-step">
                {t.nextStep}
                <Icon name="chevronDown" size={13} />
              </button>
            )}
          </div>
        )}
        {!step.hasCheck && st !== "passed" && (
          <div>
            <button type="button" className="btn-secondary" onClick={onMarkDone} data-testid="mark-done-button">
              <Icon name="check" size={14} />
              {t.markDone}
            </button>
          </div>
        )}
        {status.output && (
          <details className="rounded-lg border border-line bg-code-bg text-[0.8667rem]" data-testid="solution-output">
            <summary className="cursor-pointer px-3 py-1.5 text-muted">{t.solutionOutput}</summary>
            <pre className="max-h-60 overflow-auto whitespace-pre-wrap break-words px-3 pb-2 font-mono text-[0.8rem] leading-relaxed">{status.output}</pre>
          </details>
        )}
        <div className="flex flex-wrap items-start justify-between gap-2">
          <Hints hints={step.hints} lang={lang} stepId={step.id} />
          {step.hasSolution && st !== "passed" && (
            <button
              type="button"
              className="btn-ghost btn-sm ml-auto"
              onClick={() => window.confirm(t.solveConfirm) && onSolve()}
              disabled={st === "checking"}
              data-testid="solve-button"
            >
              {status.solving ? <Icon name="refresh" size={13} className="animate-spin" /> : <Icon name="play" size={10} />}
              {status.solving ? t.solving : t.solve}
            </button>
          )}
        </div>
      </div>
    </li>
  );
});

function Feedback({ status, lang }: { status: StepStatus; lang: Lang }) {
  const t = dict(lang);
  if (status.state !== "passed" && status.state !== "failed") return <span aria-live="polite" className="sr-only" />;
  const ok = status.state === "passed";
  return (
    <p
      aria-live="polite"
      data-testid="step-feedback"
      className={"flex min-w-0 items-start gap-1.5 text-[0.9rem] leading-snug " + (ok ? "text-success" : "text-danger")}
      title={ok && status.auto ? t.autoChecked : undefined}
    >
      <Icon name={ok ? "check" : "x"} size={14} strokeWidth={2} className="mt-px shrink-0" />
      <span className="min-w-0">
        <Tokens text={status.feedback ?? (ok ? t.passed : t.failed)} />
      </span>
    </p>
  );
}

/** "Rebuild to this step": why it is offered, the button, progress, and how it ended. */
function Rebuild({ n, lang, state, onRebuild }: { n: number; lang: Lang; state: RebuildState; onRebuild(): void }) {
  const t = dict(lang);
  const upTo = n - 1;
  if (state.kind === "done")
    return (
      <p className="mb-3 flex items-start gap-1.5 rounded-lg border border-success/30 bg-success-soft/60 px-3 py-2 text-[0.9rem] text-success" role="status" data-testid="rebuild-done">
        <Icon name="check" size={14} strokeWidth={2} className="mt-0.5 shrink-0" />
        <span>{t.rebuilt(state.upTo)}</span>
      </p>
    );
  const running = state.kind === "running";
  return (
    <div className="mb-3 rounded-lg border border-warning/30 bg-warning-soft/60 px-3 py-2.5 text-[0.9rem]" data-testid="rebuild-offer">
      <p className="font-medium text-fg">{t.rebuildWhy}</p>
      <p className="mt-1 text-[0.8667rem] text-muted">{t.rebuildNote(upTo)}</p>
      <div className="mt-2 flex flex-wrap items-center gap-3">
        <button type="button" className="btn-primary btn-sm" onClick={onRebuild} disabled={running} data-testid="rebuild">
          {running ? <Icon name="refresh" size={13} className="animate-spin" /> : <Icon name="refresh" size={13} />}
          {t.rebuild}
        </button>
        <span className="text-[0.8667rem] text-muted" role="status">
          {running ? t.rebuilding(state.at, state.of) : state.kind === "failed" ? t.rebuildFailed(state.failedAt, state.why) : ""}
        </span>
      </div>
    </div>
  );
}
