import Link from "next/link";
import { dict, type Lang } from "@/app/i18n/dict";
import type { CatalogEntry } from "@/app/lib/lesson-view";
import { Icon } from "../ui/Icon";
import { NsChip } from "../ui/NsChip";
import { LessonProgress } from "./LessonProgress";

/** One lesson in the catalogue: the whole card is the link. */
export function LessonCard({ lesson, lang, titles }: { lesson: CatalogEntry; lang: Lang; titles: Record<string, string> }) {
  const t = dict(lang);
  return (
    <li data-testid="lesson-card" data-lesson-id={lesson.id}>
      <Link
        href={`/lessons/${lesson.id}?lang=${lang}`}
        className="group flex gap-5 rounded-xl border border-line bg-surface p-5 shadow-card transition-colors hover:border-line-strong hover:bg-surface-2/40"
      >
        <div
          aria-hidden="true"
          className="flex size-10 shrink-0 items-center justify-center rounded-lg border border-line bg-surface-2 font-mono text-sm font-semibold text-muted group-hover:border-accent/40 group-hover:text-accent"
        >
          {String(lesson.order).padStart(2, "0")}
        </div>
        <div className="min-w-0 flex-1">
          <div className="flex items-start justify-between gap-4">
            <h3 className="text-[1.1333rem] font-semibold leading-snug tracking-tight text-fg">{lesson.title}</h3>
            <span className="mt-0.5 flex shrink-0 items-center gap-1 text-xs text-subtle">
              <Icon name="clock" size={13} />
              {t.minutes(lesson.minutes)}
            </span>
          </div>
          <p className="mt-1 text-[0.9333rem] leading-relaxed text-muted">{lesson.summary}</p>
          {lesson.prerequisites.length > 0 && (
            <p className="mt-1.5 text-[0.8rem] text-subtle">
              {t.prerequisites}: {lesson.prerequisites.map((p) => titles[p] ?? p).join(" · ")}
            </p>
          )}
          <div className="mt-3 flex flex-wrap items-center justify-between gap-x-6 gap-y-2">
            <div className="flex flex-wrap items-center gap-1.5">
              <span className="sr-only">{t.namespacesTouched}:</span>
              {lesson.namespaces.map((ns) => (
                <NsChip key={ns} ns={ns} />
              ))}
              {!lesson.translated && (
                <span className="ml-1 rounded border border-line px-1.5 text-[0.7667rem] leading-5 text-subtle" data-testid="english-only">
                  {t.englishOnly}
                </span>
              )}
            </div>
            <LessonProgress lesson={lesson.id} total={lesson.stepCount} lang={lang} />
          </div>
        </div>
      </Link>
    </li>
  );
}
