"use client";
import { dict, type Lang } from "@/app/i18n/dict";
import { useProgress } from "@/app/lib/progress";
import { Icon } from "../ui/Icon";

/** Steps passed in this browser, as a bar and a label. Renders a neutral state on the server. */
export function LessonProgress({ lesson, total, lang }: { lesson: string; total: number; lang: Lang }) {
  const t = dict(lang);
  const p = useProgress(lesson);
  const done = p ? Math.min(p.passed.length, total) : 0;
  const complete = total > 0 && done >= total;
  const pct = total > 0 ? Math.round((done / total) * 100) : 0;
  return (
    <div className="ml-auto flex items-center gap-3" data-testid={`progress-${lesson}`} data-done={done} data-total={total}>
      <div
        className="h-1.5 w-24 overflow-hidden rounded-full bg-surface-3"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={done}
        aria-label={t.progress(done, total)}
      >
        <div className={"h-full rounded-full transition-all " + (complete ? "bg-success" : "bg-accent")} style={{ width: `${pct}%` }} />
      </div>
      <span className={"flex items-center gap-1 text-xs tabular-nums " + (complete ? "text-success font-medium" : "text-muted")}>
        {complete && <Icon name="check" size={13} strokeWidth={2} />}
        {complete ? t.completed : done > 0 ? t.progressShort(done, total) : t.notStarted}
      </span>
    </div>
  );
}
