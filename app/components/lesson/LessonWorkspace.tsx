"use client";
import { useCallback, useRef, useSyncExternalStore } from "react";
import { dict, type Lang } from "@/app/i18n/dict";
import type { LessonView } from "@/app/lib/lesson-view";
import { useLab } from "@/app/lib/use-lab";
import { useSteps } from "@/app/lib/use-steps";
import { LabPanel, type LabPanelHandle } from "../lab/LabPanel";
import { SplitPane } from "../ui/SplitPane";
import type { RunRequest } from "./LessonHtml";
import { LessonPanel } from "./LessonPanel";

/** A lesson page's interactive part: lesson on the left, the learner's lab on the right. */
export function LessonWorkspace({ lesson, lang, next }: { lesson: LessonView; lang: Lang; next: { id: string; title: string } | null }) {
  const t = dict(lang);
  const { phase, reset, retry, markGone } = useLab(lesson.id);
  const labPanel = useRef<LabPanelHandle>(null);
  const lab = phase.kind === "ready" ? phase.lab : null;
  const steps = useSteps(lesson, lab, { needsLab: t.checkNeedsLab, network: t.checkFailedNetwork }, markGone);
  const { setFocus, onCommand } = steps;

  const run = useCallback(
    (r: RunRequest, stepId: string | null) => {
      if (stepId) setFocus(stepId);
      labPanel.current?.run(r.command, { terminal: r.terminal, interrupt: r.interrupt });
    },
    [setFocus],
  );

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
      first={<LessonPanel lesson={lesson} lang={lang} steps={steps} next={next} onRun={run} />}
      second={
        <LabPanel
          ref={labPanel}
          phase={phase}
          lang={lang}
          onReset={() => void reset()}
          onRetry={retry}
          onGone={markGone}
          onCommand={onCommand}
        />
      }
    />
  );
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
