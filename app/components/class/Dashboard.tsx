"use client";
import Link from "next/link";
import { useEffect, useMemo, useRef, useState } from "react";
import { displayCode, type LearnerView } from "@/lib/classes";
import { classDict, type ClassStrings } from "@/app/i18n/classes";
import type { Lang } from "@/app/i18n/dict";
import { classApi, classSocketUrl, instructorKeyFromPage, joinUrl } from "@/app/lib/classes";
import { copyText } from "@/app/lib/clipboard";
import { Icon } from "../ui/Icon";
import type { ClassLessonLink } from "./ClassLesson";
import { useCountdown } from "./ClassBar";
import { JoinScreen } from "./JoinScreen";
import { StreamView } from "./StreamView";
import { useDashboard, useNow } from "./use-dashboard";

type Filter = "all" | "stuck" | "hands" | "offline";
type Sort = "name" | "progress" | "stuck" | "activity";
const STUCK_S = 5 * 60;

const MiB = 1024 * 1024;
const mb = (b: number | null) => (b === null ? "?" : `${Math.round(b / MiB)} MiB`);
const secs = (now: number, iso: string | null) => (iso ? Math.max(0, Math.round((now - Date.parse(iso)) / 1000)) : null);

/** The instructor's live dashboard: roster tiles for up to 100 learners on one screen, the help queue, watching. */
export function Dashboard({ classId, lang, lessons }: { classId: string; lang: Lang; lessons: ClassLessonLink[] }) {
  const t = classDict(lang);
  const [key, setKey] = useState<string | null | undefined>(undefined);
  useEffect(() => setKey(instructorKeyFromPage(classId)), [classId]);
  const d = useDashboard(classId, key ?? null);
  const now = useNow(d.skewMs);
  const [filter, setFilter] = useState<Filter>("all");
  const [sort, setSort] = useState<Sort>("name");
  const [query, setQuery] = useState("");
  const [selected, setSelected] = useState<string | null>(null);
  const [joinScreen, setJoinScreen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const k = d.klass;
  const labsEndIn = useCountdown(k?.state === "ending" ? k.labsEndAt : null);
  const endsIn = useCountdown(k?.state === "open" ? k.endsAt : null);

  const lessonOf = useMemo(() => new Map(lessons.map((l) => [l.id, l])), [lessons]);
  const totalSteps = useMemo(() => (k?.lessons ?? []).reduce((n, id) => n + (lessonOf.get(id)?.steps.length ?? 0), 0), [k?.lessons, lessonOf]);

  const rows = useMemo(() => {
    const q = query.trim().toLowerCase();
    const stuck = (l: LearnerView) => (l.step ? (secs(now, l.stepSince) ?? 0) : 0);
    let list = [...d.learners.values()].filter((l) => !q || l.name.toLowerCase().includes(q));
    if (filter === "stuck") list = list.filter((l) => l.step !== null && stuck(l) > STUCK_S);
    if (filter === "hands") list = list.filter((l) => l.hand);
    if (filter === "offline") list = list.filter((l) => !l.online);
    const by: Record<Sort, (a: LearnerView, b: LearnerView) => number> = {
      name: (a, b) => a.name.localeCompare(b.name),
      progress: (a, b) => b.passed.length - a.passed.length,
      stuck: (a, b) => stuck(b) - stuck(a),
      activity: (a, b) => Date.parse(a.lastActivity ?? "0") - Date.parse(b.lastActivity ?? "0"),
    };
    return list.sort((a, b) => by[sort](a, b) || a.name.localeCompare(b.name));
  }, [d.learners, filter, sort, query, now]);

  const act = (p: Promise<unknown>) => p.catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));

  if (key === null || d.denied) return <p className="p-8 text-center text-muted" data-testid="dashboard-denied">{t.instructorKeyMissing}</p>;
  if (!k || !key) return <p className="p-8 text-center text-muted">…</p>;
  const sel = selected ? d.learners.get(selected) : undefined;

  return (
    <div className="flex min-h-0 flex-1 flex-col" data-testid="dashboard" data-class-state={k.state}>
      <div className="flex flex-wrap items-center gap-x-4 gap-y-2 border-b border-line bg-surface px-4 py-2.5">
        <div className="min-w-0">
          <h1 className="truncate text-[1.1rem] font-semibold text-fg" data-testid="dashboard-title">
            {k.title}
          </h1>
          <p className="text-[0.8rem] text-muted">
            {t.learnersCount(k.learners, k.maxLearners)}
            {endsIn !== null && <> · {t.timeLeft(Math.ceil(endsIn / 60))}</>}
          </p>
        </div>
        <button type="button" className="rounded-lg border border-line-strong px-3 py-1 font-mono text-2xl font-bold tracking-[0.12em] text-fg hover:bg-surface-2" onClick={() => setJoinScreen(true)} title={t.joinScreen} data-testid="class-code">
          {displayCode(k.code)}
        </button>
        <span className={"inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium " + (k.stage.live ? "bg-danger-soft text-danger" : "bg-surface-2 text-subtle")} data-testid="stage-status" data-live={k.stage.live}>
          <Icon name="cast" size={12} /> {k.stage.live ? `${t.stageLive}${k.stage.name ? `: ${k.stage.name}` : ""}` : t.stageOff}
        </span>
        <div className="ml-auto flex flex-wrap items-center gap-1.5">
          <button type="button" className="btn-secondary btn-sm" onClick={() => setJoinScreen(true)} data-testid="open-join-screen">
            <Icon name="qr" size={14} /> {t.joinScreen}
          </button>
          <button type="button" className="btn-secondary btn-sm" onClick={() => void copyText(joinUrl(k.code))}>
            <Icon name="copy" size={14} /> {t.copyLink}
          </button>
          <Link href={`/instructor/${classId}/demo?lang=${lang}`} className="btn-primary btn-sm" data-testid="open-demo">
            <Icon name="terminal" size={14} /> {t.demo}
          </Link>
          {k.state === "open" && (
            <>
              <button type="button" className="btn-secondary btn-sm" onClick={() => act(classApi.update(classId, key, { locked: !k.locked }))} aria-pressed={k.locked} data-testid="lock-class">
                <Icon name={k.locked ? "lock" : "unlock"} size={14} /> {k.locked ? t.unlock : t.lock}
              </button>
              <button type="button" className="btn-secondary btn-sm" onClick={() => act(classApi.update(classId, key, { endsAt: new Date(Date.parse(k.endsAt) + 15 * 60_000).toISOString() }))} data-testid="extend-class">
                <Icon name="clock" size={14} /> {t.extend(15)}
              </button>
              <button type="button" className="btn-secondary btn-sm text-danger" onClick={() => window.confirm(t.endClassConfirm) && act(classApi.end(classId, key))} data-testid="end-class">
                {t.endClass}
              </button>
            </>
          )}
          <button type="button" className="btn-ghost btn-sm" onClick={() => act(classApi.download(classId, key, "csv"))} data-testid="export-csv">
            <Icon name="download" size={14} /> {t.exportCsv}
          </button>
          <button type="button" className="btn-ghost btn-sm" onClick={() => act(classApi.download(classId, key, "json"))}>
            {t.exportJson}
          </button>
        </div>
      </div>
      {k.state === "ending" && labsEndIn !== null && (
        <div className="border-b border-danger/30 bg-danger-soft px-4 py-1.5 text-sm font-medium text-danger" role="status" data-testid="dashboard-ending">
          {t.endingIn(labsEndIn)}
        </div>
      )}
      {k.state === "ended" && <div className="border-b border-line bg-surface-2 px-4 py-1.5 text-sm text-muted">{t.classEnded}</div>}
      {error && (
        <div className="flex items-center gap-2 border-b border-danger/30 bg-danger-soft px-4 py-1.5 text-sm text-danger" role="alert">
          {error}
          <button type="button" className="btn-ghost btn-sm ml-auto" onClick={() => setError(null)}>
            {t.dismiss}
          </button>
        </div>
      )}

      <div className="flex min-h-0 flex-1">
        <section className="flex min-h-0 min-w-0 flex-1 flex-col" aria-label={t.dashboard}>
          <div className="flex flex-wrap items-center gap-2 px-4 py-2">
            <input className="w-44 rounded-md border border-line bg-surface px-2 py-1 text-sm" placeholder={t.search} value={query} onChange={(e) => setQuery(e.target.value)} aria-label={t.search} />
            <div className="flex gap-1" role="group">
              {(["all", "stuck", "hands", "offline"] as Filter[]).map((f) => (
                <button key={f} type="button" aria-pressed={filter === f} className={"btn-ghost btn-sm " + (filter === f ? "bg-surface-3 text-fg" : "")} onClick={() => setFilter(f)} data-testid={`filter-${f}`}>
                  {{ all: t.filterAll, stuck: t.filterStuck, hands: t.filterHands, offline: t.filterOffline }[f]}
                </button>
              ))}
            </div>
            <label className="ml-auto flex items-center gap-1.5 text-sm text-muted">
              {t.sortBy}
              <select className="rounded-md border border-line bg-surface px-1.5 py-1 text-sm text-fg" value={sort} onChange={(e) => setSort(e.target.value as Sort)} data-testid="sort">
                <option value="name">{t.sortName}</option>
                <option value="progress">{t.sortProgress}</option>
                <option value="stuck">{t.sortStuck}</option>
                <option value="activity">{t.sortActivity}</option>
              </select>
            </label>
          </div>
          <div className="min-h-0 flex-1 overflow-y-auto px-4 pb-4">
            {d.learners.size === 0 ? (
              <p className="rounded-xl border border-dashed border-line p-8 text-center text-muted">{t.noLearners}</p>
            ) : (
              <ol className="grid gap-1.5" style={{ gridTemplateColumns: "repeat(auto-fill, minmax(10.5rem, 1fr))" }} data-testid="roster">
                {rows.map((l) => (
                  <LearnerTile key={l.id} l={l} t={t} now={now} lessonOf={lessonOf} total={totalSteps} selected={l.id === selected} onSelect={() => setSelected(l.id === selected ? null : l.id)} />
                ))}
              </ol>
            )}
          </div>
        </section>
        <aside className={"w-72 shrink-0 flex-col border-l border-line bg-surface " + (sel ? "hidden 2xl:flex" : "flex")} aria-label={t.helpQueue} data-testid="help-queue">
          <h2 className="flex items-center gap-2 border-b border-line px-3 py-2 text-sm font-semibold text-fg">
            <Icon name="hand" size={14} /> {t.helpQueue} <span className="ml-auto text-xs font-normal text-subtle">{d.help.length}</span>
          </h2>
          {d.help.length === 0 ? (
            <p className="p-3 text-sm text-subtle">{t.helpEmpty}</p>
          ) : (
            <ol className="min-h-0 flex-1 overflow-y-auto">
              {d.help.map((h) => (
                <li key={h.id} className="border-b border-line px-3 py-2" data-testid="help-item" data-learner-id={h.learnerId}>
                  <div className="flex items-baseline gap-2">
                    <span className="truncate font-medium text-fg">{h.name}</span>
                    <span className="ml-auto shrink-0 text-xs text-subtle">{t.ago(secs(now, h.at) ?? 0)}</span>
                  </div>
                  {h.message && <p className="mt-0.5 break-words text-sm text-muted">{h.message}</p>}
                  <div className="mt-1.5 flex gap-1">
                    <button type="button" className="btn-secondary btn-sm" onClick={() => setSelected(h.learnerId)}>
                      <Icon name="eye" size={13} /> {t.watch}
                    </button>
                    <button type="button" className="btn-ghost btn-sm" onClick={() => act(classApi.resolveHelp(classId, key, h.id))} data-testid="resolve-help">
                      <Icon name="check" size={13} /> {t.resolve}
                    </button>
                  </div>
                </li>
              ))}
            </ol>
          )}
        </aside>
        {sel && <LearnerPanel key={sel.id} l={sel} classId={classId} k={key} t={t} now={now} lessonOf={lessonOf} stageLearner={k.stage.source === "learner" ? k.stage.learnerId : null} open={k.state !== "ended"} onClose={() => setSelected(null)} onError={setError} />}
      </div>
      {joinScreen && <JoinScreen code={k.code} title={k.title} lang={lang} onClose={() => setJoinScreen(false)} />}
    </div>
  );
}

function LearnerTile({ l, t, now, lessonOf, total, selected, onSelect }: { l: LearnerView; t: ClassStrings; now: number; lessonOf: Map<string, ClassLessonLink>; total: number; selected: boolean; onSelect(): void }) {
  const lesson = l.lesson ? lessonOf.get(l.lesson) : undefined;
  const stepIndex = lesson && l.step ? lesson.steps.findIndex((s) => s.id === l.step) : -1;
  const onStep = l.step ? secs(now, l.stepSince) : null;
  const stuck = onStep !== null && onStep > STUCK_S;
  const idle = secs(now, l.lastActivity);
  const health = l.lab;
  const memPct = health && health.memoryBytes !== null ? Math.min(100, (100 * health.memoryBytes) / health.memoryMax) : 0;
  return (
    <li>
      <button
        type="button"
        onClick={onSelect}
        aria-pressed={selected}
        className={
          "flex h-full w-full flex-col gap-0.5 rounded-lg border bg-surface px-2 py-1.5 text-left text-[0.8rem] leading-tight hover:border-accent " +
          (selected ? "border-accent ring-1 ring-accent" : l.hand ? "border-accent/60" : stuck ? "border-warning/70" : "border-line")
        }
        data-testid="learner-tile"
        data-learner-id={l.id}
        data-passed={l.passed.length}
        data-stuck={stuck}
        data-hand={l.hand !== null}
        data-online={l.online}
        data-watchers={l.watchers}
      >
        <span className="flex items-center gap-1">
          <span className={"size-1.5 shrink-0 rounded-full " + (l.online ? "bg-success" : "bg-line-strong")} aria-label={l.online ? undefined : t.offline} />
          <span className="min-w-0 flex-1 truncate font-semibold text-fg" data-testid="learner-name">
            {l.name}
          </span>
          {l.hand && <Icon name="hand" size={13} className="shrink-0 text-accent" />}
          {l.watchers > 0 && <Icon name="eye" size={12} className="shrink-0 text-subtle" />}
        </span>
        {/* the title gives way (ellipsis), the step count always shows */}
        <span className="flex min-w-0 text-muted" title={lesson && stepIndex >= 0 ? `${lesson.title} · ${lesson.steps[stepIndex]!.title}` : undefined} data-testid="learner-lesson">
          {lesson ? (
            <>
              <span className="min-w-0 truncate">{lesson.title}</span>
              <span className="shrink-0 whitespace-pre tabular-nums">{` · ${stepIndex >= 0 ? `${stepIndex + 1}/${lesson.steps.length}` : "✓"}`}</span>
            </>
          ) : (
            "—"
          )}
        </span>
        <span className="mt-0.5 h-1 w-full overflow-hidden rounded-full bg-surface-3" aria-hidden="true">
          <span className="block h-full bg-success" style={{ width: `${total ? Math.min(100, (100 * l.passed.length) / total) : 0}%` }} />
        </span>
        <span className="flex items-center gap-1 text-subtle tabular-nums">
          <span className={stuck ? "font-medium text-warning" : ""}>{onStep !== null ? t.duration(onStep) : ""}</span>
          <span className="ml-auto">{idle !== null ? t.ago(idle) : ""}</span>
        </span>
        <span className="flex items-center gap-1 text-[0.7rem] text-subtle" title={health ? `${t.mem(mb(health.memoryBytes), mb(health.memoryMax))} · ${t.pids(health.pids ?? 0, health.pidsMax)}` : t.labNone}>
          <span className={"size-1.5 rounded-full " + (health?.alive ? "bg-success" : "bg-danger")} />
          {health ? (
            <span className="h-1 flex-1 overflow-hidden rounded-full bg-surface-3">
              <span className={"block h-full " + (memPct > 85 ? "bg-danger" : "bg-accent/60")} style={{ width: `${memPct}%` }} />
            </span>
          ) : (
            t.labNone
          )}
        </span>
      </button>
    </li>
  );
}

/** One learner: steps with times, checks, the lab's health, and their own terminal live (watch, take over, show to class). */
function LearnerPanel({
  l,
  classId,
  k,
  t,
  now,
  lessonOf,
  stageLearner,
  open,
  onClose,
  onError,
}: {
  l: LearnerView;
  classId: string;
  k: string;
  t: ClassStrings;
  now: number;
  lessonOf: Map<string, ClassLessonLink>;
  stageLearner: string | null;
  open: boolean;
  onClose(): void;
  onError(m: string): void;
}) {
  const drive = useRef<WebSocket | null>(null);
  const [driving, setDriving] = useState(false);
  const act = (p: Promise<unknown>) => p.catch((e: unknown) => onError(e instanceof Error ? e.message : String(e)));
  // with the learner's consent, typing in the view goes to their shell over the drive socket
  useEffect(() => {
    if (!l.grants.takeover || !open) return;
    const ws = new WebSocket(classSocketUrl(classId, `learners/${l.id}/drive`, k));
    ws.onopen = () => setDriving(true);
    ws.onclose = () => setDriving(false);
    drive.current = ws;
    return () => {
      ws.close();
      drive.current = null;
      setDriving(false);
    };
  }, [l.grants.takeover, l.id, classId, k, open]);
  const enc = useMemo(() => new TextEncoder(), []);
  const watchUrl = useMemo(() => classSocketUrl(classId, `learners/${l.id}/watch`, k), [classId, l.id, k]);
  const h = l.lab;
  return (
    <aside className="flex w-[44rem] max-w-[60vw] shrink-0 flex-col border-l border-line bg-surface" aria-label={t.watchTitle(l.name)} data-testid="learner-panel" data-learner-id={l.id}>
      <div className="flex items-center gap-2 border-b border-line px-3 py-2">
        <h2 className="truncate font-semibold text-fg">{t.watchTitle(l.name)}</h2>
        <span className="text-xs text-subtle">{t.checksRun(l.checks, l.failedChecks)}</span>
        <button type="button" className="btn-ghost btn-sm ml-auto" onClick={onClose} aria-label={t.close} data-testid="close-learner">
          <Icon name="x" size={14} />
        </button>
      </div>
      {open && (
        <div className="flex flex-wrap items-center gap-1.5 border-b border-line px-3 py-1.5 text-sm">
          {l.grants.takeover ? (
            <>
              <span className="text-success" data-testid="takeover-granted">{driving ? t.takeoverGranted : "…"}</span>
              <button type="button" className="btn-secondary btn-sm" onClick={() => act(classApi.revoke(classId, k, l.id, "takeover"))}>
                {t.releaseTakeover}
              </button>
            </>
          ) : l.pending.takeover ? (
            <span className="text-muted" data-testid="takeover-pending">{t.takeoverPending}</span>
          ) : (
            <button type="button" className="btn-secondary btn-sm" onClick={() => act(classApi.ask(classId, k, l.id, "takeover"))} data-testid="ask-takeover" disabled={!h}>
              <Icon name="keyboard" size={13} /> {t.askTakeover}
            </button>
          )}
          {l.grants.broadcast ? (
            stageLearner === l.id ? (
              <button type="button" className="btn-secondary btn-sm" onClick={() => act(classApi.revoke(classId, k, l.id, "broadcast"))} data-testid="stop-showing">
                {t.stopShowing}
              </button>
            ) : (
              <button type="button" className="btn-primary btn-sm" onClick={() => act(classApi.stage(classId, k, { source: "learner", learnerId: l.id }))} data-testid="show-to-class">
                <Icon name="cast" size={13} /> {t.showToClass}
              </button>
            )
          ) : l.pending.broadcast ? (
            <span className="text-muted">{t.broadcastPending}</span>
          ) : (
            <button type="button" className="btn-secondary btn-sm" onClick={() => act(classApi.ask(classId, k, l.id, "broadcast"))} data-testid="ask-broadcast" disabled={!h}>
              <Icon name="cast" size={13} /> {t.askBroadcast}
            </button>
          )}
        </div>
      )}
      <div className="h-[24rem] shrink-0 border-b border-line">
        {open ? (
          <StreamView url={watchUrl} kind="watch" label={t.watchTitle(l.name)} onInput={driving ? (data) => drive.current?.send(enc.encode(data)) : null} />
        ) : null}
      </div>
      <p className="px-3 py-1 text-xs text-subtle" data-testid="watch-mode" data-driving={driving ? "true" : "false"}>
        {driving ? t.watchDriving : t.watchReadOnly}
      </p>
      <div className="min-h-0 flex-1 overflow-y-auto px-3 pb-3 text-sm">
        {h && (
          <p className="mb-2 text-muted" data-testid="lab-health">
            {t.colLab}: {h.alive ? t.labAlive : "✗"} · {t.mem(mb(h.memoryBytes), mb(h.memoryMax))} · {t.pids(h.pids ?? 0, h.pidsMax)}
          </p>
        )}
        <ol className="flex flex-col gap-0.5">
          {l.passed.map((p) => {
            const lesson = lessonOf.get(p.lesson);
            const i = lesson?.steps.findIndex((s) => s.id === p.step) ?? -1;
            return (
              <li key={`${p.lesson}/${p.step}`} className="flex gap-2" data-testid="passed-step" data-step-id={p.step}>
                <Icon name="check" size={13} className="mt-0.5 shrink-0 text-success" />
                <span className="min-w-0 flex-1 truncate text-fg">
                  {lesson?.title ?? p.lesson} · {i >= 0 ? `${i + 1}. ${lesson!.steps[i]!.title}` : p.step}
                </span>
                <span className="shrink-0 tabular-nums text-subtle">{new Date(p.at).toLocaleTimeString()}</span>
                <span className="shrink-0 text-xs text-subtle">{t.ago(secs(now, p.at) ?? 0)}</span>
              </li>
            );
          })}
        </ol>
      </div>
    </aside>
  );
}
