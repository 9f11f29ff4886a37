"use client";
import Link from "next/link";
import { useEffect, useRef, type RefObject } from "react";
import { dict, type Lang } from "@/app/i18n/dict";
import type { LessonView } from "@/app/lib/lesson-view";
import type { useSteps } from "@/app/lib/use-steps";
import { useAnnounce } from "../ui/Announcer";
import { Icon } from "../ui/Icon";
import { NsChip } from "../ui/NsChip";
import { LessonHtml, type RunRequest } from "./LessonHtml";
import { StepCard } from "./StepCard";

/** The left side of a lesson: title, introduction, the steps, and the finish. */
export function LessonPanel({
  lesson,
  lang,
  steps,
  next,
  onRun,
}: {
  lesson: LessonView;
  lang: Lang;
  steps: ReturnType<typeof useSteps>;
  next: { id: string; title: string } | null;
  onRun(r: RunRequest, stepId: string | null): void;
}) {
  const t = dict(lang);
  const refs = useRef(new Map<string, HTMLLIElement>());
  const total = lesson.steps.length;

  // on the first load, resume at the step the learner was on
  const resumed = useRef(false);
  useEffect(() => {
    if (resumed.current || !steps.loaded) return;
    resumed.current = true;
    if (steps.passedCount > 0 && steps.current) refs.current.get(steps.current)?.scrollIntoView({ block: "start" });
  }, [steps.loaded, steps.passedCount, steps.current]);

  useAnnouncePasses(lesson, lang, steps, refs);

  const goTo = (id: string) => {
    const el = refs.current.get(id);
    el?.scrollIntoView({ behavior: "smooth", block: "start" });
    el?.querySelector<HTMLElement>("h2")?.focus({ preventScroll: true });
  };

  return (
    <section className="h-full min-h-0 overflow-y-auto bg-bg outline-none" aria-label={t.lessonPane} data-testid="lesson-panel" data-pane="lesson" tabIndex={-1}>
      {total > 0 && (
          <div className="sticky top-0 z-20 flex h-11 items-center gap-3 border-b border-line bg-bg/90 px-6 backdrop-blur" data-testid="lesson-progress" data-done={steps.passedCount} data-total={total}>
            <nav className="flex flex-1 gap-1" aria-label={t.progress(steps.passedCount, total)}>
              {lesson.steps.map((s, i) => {
                const st = steps.stateOf(s.id).state;
                const cur = steps.current === s.id;
                return (
                  <button
                    key={s.id}
                    type="button"
                    title={`${t.step(i + 1)}${t.colon}${s.title}`}
                    aria-label={`${t.step(i + 1)}${t.colon}${s.title}${st === "passed" ? ` (${t.passed})` : ""}`}
                    aria-current={cur ? "step" : undefined}
                    onClick={() => goTo(s.id)}
                    className="group flex h-[24px] flex-1 items-center"
                    data-testid="step-nav"
                  >
                    <span
                      className={
                        "h-1.5 w-full rounded-full transition-colors " +
                        (st === "passed" ? "bg-success" : cur ? "bg-accent" : st === "failed" ? "bg-danger/60" : "bg-surface-3 group-hover:bg-line-strong")
                      }
                    />
                  </button>
                );
              })}
            </nav>
            <span className="text-xs tabular-nums text-muted">{t.progress(steps.passedCount, total)}</span>
            {steps.passedCount > 0 && (
              <button
                type="button"
                className="btn-ghost btn-sm"
                onClick={() => window.confirm(t.resetProgressConfirm) && steps.reset()}
                data-testid="reset-progress"
              >
                {t.resetProgress}
              </button>
            )}
          </div>
      )}
      <div className="mx-auto max-w-[44rem] px-6 pb-24 pt-5">
        <div className="mb-4 flex items-center justify-between gap-3 text-xs text-subtle">
          <Link href={`/?lang=${lang}`} className="inline-flex min-h-[24px] items-center gap-1 rounded hover:text-fg">
            <Icon name="arrowLeft" size={13} />
            {t.backToLessons}
          </Link>
          <span className="flex items-center gap-1">
            <Icon name="clock" size={13} />
            {t.minutes(lesson.minutes)}
          </span>
        </div>
        {!lesson.translated && (
          <p className="mb-3 rounded-md border border-line bg-surface-2 px-3 py-2 text-[0.8667rem] text-muted" data-testid="not-translated">
            {t.notTranslated}
          </p>
        )}
        <h1 lang={lesson.lang} className="text-[1.6rem] font-semibold leading-tight tracking-tight text-fg">{lesson.title}</h1>
        <div className="mt-3 flex flex-wrap items-center gap-1.5">
          {lesson.namespaces.map((ns) => (
            <NsChip key={ns} ns={ns} />
          ))}
        </div>

        {lesson.introHtml && (
          <div className="mt-6" data-testid="lesson-intro">
            <LessonHtml html={lesson.introHtml} lang={lang} onRun={(r) => onRun(r, null)} className="text-[1rem]" />
          </div>
        )}

        <ol className="mt-8 flex flex-col gap-4" aria-label={t.lessonPane} data-testid="steps">
          {lesson.steps.map((s, i) => (
            <StepCard
              key={s.id}
              ref={(el) => {
                if (el) refs.current.set(s.id, el);
                else refs.current.delete(s.id);
              }}
              step={s}
              n={i + 1}
              total={total}
              status={steps.stateOf(s.id)}
              current={steps.current === s.id}
              lang={lang}
              onRun={(r) => onRun(r, s.id)}
              onCheck={() => {
                steps.setFocus(s.id);
                void steps.check(s.id);
              }}
              onMarkDone={() => steps.markDone(s.id)}
              onNext={lesson.steps[i + 1]?.id === steps.current ? () => goTo(steps.current!) : undefined}
              onSolve={() => {
                steps.setFocus(s.id);
                void steps.solve(s.id);
              }}
              onFocus={() => steps.stateOf(s.id).state !== "passed" && steps.setFocus(s.id)}
              answer={steps.answers[s.id] ?? ""}
              onAnswer={(text) => steps.setAnswer(s.id, text)}
              rebuild={
                steps.current === s.id && i > 0 && (steps.stateGone || steps.rebuildState.kind !== "idle")
                  ? { state: steps.rebuildState, onRebuild: () => void steps.rebuild(s.id) }
                  : undefined
              }
            />
          ))}
        </ol>

        {steps.allPassed && (
          <section className="mt-8 rounded-xl border border-success/30 bg-success-soft/50 p-5" data-testid="lesson-finish" aria-live="polite">
            <h2 className="mb-2 flex items-center gap-2 text-[1.1333rem] font-semibold text-success">
              <Icon name="check" size={18} strokeWidth={2} />
              {t.lessonDone}
            </h2>
            {lesson.finishHtml && <LessonHtml html={lesson.finishHtml} lang={lang} onRun={(r) => onRun(r, null)} className="text-[1rem]" />}
            {next && (
              <Link href={`/lessons/${next.id}?lang=${lang}`} className="btn-primary mt-4" data-testid="next-lesson">
                {t.nextLesson}: {next.title}
                <Icon name="arrowRight" size={14} />
              </Link>
            )}
          </section>
        )}
      </div>
    </section>
  );
}

/**
 * Every pass is said in the page's live region; a pass whose step is out of sight (the learner is
 * looking at the terminal) also gets a toast. Passes loaded from storage are not news.
 */
function useAnnouncePasses(lesson: LessonView, lang: Lang, steps: ReturnType<typeof useSteps>, refs: RefObject<Map<string, HTMLLIElement>>) {
  const announce = useAnnounce();
  const seen = useRef<Set<string> | null>(null);
  useEffect(() => {
    if (!steps.loaded) return;
    if (!seen.current) {
      seen.current = new Set(steps.passed);
      return;
    }
    const t = dict(lang);
    for (const [i, s] of lesson.steps.entries()) {
      if (!steps.passed.has(s.id) || seen.current.has(s.id)) continue;
      seen.current.add(s.id);
      announce({ text: t.stepPassed(i + 1, s.title), tone: "success", toast: !onScreen(refs.current.get(s.id)) });
    }
    for (const id of seen.current) if (!steps.passed.has(id)) seen.current.delete(id);
  }, [steps.loaded, steps.passed, lesson.steps, lang, announce, refs]);
}

/** Whether most of an element is visible in its scroll box and the window. */
function onScreen(el: HTMLElement | undefined): boolean {
  if (!el) return false;
  const r = el.getBoundingClientRect();
  const box = el.closest("[data-pane]")?.getBoundingClientRect() ?? new DOMRect(0, 0, innerWidth, innerHeight);
  const top = Math.max(r.top, box.top, 0);
  const bottom = Math.min(r.bottom, box.bottom, innerHeight);
  return bottom - top >= Math.min(r.height, 80);
}
