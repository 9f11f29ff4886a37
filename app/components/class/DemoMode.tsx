"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useRef, useState } from "react";
import type { ClassView } from "@/lib/classes";
import { classDict } from "@/app/i18n/classes";
import type { Lang } from "@/app/i18n/dict";
import { api, ApiCallError } from "@/app/lib/api";
import { classApi, instructorKeyFromPage } from "@/app/lib/classes";
import type { LessonView } from "@/app/lib/lesson-view";
import type { LabPhase } from "@/app/lib/use-lab";
import { LessonWorkspaceView } from "../lesson/LessonWorkspace";
import { Icon } from "../ui/Icon";
import type { ClassLessonLink } from "./ClassLesson";
import { JoinScreen } from "./JoinScreen";

/** The instructor's own class lab (made on first use), in the shape LabPanel takes. */
function useInstructorLab(classId: string, key: string | null, lesson: string | null) {
  const [phase, setPhase] = useState<LabPhase>({ kind: "checking" });
  const gen = useRef(0);
  const load = useCallback(() => {
    if (!key) return;
    setPhase({ kind: "creating" });
    (async () => {
      const { lab } = await classApi.instructorLab(classId, key, lesson);
      const status = await api.labStatus(lab).catch(() => null);
      setPhase({ kind: "ready", lab, status, generation: ++gen.current });
    })().catch((e: unknown) => setPhase({ kind: e instanceof ApiCallError && e.status === 503 ? "rate-limited" : "error", message: e instanceof Error ? e.message : String(e) }));
  }, [classId, key, lesson]);
  useEffect(load, [load]);
  return { phase, reset: async () => load(), retry: load, markGone: () => setPhase({ kind: "gone" }) };
}

/**
 * Demo mode, for the projector (made for 1280×720): large text, the explorer open, the lesson
 * beside the instructor's own lab. The terminal in front is broadcast read-only to every learner
 * while "on air"; "bring the class here" moves every learner to this lesson and step.
 */
export function DemoMode({ classId, lang, lesson, lessons }: { classId: string; lang: Lang; lesson: LessonView | null; lessons: ClassLessonLink[] }) {
  const t = classDict(lang);
  const router = useRouter();
  const [key, setKey] = useState<string | null | undefined>(undefined);
  const [klass, setKlass] = useState<ClassView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sent, setSent] = useState(false);
  const [joinScreen, setJoinScreen] = useState(false);
  const step = useRef<string | null>(null);
  const terminal = useRef<string | null>(null);
  const lab = useInstructorLab(classId, key ?? null, lesson?.id ?? null);

  useEffect(() => setKey(instructorKeyFromPage(classId)), [classId]);
  useEffect(() => {
    if (!key) return;
    classApi.roster(classId, key).then(
      (r) => {
        setKlass(r.class);
        if (!lesson) router.replace(`/instructor/${classId}/demo?lang=${lang}&lesson=${r.class.follow?.lesson ?? r.class.lessons[0]}`);
      },
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
    );
  }, [classId, key, lesson, lang, router]);

  // projector: large text while this page is open (the learner's own preference is not touched)
  useEffect(() => {
    const html = document.documentElement;
    const before = html.getAttribute("data-size");
    html.setAttribute("data-size", "large");
    return () => {
      if (before) html.setAttribute("data-size", before);
      else html.removeAttribute("data-size");
    };
  }, []);

  const onAir = klass?.stage.source === "instructor";
  const setStage = async (on: boolean) => {
    if (!key) return;
    try {
      await classApi.stage(classId, key, on ? { source: "instructor", terminal: terminal.current } : { source: null });
      setKlass((await classApi.roster(classId, key)).class);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const onActiveTerminal = useCallback(
    (tid: string | null) => {
      terminal.current = tid;
      if (onAir && key && tid) void classApi.stage(classId, key, { source: "instructor", terminal: tid }).catch(() => {});
    },
    [onAir, key, classId],
  );

  if (key === null) return <p className="p-8 text-center text-muted">{t.instructorKeyMissing}</p>;
  const classLessons = (klass?.lessons ?? []).flatMap((id) => lessons.filter((l) => l.id === id));
  return (
    <div className="flex h-dvh flex-col overflow-hidden" data-testid="demo-mode">
      <div className="flex h-12 shrink-0 items-center gap-2 border-b border-line bg-surface px-3">
        <Link href={`/instructor/${classId}?lang=${lang}`} className="btn-ghost btn-sm" data-testid="back-to-dashboard">
          <Icon name="arrowLeft" size={14} /> {t.openDashboard}
        </Link>
        <span className="truncate font-semibold text-fg">{klass?.title}</span>
        <label className="ml-2 flex items-center gap-1.5 text-sm text-muted">
          {t.lessonPick}
          <select
            className="max-w-[16rem] rounded-md border border-line bg-surface px-1.5 py-1 text-sm text-fg"
            value={lesson?.id ?? ""}
            onChange={(e) => router.push(`/instructor/${classId}/demo?lang=${lang}&lesson=${e.target.value}`)}
            data-testid="demo-lesson"
          >
            {classLessons.map((l) => (
              <option key={l.id} value={l.id}>
                {l.title}
              </option>
            ))}
          </select>
        </label>
        <div className="ml-auto flex items-center gap-1.5">
          {sent && <span className="text-sm text-success" role="status">{t.followSent}</span>}
          <button
            type="button"
            className="btn-secondary btn-sm"
            disabled={!lesson || !key}
            onClick={() =>
              lesson &&
              key &&
              classApi.follow(classId, key, lesson.id, step.current).then(
                () => {
                  setSent(true);
                  setTimeout(() => setSent(false), 3000);
                },
                (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
              )
            }
            data-testid="follow-me"
          >
            <Icon name="users" size={14} /> {t.followMe}
          </button>
          <button
            type="button"
            className={onAir ? "btn-primary btn-sm" : "btn-secondary btn-sm"}
            aria-pressed={onAir}
            disabled={lab.phase.kind !== "ready"}
            onClick={() => void setStage(!onAir)}
            data-testid="broadcast-toggle"
            data-live={onAir}
          >
            <Icon name="cast" size={14} /> {onAir ? t.stopBroadcast : t.broadcastMine}
          </button>
          <button type="button" className="btn-secondary btn-sm" onClick={() => setJoinScreen(true)} disabled={!klass}>
            <Icon name="qr" size={14} /> {t.joinScreen}
          </button>
        </div>
      </div>
      {error && (
        <div className="border-b border-danger/30 bg-danger-soft px-3 py-1 text-sm text-danger" role="alert">
          {error}
        </div>
      )}
      <main id="main" className="flex min-h-0 flex-1">
        {lesson && (
          <LessonWorkspaceView
            lesson={lesson}
            lang={lang}
            next={null}
            lab={lab}
            classProps={{
              progressScope: `demo:${classId}`,
              onCurrentStep: (s) => (step.current = s),
              onActiveTerminal,
              explorerInitiallyOpen: true,
            }}
          />
        )}
      </main>
      {joinScreen && klass && <JoinScreen code={klass.code} title={klass.title} lang={lang} onClose={() => setJoinScreen(false)} />}
    </div>
  );
}
