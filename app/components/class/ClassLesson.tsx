"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import type { StepPass } from "@/lib/classes";
import { classDict } from "@/app/i18n/classes";
import type { Lang } from "@/app/i18n/dict";
import { classApi, classSocketUrl, membership, type StoredMembership } from "@/app/lib/classes";
import type { LessonView } from "@/app/lib/lesson-view";
import { markPassed, readProgress } from "@/app/lib/progress";
import { readJson, subscribeKey, writeJson } from "@/app/lib/storage";
import { LessonWorkspaceView } from "../lesson/LessonWorkspace";
import { Icon } from "../ui/Icon";
import { ClassBar } from "./ClassBar";
import { StreamView } from "./StreamView";
import { useClassControl } from "./use-class-control";
import { useClassLab } from "./use-class-lab";

export interface ClassLessonLink {
  id: string;
  title: string;
  steps: { id: string; title: string }[];
}

const followSeenKey = (id: string) => `nslab:class-follow-seen:${id}`;
const followOptKey = (id: string) => `nslab:class-follow:${id}`;
const broadcastKey = "nslab:class-broadcast-open";

/** The membership kept in this browser (client only: null before hydration and when there is none). */
function useMembership(classId: string): StoredMembership | null | undefined {
  return useSyncExternalStore(
    useCallback((cb: () => void) => subscribeKey(`nslab:class:${classId}`, cb), [classId]),
    () => membership(classId),
    () => undefined,
  );
}

/**
 * A lesson inside a class, for a learner: the usual lesson and lab (the class lab, kept for the
 * whole class), with the class bar on top, the instructor's broadcast as a pane above the lab,
 * and the instructor's "follow me" moving the page.
 */
export function ClassLesson({ classId, lesson, lessons, lang, initialStep }: { classId: string; lesson: LessonView; lessons: ClassLessonLink[]; lang: Lang; initialStep: string | null }) {
  const t = classDict(lang);
  const m = useMembership(classId);
  const router = useRouter();
  const scope = `class:${classId}`;

  const seed = useCallback(
    (passes: StepPass[]) => {
      for (const p of passes) {
        const total = p.lesson === lesson.id ? lesson.steps.length : (lessons.find((l) => l.id === p.lesson)?.steps.length ?? readProgress(p.lesson, scope)?.total ?? 0);
        markPassed(p.lesson, p.step, total, { scope });
      }
    },
    [lesson.id, lesson.steps.length, lessons, scope],
  );
  const ctl = useClassControl(m ?? null, (p) => seed([p]), () => {});
  const classLessons = useMemo(
    () => (ctl.state.klass?.lessons ?? []).flatMap((id) => lessons.filter((l) => l.id === id)),
    [ctl.state.klass?.lessons, lessons],
  );
  const lab = useClassLab(m ?? null, ctl.state.ended);

  // the server's record of this learner's progress is the truth: seed this browser's copy from it
  useEffect(() => {
    if (!m) return;
    classApi.me(m).then((me) => seed(me.passed), () => {});
  }, [m, seed]);

  // where the learner is: lesson, step, terminal in front
  const [step, setStep] = useState<string | null>(null);
  const [terminal, setTerminal] = useState<string | null>(null);
  const { setPosition } = ctl;
  useEffect(() => {
    if (m) setPosition(lesson.id, step, terminal);
  }, [m, lesson.id, step, terminal, setPosition]);

  // follow me: move (or offer to) when the instructor pushes a place the learner has not seen
  const following = useSyncExternalStore(
    useCallback((cb: () => void) => subscribeKey(followOptKey(classId), cb), [classId]),
    () => readJson<boolean>(followOptKey(classId)) !== false,
    () => true,
  );
  const [goto, setGoto] = useState<{ step: string | null; seq: number } | null>(initialStep ? { step: initialStep, seq: 1 } : null);
  const [notice, setNotice] = useState<{ lesson: string; step: string | null; moved: boolean } | null>(null);
  const follow = ctl.state.follow;
  useEffect(() => {
    if (!follow) return;
    const at = Date.parse(follow.at);
    const seen = readJson<number>(followSeenKey(classId)) ?? 0;
    if (at <= seen) return;
    writeJson(followSeenKey(classId), at);
    if (!following) {
      setNotice({ lesson: follow.lesson, step: follow.step, moved: false });
      return;
    }
    setNotice({ lesson: follow.lesson, step: follow.step, moved: true });
    if (follow.lesson === lesson.id) setGoto((g) => ({ step: follow.step, seq: (g?.seq ?? 0) + 1 }));
    else router.push(`/class/${classId}/${follow.lesson}?lang=${lang}${follow.step ? `&step=${follow.step}` : ""}&moved=1`);
  }, [follow, following, classId, lesson.id, lang, router]);
  useEffect(() => {
    // arrived here by "follow me" from another lesson: say so
    if (new URLSearchParams(window.location.search).get("moved") === "1") setNotice({ lesson: lesson.id, step: initialStep, moved: true });
  }, [lesson.id, initialStep]);

  const where = (l: string, s: string | null) => {
    const x = lessons.find((y) => y.id === l);
    const i = s ? (x?.steps.findIndex((y) => y.id === s) ?? -1) : -1;
    return `${x?.title ?? l}${i >= 0 ? ` · ${i + 1}. ${x!.steps[i]!.title}` : ""}`;
  };

  const broadcastOpen = useSyncExternalStore(
    useCallback((cb: () => void) => subscribeKey(broadcastKey, cb), []),
    () => readJson<boolean>(broadcastKey) !== false,
    () => true,
  );
  const stage = ctl.state.stage;
  const live = stage?.live === true;
  const mine = live && stage?.source === "learner" && stage.learnerId === m?.learnerId;
  const broadcastUrl = useMemo(() => (m ? classSocketUrl(classId, "broadcast", m.key) : null), [m, classId]);
  const labTop =
    broadcastOpen && live && !mine && broadcastUrl && !ctl.state.ended ? (
      <section className="flex h-full min-h-0 flex-col bg-surface" aria-label={t.broadcast} data-testid="broadcast-pane">
        <div className="flex h-9 shrink-0 items-center gap-2 border-b border-line px-3 text-[0.8667rem]">
          <span className="inline-flex items-center gap-1.5 font-medium text-danger">
            <span className="size-2 animate-pulse rounded-full bg-danger" aria-hidden="true" />
            {stage?.source === "learner" && stage.name ? t.broadcastOf(stage.name) : t.broadcast}
          </span>
          <button type="button" className="btn-ghost btn-sm ml-auto" onClick={() => writeJson(broadcastKey, false)} data-testid="hide-broadcast">
            <Icon name="x" size={13} /> {t.hideBroadcast}
          </button>
        </div>
        <div className="min-h-0 flex-1">
          <StreamView url={broadcastUrl} kind="broadcast" label={t.broadcast} />
        </div>
      </section>
    ) : null;

  if (m === undefined) return <div className="flex flex-1 items-center justify-center text-muted">{t.classNotOpen}</div>;
  if (m === null)
    return (
      <div className="flex flex-1 flex-col items-center justify-center gap-3 p-8 text-center" data-testid="class-not-joined">
        <p className="text-fg">{t.noClassHere}</p>
        <Link href={`/join?lang=${lang}`} className="btn-primary">
          {t.goJoin}
        </Link>
      </div>
    );

  return (
    <div className="flex min-h-0 flex-1 flex-col" data-testid="class-lesson" data-class-id={classId} data-lesson-id={lesson.id}>
      <ClassBar
        lang={lang}
        classId={classId}
        lessonId={lesson.id}
        lessons={classLessons}
        state={ctl.state}
        name={m.name}
        following={following}
        broadcastOpen={broadcastOpen}
        onFollowing={(v) => writeJson(followOptKey(classId), v)}
        onBroadcastOpen={(v) => writeJson(broadcastKey, v)}
        onHand={ctl.raiseHand}
        onAnswer={ctl.answer}
        onRevoke={ctl.revoke}
      />
      {notice && (
        <div className="flex items-center gap-3 border-b border-accent/30 bg-accent-soft px-4 py-2 text-[0.9333rem] text-fg" role="status" data-testid="follow-notice" data-moved={notice.moved}>
          <Icon name="arrowRight" size={14} className="text-accent" />
          <span className="min-w-0 flex-1 truncate">{notice.moved ? t.followNotice(where(notice.lesson, notice.step)) : t.followNoticeOptOut(where(notice.lesson, notice.step))}</span>
          {!notice.moved && (
            <button
              type="button"
              className="btn-secondary btn-sm"
              onClick={() => {
                setNotice(null);
                if (notice.lesson === lesson.id) setGoto((g) => ({ step: notice.step, seq: (g?.seq ?? 0) + 1 }));
                else router.push(`/class/${classId}/${notice.lesson}?lang=${lang}${notice.step ? `&step=${notice.step}` : ""}`);
              }}
            >
              {t.goThere}
            </button>
          )}
          <button type="button" className="btn-ghost btn-sm" onClick={() => setNotice(null)} data-testid="dismiss-notice">
            {t.dismiss}
          </button>
        </div>
      )}
      <main id="main" className="flex min-h-0 flex-1">
        <LessonWorkspaceView
          lesson={lesson}
          lang={lang}
          next={null}
          lab={lab}
          classProps={{
            progressScope: scope,
            onMarkDone: (s) => void classApi.markDone(m, lesson.id, s).catch(() => {}),
            onCurrentStep: setStep,
            onActiveTerminal: setTerminal,
            goto,
            labTop,
          }}
        />
      </main>
    </div>
  );
}
