"use client";
import Link from "next/link";
import { useEffect, useRef, useState } from "react";
import type { ConsentKind } from "@/lib/classes";
import { classDict } from "@/app/i18n/classes";
import type { Lang } from "@/app/i18n/dict";
import { readProgress } from "@/app/lib/progress";
import { Icon } from "../ui/Icon";
import type { ClassLessonLink } from "./ClassLesson";
import type { ClassControlState } from "./use-class-control";

/** Seconds until `iso`, ticking once a second (null without a time). */
export function useCountdown(iso: string | null): number | null {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!iso) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [iso]);
  return iso ? Math.max(0, Math.round((Date.parse(iso) - now) / 1000)) : null;
}

/**
 * The learner's class bar: the class, its lessons, the time left; the hand; the broadcast and
 * follow switches; and, always visible while they apply, who watches this terminal, the
 * instructor's requests and the consents given (each with a way to take it back).
 */
export function ClassBar({
  lang,
  classId,
  lessonId,
  lessons,
  state,
  name,
  following,
  broadcastOpen,
  onFollowing,
  onBroadcastOpen,
  onHand,
  onAnswer,
  onRevoke,
}: {
  lang: Lang;
  classId: string;
  lessonId: string;
  lessons: ClassLessonLink[];
  state: ClassControlState;
  name: string;
  following: boolean;
  broadcastOpen: boolean;
  onFollowing(v: boolean): void;
  onBroadcastOpen(v: boolean): void;
  onHand(raised: boolean, message?: string): void;
  onAnswer(kind: ConsentKind, allow: boolean): void;
  onRevoke(kind: ConsentKind): void;
}) {
  const t = classDict(lang);
  const k = state.klass;
  const endsIn = useCountdown(k?.endsAt ?? null);
  const labsEndIn = useCountdown(k?.state === "ending" ? state.labsEndAt : null);
  const [asking, setAsking] = useState(false);
  const [message, setMessage] = useState("");
  const request = state.requests[0] ?? null;
  const allowRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (request) allowRef.current?.focus();
  }, [request]);

  return (
    <div className="shrink-0" data-testid="class-bar">
      <div className="flex h-11 items-center gap-2 border-b border-line bg-surface px-3 text-[0.8667rem]">
        <Icon name="users" size={15} className="text-accent" />
        <span className="max-w-[16rem] truncate font-medium text-fg" data-testid="class-title">
          {k?.title ?? "…"}
        </span>
        <nav className="flex min-w-0 items-center gap-1 overflow-x-auto" aria-label={t.classLessonsHeading}>
          {lessons.map((l, i) => {
            const p = readProgress(l.id, `class:${classId}`);
            const done = p?.passed.filter((s) => l.steps.some((x) => x.id === s)).length ?? 0;
            return (
              <Link
                key={l.id}
                href={`/class/${classId}/${l.id}?lang=${lang}`}
                aria-current={l.id === lessonId ? "page" : undefined}
                className={"shrink-0 rounded-md px-2 py-1 " + (l.id === lessonId ? "bg-accent-soft text-fg" : "text-muted hover:bg-surface-2 hover:text-fg")}
                title={`${l.title} (${t.stepsDone(done, l.steps.length)})`}
                data-testid="class-lesson-link"
                data-lesson-id={l.id}
              >
                <span className="font-mono text-subtle">{i + 1}</span> <span className="hidden lg:inline">{l.title}</span>
              </Link>
            );
          })}
        </nav>
        <div className="ml-auto flex shrink-0 items-center gap-1.5">
          {endsIn !== null && k?.state === "open" && (
            <span className="hidden items-center gap-1 text-subtle md:inline-flex" data-testid="time-left">
              <Icon name="clock" size={13} />
              {t.timeLeft(Math.ceil(endsIn / 60))}
            </span>
          )}
          <label className="hidden items-center gap-1.5 text-muted md:inline-flex" title={t.followInstructor}>
            <input type="checkbox" checked={following} onChange={(e) => onFollowing(e.target.checked)} data-testid="follow-toggle" />
            {t.followInstructor}
          </label>
          {state.stage?.live && (
            <button
              type="button"
              className={"btn-ghost btn-sm " + (broadcastOpen ? "bg-surface-3 text-fg" : "")}
              aria-pressed={broadcastOpen}
              onClick={() => onBroadcastOpen(!broadcastOpen)}
              data-testid="toggle-broadcast"
            >
              <Icon name="cast" size={14} />
              <span className="hidden lg:inline">{broadcastOpen ? t.hideBroadcast : t.showBroadcast}</span>
            </button>
          )}
          <button
            type="button"
            className={state.hand.raised ? "btn-primary btn-sm" : "btn-secondary btn-sm"}
            aria-pressed={state.hand.raised}
            onClick={() => (state.hand.raised ? onHand(false) : setAsking((a) => !a))}
            data-testid="raise-hand"
          >
            <Icon name="hand" size={14} />
            {state.hand.raised ? t.lowerHand : t.raiseHand}
          </button>
          <span className="hidden max-w-[8rem] truncate pl-1 text-subtle sm:inline" title={name}>
            {name}
          </span>
        </div>
      </div>

      {asking && !state.hand.raised && (
        <form
          className="flex items-center gap-2 border-b border-line bg-surface-2 px-3 py-2"
          onSubmit={(e) => {
            e.preventDefault();
            onHand(true, message);
            setAsking(false);
            setMessage("");
          }}
          data-testid="hand-form"
        >
          <input
            autoFocus
            className="min-w-0 flex-1 rounded-md border border-line bg-surface px-2 py-1 text-[0.9333rem]"
            placeholder={t.handMessage}
            maxLength={280}
            value={message}
            onChange={(e) => setMessage(e.target.value)}
            aria-label={t.handMessage}
          />
          <button type="submit" className="btn-primary btn-sm">
            {t.send}
          </button>
          <button type="button" className="btn-ghost btn-sm" onClick={() => setAsking(false)}>
            {t.cancel}
          </button>
        </form>
      )}

      {state.watchers > 0 && (
        <div className="flex items-center gap-2 border-b border-warning/30 bg-warning-soft px-3 py-1.5 text-[0.8667rem] text-warning" role="status" data-testid="watch-indicator" data-count={state.watchers}>
          <Icon name="eye" size={15} />
          {t.watching(state.watchers)}
        </div>
      )}
      {state.grants.takeover && <GrantBar icon="keyboard" text={t.takeoverOn} stop={t.stop} onStop={() => onRevoke("takeover")} testId="takeover-indicator" stopTestId="revoke-takeover" />}
      {state.grants.broadcast && <GrantBar icon="cast" text={t.broadcastOn} stop={t.stop} onStop={() => onRevoke("broadcast")} testId="shared-indicator" stopTestId="revoke-broadcast" />}
      {labsEndIn !== null && !state.ended && (
        <div className="border-b border-danger/30 bg-danger-soft px-3 py-2 text-[0.9333rem] font-medium text-danger" role="alert" data-testid="ending-banner">
          {t.endingBanner(labsEndIn)}
        </div>
      )}

      {request && (
        <div className="fixed inset-0 z-50 flex items-center justify-center bg-black/40 p-4">
          <div role="alertdialog" aria-modal="true" aria-labelledby="class-request-title" className="w-full max-w-md rounded-xl border border-line bg-surface p-5 shadow-xl" data-testid="consent-prompt" data-kind={request}>
            <h2 id="class-request-title" className="mb-1 text-[1.0667rem] font-semibold text-fg">
              {request === "takeover" ? t.takeoverAsk : t.broadcastAsk}
            </h2>
            <p className="mb-4 text-[0.9333rem] text-muted">{request === "takeover" ? t.takeoverAskDetail : t.broadcastAskDetail}</p>
            <div className="flex justify-end gap-2">
              <button type="button" className="btn-secondary" onClick={() => onAnswer(request, false)} data-testid="consent-decline">
                {t.decline}
              </button>
              <button ref={allowRef} type="button" className="btn-primary" onClick={() => onAnswer(request, true)} data-testid="consent-allow">
                {t.allow}
              </button>
            </div>
          </div>
        </div>
      )}

      {state.ended && (
        <div className="fixed inset-0 z-40 flex items-center justify-center bg-bg/85 p-4 backdrop-blur-sm" data-testid="class-ended">
          <div className="max-w-md rounded-xl border border-line bg-surface p-6 text-center shadow-xl">
            <h2 className="mb-2 text-[1.2rem] font-semibold text-fg">{t.ended}</h2>
            <p className="text-muted">{t.endedDetail}</p>
          </div>
        </div>
      )}
    </div>
  );
}

/** A consent in force (the instructor may type here, or this terminal is shown to the class), with its way back. */
function GrantBar({ icon, text, stop, onStop, testId, stopTestId }: { icon: "keyboard" | "cast"; text: string; stop: string; onStop(): void; testId: string; stopTestId: string }) {
  return (
    <div className="flex items-center gap-2 border-b border-danger/30 bg-danger-soft px-3 py-1.5 text-[0.8667rem] text-danger" role="status" data-testid={testId}>
      <Icon name={icon} size={15} />
      {text}
      <button type="button" className="btn-secondary btn-sm ml-auto" onClick={onStop} data-testid={stopTestId}>
        {stop}
      </button>
    </div>
  );
}
