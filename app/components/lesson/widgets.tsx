"use client";
import { createContext, useCallback, useContext, useEffect, useRef, useState, useSyncExternalStore } from "react";
import type { Lang } from "@/app/i18n/dict";
import { api, ApiCallError, type LabCredentials } from "@/app/lib/api";
import { readJson, subscribeKey, writeJson } from "@/app/lib/storage";
import type { ExploreTab, ExploreTarget, ObserveResponse } from "@/lib/lessons";
import { Icon } from "../ui/Icon";
import { lessonStrings } from "./strings";

/**
 * The interactive blocks of a lesson (docs/lessons.md): predictions, the observation that follows
 * them, and explore cards. The lesson's HTML carries them as `[data-nslab-predict]`,
 * `[data-nslab-observe]` and `[data-nslab-explore]`; LessonHtml portals these components in.
 *
 * A prediction is recorded in this browser (with what the kernel then did), so the page still
 * shows both after a reload. After the learner runs one of the prediction's commands, the page
 * asks the lab what happened (the prediction's observe script) when the command finishes, or
 * after a short wait for commands that do not finish (a new shell).
 */

export interface PredictionRecord {
  choice?: number; // 1-based
  text?: string;
  skipped?: boolean;
  at: number;
  observed?: ObserveResponse;
}

/** What the Explorer is asked to show: a tab, what to highlight there, and the lesson's caption. */
export interface ExplorerFocus {
  seq: number;
  tab: ExploreTab;
  targets: ExploreTarget[];
  captionHtml: string;
}

/** A prediction as its block was written: the question, and the choices for multiple choice. */
export interface PredictMeta {
  index: number;
  kind: "choice" | "text";
  questionHtml: string;
  choices: string[]; // HTML of each choice
}

const storeKey = (lesson: string) => `nslab:predictions:${lesson}`;
const recKey = (step: string, index: number) => `${step}#${index}`;
const FALLBACK_LOOK_MS = 2500; // a command that starts a shell never "finishes": look after this
const AFTER_COMMAND_MS = 300;

type Transient = { busy?: boolean; message?: string };

export interface Widgets {
  lang: Lang;
  record(step: string, index: number): PredictionRecord | undefined;
  predict(step: string, index: number, r: Omit<PredictionRecord, "at" | "observed">): void;
  change(step: string, index: number): void;
  /** A command of this prediction was run from the page. */
  ranGated(step: string, index: number): void;
  look(step: string, index: number): Promise<void>;
  lookState(step: string, index: number): Transient;
  explore(step: string, index: number, tab: ExploreTab, captionHtml: string): Promise<void>;
  exploreState(step: string, index: number): Transient;
}

const WidgetsContext = createContext<Widgets | null>(null);
/** The id of the step whose HTML is being shown (widgets exist only in steps). */
export const StepContext = createContext<string | null>(null);

export const WidgetsProvider = WidgetsContext.Provider;
export function useWidgets(): Widgets | null {
  return useContext(WidgetsContext);
}

/** The lesson-wide state behind the widgets; LessonWorkspace owns it and calls onCommand. */
export function useWidgetState(o: { lessonId: string; lang: Lang; lab: LabCredentials | null; onExplore(f: Omit<ExplorerFocus, "seq">): void }) {
  const { lessonId, lang } = o;
  const subscribe = useCallback((cb: () => void) => subscribeKey(storeKey(lessonId), cb), [lessonId]);
  const records = useSyncExternalStore(subscribe, () => readJson<Record<string, PredictionRecord>>(storeKey(lessonId)), () => null) ?? {};
  const [transient, setTransient] = useState<Record<string, Transient>>({});
  const [exploring, setExploring] = useState<Record<string, Transient>>({});
  const awaiting = useRef(new Set<string>());
  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>());
  const live = useRef(o);
  live.current = o;

  const write = useCallback(
    (k: string, r: PredictionRecord | null) => {
      const all = { ...(readJson<Record<string, PredictionRecord>>(storeKey(lessonId)) ?? {}) };
      if (r) all[k] = r;
      else delete all[k];
      writeJson(storeKey(lessonId), all);
    },
    [lessonId],
  );

  const look = useCallback(
    async (step: string, index: number) => {
      const k = recKey(step, index);
      const t = lessonStrings(live.current.lang);
      const lab = live.current.lab;
      clearTimeout(timers.current.get(k));
      timers.current.delete(k);
      if (!lab) return void setTransient((s) => ({ ...s, [k]: { message: t.needsLab } }));
      setTransient((s) => ({ ...s, [k]: { busy: true } }));
      try {
        const r = await api.observe(lab, lessonId, step, index, live.current.lang);
        if (r.observed) {
          awaiting.current.delete(k);
          const prev = readJson<Record<string, PredictionRecord>>(storeKey(lessonId))?.[k] ?? { skipped: true, at: Date.now() };
          write(k, { ...prev, observed: r });
          setTransient((s) => ({ ...s, [k]: {} }));
        } else setTransient((s) => ({ ...s, [k]: { message: r.text } }));
      } catch (e) {
        setTransient((s) => ({ ...s, [k]: { message: e instanceof ApiCallError && e.status !== 0 ? e.message : t.network } }));
      }
    },
    [lessonId, write],
  );

  const api_: Widgets = {
    lang,
    record: (step, index) => records[recKey(step, index)],
    predict: (step, index, r) => write(recKey(step, index), { ...r, at: Date.now() }),
    change: (step, index) => write(recKey(step, index), null),
    ranGated: (step, index) => {
      const k = recKey(step, index);
      if (records[k]?.observed) return;
      if (!records[k]) write(k, { skipped: true, at: Date.now() });
      awaiting.current.add(k);
      clearTimeout(timers.current.get(k));
      timers.current.set(k, setTimeout(() => void look(step, index), FALLBACK_LOOK_MS));
    },
    look,
    lookState: (step, index) => transient[recKey(step, index)] ?? {},
    explore: async (step, index, tab, captionHtml) => {
      const k = recKey(step, index);
      const t = lessonStrings(live.current.lang);
      const lab = live.current.lab;
      if (!lab) return void setExploring((s) => ({ ...s, [k]: { message: t.needsLab } }));
      setExploring((s) => ({ ...s, [k]: { busy: true } }));
      try {
        const r = await api.highlight(lab, lessonId, step, index, live.current.lang);
        setExploring((s) => ({ ...s, [k]: r.found ? {} : { message: r.message } }));
        if (r.found) live.current.onExplore({ tab, targets: r.targets, captionHtml });
      } catch (e) {
        setExploring((s) => ({ ...s, [k]: { message: e instanceof ApiCallError && e.status !== 0 ? e.message : t.network } }));
      }
    },
    exploreState: (step, index) => exploring[recKey(step, index)] ?? {},
  };

  /** The terminal finished a command: look at what the awaited predictions' commands did. */
  const onCommand = useCallback(() => {
    for (const k of awaiting.current) {
      const [step, index] = [k.slice(0, k.lastIndexOf("#")), Number(k.slice(k.lastIndexOf("#") + 1))];
      clearTimeout(timers.current.get(k));
      timers.current.set(k, setTimeout(() => void look(step, index), AFTER_COMMAND_MS));
    }
  }, [look]);

  useEffect(() => {
    const all = timers.current;
    return () => all.forEach((t) => clearTimeout(t));
  }, []);

  return { widgets: api_, onCommand };
}

/** A prediction: the question, choices or a text field, and the learner's locked-in answer. */
export function Prediction({ meta, step }: { meta: PredictMeta; step: string }) {
  const w = useWidgets();
  const [choice, setChoice] = useState<number | null>(null);
  const [text, setText] = useState("");
  if (!w) return null;
  const t = lessonStrings(w.lang);
  const rec = w.record(step, meta.index);
  const name = `predict-${step}-${meta.index}`;
  const state = rec?.observed ? "observed" : rec?.skipped ? "skipped" : rec ? "locked" : "open";
  return (
    <div className="my-4 rounded-lg border border-accent/35 bg-accent/[0.06] p-3" data-testid="prediction" data-state={state} data-index={meta.index}>
      <p className="mb-1 flex items-center gap-1.5 text-xs font-semibold uppercase tracking-wide text-accent">
        <Icon name="bulb" size={13} />
        {t.predict}
      </p>
      <div className="prose-lesson text-[0.9667rem]" dangerouslySetInnerHTML={{ __html: meta.questionHtml }} />
      {state === "open" ? (
        <form
          className="mt-2 flex flex-col gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            if (meta.kind === "choice" && choice !== null) w.predict(step, meta.index, { choice });
            else if (meta.kind === "text" && text.trim()) w.predict(step, meta.index, { text: text.trim().slice(0, 200) });
          }}
        >
          {meta.kind === "choice" ? (
            <fieldset className="flex flex-col gap-1">
              <legend className="sr-only">{t.predictHelp}</legend>
              {meta.choices.map((c, i) => (
                <label key={i} className="flex cursor-pointer items-start gap-2 rounded-md px-2 py-1 hover:bg-surface-2" data-testid="prediction-choice">
                  <input type="radio" name={name} value={i + 1} checked={choice === i + 1} onChange={() => setChoice(i + 1)} className="mt-1 accent-[var(--c-accent)]" />
                  <span className="prose-lesson text-[0.9333rem]" dangerouslySetInnerHTML={{ __html: c }} />
                </label>
              ))}
            </fieldset>
          ) : (
            <label className="flex flex-col gap-1 text-[0.9rem]">
              <span className="sr-only">{t.typeGuess}</span>
              <input
                type="text"
                value={text}
                maxLength={200}
                onChange={(e) => setText(e.target.value)}
                placeholder={t.typeGuess}
                className="h-9 rounded-md border border-line-strong bg-surface px-2 font-mono text-fg"
                data-testid="prediction-text"
              />
            </label>
          )}
          <div className="flex items-center gap-2">
            <button type="submit" className="btn-primary btn-sm" disabled={meta.kind === "choice" ? choice === null : !text.trim()} data-testid="prediction-lock">
              {t.lockIn}
            </button>
            <button type="button" className="btn-ghost btn-sm" onClick={() => w.predict(step, meta.index, { skipped: true })} data-testid="prediction-skip">
              {t.skip}
            </button>
          </div>
        </form>
      ) : (
        <p className="mt-2 flex flex-wrap items-baseline gap-x-2 text-[0.9333rem]" data-testid="prediction-locked">
          {rec?.skipped ? (
            <span className="text-muted">{t.skipped}</span>
          ) : (
            <>
              <span className="text-muted">{t.yourGuess}:</span>
              <Guess meta={meta} rec={rec!} />
            </>
          )}
          {!rec?.observed && (
            <button type="button" className="btn-ghost btn-sm" onClick={() => w.change(step, meta.index)} data-testid="prediction-change">
              {t.change}
            </button>
          )}
        </p>
      )}
    </div>
  );
}

function Guess({ meta, rec }: { meta: PredictMeta; rec: PredictionRecord }) {
  if (meta.kind === "choice" && rec.choice) return <span className="prose-lesson font-medium" dangerouslySetInnerHTML={{ __html: meta.choices[rec.choice - 1] ?? String(rec.choice) }} />;
  return <span className="font-mono font-medium">{rec.text}</span>;
}

/** After a prediction's commands: the prediction beside what the kernel did. */
export function Observation({ meta, step }: { meta: PredictMeta; step: string }) {
  const w = useWidgets();
  if (!w) return null;
  const t = lessonStrings(w.lang);
  const rec = w.record(step, meta.index);
  const st = w.lookState(step, meta.index);
  if (!rec) return null; // nothing predicted yet: the prediction card asks first
  const obs = rec.observed;
  if (!obs)
    return (
      <div className="my-3 flex flex-wrap items-center gap-2 rounded-lg border border-dashed border-line-strong px-3 py-2 text-[0.9rem] text-muted" data-testid="observation" data-state="waiting">
        <span aria-live="polite">{st.busy ? t.looking : st.message ?? t.waitingForRun}</span>
        <button type="button" className="btn-secondary btn-sm ml-auto" onClick={() => void w.look(step, meta.index)} disabled={st.busy} data-testid="observation-look">
          {st.message ? t.lookAgain : t.lookNow}
        </button>
      </div>
    );
  const guessed = !rec.skipped && (rec.choice !== undefined || rec.text !== undefined);
  const right = guessed && (meta.kind === "choice" ? String(rec.choice) === obs.answer : norm(rec.text ?? "") === norm(obs.answer ?? ""));
  const kernel = meta.kind === "choice" ? meta.choices[Number(obs.answer) - 1] : undefined;
  return (
    <div
      className={"my-3 grid gap-2 rounded-lg border p-3 text-[0.9333rem] sm:grid-cols-2 " + (!guessed ? "border-line" : right ? "border-success/40 bg-success-soft/40" : "border-warning/40 bg-warning-soft/40")}
      data-testid="observation"
      data-state="observed"
      data-match={guessed ? (right ? "yes" : "no") : "skipped"}
      aria-live="polite"
    >
      <div>
        <p className="mb-0.5 text-xs font-medium text-muted">{t.youPredicted}</p>
        {guessed ? <Guess meta={meta} rec={rec} /> : <span className="text-muted">{t.skipped}</span>}
      </div>
      <div>
        <p className="mb-0.5 text-xs font-medium text-muted">{t.kernelDid}</p>
        {kernel !== undefined ? (
          <span className="prose-lesson font-medium" data-testid="observation-answer" dangerouslySetInnerHTML={{ __html: kernel }} />
        ) : (
          <span className="font-mono font-medium" data-testid="observation-answer">
            {obs.answer}
          </span>
        )}
      </div>
      {guessed && (
        <p className={"flex items-center gap-1.5 font-medium sm:col-span-2 " + (right ? "text-success" : "text-warning")}>
          <Icon name={right ? "check" : "x"} size={14} strokeWidth={2} />
          {right ? t.match : t.noMatch}
        </p>
      )}
      {obs.text && (
        <p className="text-fg sm:col-span-2" data-testid="observation-text">
          {obs.text}
        </p>
      )}
    </div>
  );
}

const norm = (s: string) => s.trim().toLowerCase().replace(/\s+/g, " ");

/** An explore block: the caption and a button that opens the Explorer with the highlights. */
export function ExploreCard({ index, tab, captionHtml, step }: { index: number; tab: ExploreTab; captionHtml: string; step: string }) {
  const w = useWidgets();
  if (!w) return null;
  const t = lessonStrings(w.lang);
  const st = w.exploreState(step, index);
  return (
    <div className="my-4 flex flex-col gap-2 rounded-lg border border-line bg-surface-2/60 p-3" data-testid="explore-card" data-tab={tab}>
      <div className="flex items-start gap-2">
        <Icon name="layers" size={16} className="mt-0.5 shrink-0 text-accent" />
        <div className="prose-lesson text-[0.9333rem]" dangerouslySetInnerHTML={{ __html: captionHtml }} />
      </div>
      <div className="flex flex-wrap items-center gap-2">
        <button type="button" className="btn-secondary btn-sm" onClick={() => void w.explore(step, index, tab, captionHtml)} disabled={st.busy} data-testid="explore-button" title={t.inTab(t.explorerTab[tab])}>
          <Icon name="layers" size={13} />
          {st.busy ? t.showing : t.showInExplorer}
        </button>
        {st.message && (
          <span className="text-[0.8667rem] text-warning" aria-live="polite" data-testid="explore-message">
            {st.message}
          </span>
        )}
      </div>
    </div>
  );
}
