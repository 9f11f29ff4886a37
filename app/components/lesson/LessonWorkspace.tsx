"use client";
import { useCallback, useEffect, useMemo, useRef, useSyncExternalStore, type ReactNode } from "react";
import { dict, type Lang } from "@/app/i18n/dict";
import type { LessonView } from "@/app/lib/lesson-view";
import { usePaneKeys } from "@/app/lib/panes";
import { useLab } from "@/app/lib/use-lab";
import { useSteps } from "@/app/lib/use-steps";
import { LabPanel, type LabPanelHandle } from "../lab/LabPanel";
import { Announcer, useAnnounce } from "../ui/Announcer";
import { SplitPane } from "../ui/SplitPane";
import type { RunRequest } from "./LessonHtml";
import { LessonPanel } from "./LessonPanel";
import { useWidgetState, WidgetsProvider } from "./widgets";

/** A lesson page's interactive part: lesson on the left, the learner's lab on the right. */
export function LessonWorkspace({ lesson, lang, next }: { lesson: LessonView; lang: Lang; next: { id: string; title: string } | null }) {
  const lab = useLab(lesson.id);
  return <LessonWorkspaceView lesson={lesson} lang={lang} next={next} lab={lab} />;
}

/**
 * What a class page (app/components/class/) adds to a lesson: its own lab, progress kept apart,
 * where the learner is, a step to go to (follow me), and a pane above the lab (the broadcast).
 */
export interface WorkspaceClassProps {
  progressScope?: string;
  onMarkDone?(stepId: string): void;
  onCurrentStep?(stepId: string | null): void;
  onActiveTerminal?(terminalId: string | null): void;
  /** go to this step (seq changes each time it is asked) */
  goto?: { step: string | null; seq: number } | null;
  labTop?: ReactNode;
  explorerInitiallyOpen?: boolean;
}

interface ViewProps {
  lesson: LessonView;
  lang: Lang;
  next: { id: string; title: string } | null;
  lab: Pick<ReturnType<typeof useLab>, "phase" | "reset" | "retry" | "markGone">;
  classProps?: WorkspaceClassProps;
}

/** The lesson and its lab, with the page's announcer (live region and toasts). */
export function LessonWorkspaceView(props: ViewProps) {
  return (
    <Announcer closeLabel={dict(props.lang).close}>
      <Workspace {...props} />
    </Announcer>
  );
}

function Workspace({ lesson, lang, next, lab: { phase, reset, retry, markGone }, classProps = {} }: ViewProps) {
  const t = dict(lang);
  const labPanel = useRef<LabPanelHandle>(null);
  const lab = phase.kind === "ready" ? phase.lab : null;
  const steps = useSteps(lesson, lab, { needsLab: t.checkNeedsLab, network: t.checkFailedNetwork }, markGone, {
    lang,
    scope: classProps.progressScope,
    onMarkDone: classProps.onMarkDone,
  });
  const { setFocus } = steps;
  const { widgets, onCommand: widgetsOnCommand } = useWidgetState({ lessonId: lesson.id, lang, lab, onExplore: (f) => labPanel.current?.explore(f) });
  const stepsOnCommand = steps.onCommand;
  const onCommand = useCallback(
    () => {
      stepsOnCommand();
      widgetsOnCommand();
    },
    [stepsOnCommand, widgetsOnCommand],
  );
  usePaneKeys();
  useLabReplaced(lesson, lang, lab?.id ?? null, steps.stateGone, steps.current);

  const onStep = useRef(classProps.onCurrentStep);
  onStep.current = classProps.onCurrentStep;
  useEffect(() => {
    onStep.current?.(steps.current);
  }, [steps.current]);
  const goto = classProps.goto;
  useEffect(() => {
    if (!goto?.step) return;
    setFocus(goto.step);
    document.querySelector(`[data-testid=step][data-step-id="${CSS.escape(goto.step)}"]`)?.scrollIntoView({ behavior: "smooth", block: "start" });
  }, [goto?.seq, goto?.step, setFocus]);

  const run = useCallback(
    (r: RunRequest, stepId: string | null) => {
      if (stepId) setFocus(stepId);
      labPanel.current?.run(r.command, { terminal: r.terminal, interrupt: r.interrupt });
    },
    [setFocus],
  );

  // a step that names a second terminal opens the terminals side by side
  const currentHtml = lesson.steps.find((s) => s.id === steps.current)?.html ?? "";
  const wantTerminals = useMemo(() => Math.max(1, ...[...currentHtml.matchAll(/data-terminal="(\d+)"/g)].map((m) => Number(m[1]))), [currentHtml]);

  const narrow = useNarrow();

  return (
    <SplitPane
      key={narrow ? "v" : "h"}
      vertical={narrow}
      storageKey={narrow ? "nslab:split:lesson-v" : "nslab:split:lesson"}
      initial={narrow ? 0.5 : 0.4}
      min={narrow ? 0.2 : 0.25}
      max={narrow ? 0.8 : 0.7}
      label={t.resizePanes}
      testId="lesson-split"
      first={
        <WidgetsProvider value={widgets}>
          <LessonPanel lesson={lesson} lang={lang} steps={steps} next={next} onRun={run} />
        </WidgetsProvider>
      }
      second={
        <LabWithTop top={classProps.labTop} lang={lang}>
          <LabPanel
            ref={labPanel}
            phase={phase}
            lang={lang}
            wantTerminals={wantTerminals}
            onReset={() => void reset()}
            onRetry={retry}
            onGone={markGone}
            onCommand={onCommand}
            onActiveTerminal={classProps.onActiveTerminal}
            explorerInitiallyOpen={classProps.explorerInitiallyOpen}
          />
        </LabWithTop>
      }
    />
  );
}

/** The lab, with a pane above it when a class shows one (the instructor's broadcast). */
function LabWithTop({ top, lang, children }: { top?: ReactNode; lang: Lang; children: ReactNode }) {
  if (!top) return <>{children}</>;
  return (
    <SplitPane vertical storageKey="nslab:split:class-top" initial={0.45} min={0.15} max={0.85} label={dict(lang).resizePanes} first={top} second={children} />
  );
}

/** A new lab under passed steps (a reset, or the old one gone): say what that means, once per lab. */
function useLabReplaced(lesson: LessonView, lang: Lang, labId: string | null, stateGone: boolean, current: string | null) {
  const announce = useAnnounce();
  const told = useRef<string | null>(null);
  useEffect(() => {
    if (!labId || !stateGone || told.current === labId) return;
    told.current = labId;
    const t = dict(lang);
    const n = lesson.steps.findIndex((s) => s.id === current) + 1;
    announce({ text: n > 1 ? t.labReplacedRebuild(n) : t.labReplaced, tone: "warning", toast: true });
  }, [labId, stateGone, current, lesson.steps, lang, announce]);
}

const NARROW = "(max-width: 767px)";

/** Phones and narrow windows stack the lesson above the lab. */
function useNarrow(): boolean {
  return useSyncExternalStore(
    (cb) => {
      const mq = matchMedia(NARROW);
      mq.addEventListener("change", cb);
      return () => mq.removeEventListener("change", cb);
    },
    () => matchMedia(NARROW).matches,
    () => false,
  );
}
