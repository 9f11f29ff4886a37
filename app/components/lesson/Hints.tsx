"use client";
import { useState } from "react";
import { dict, type Lang } from "@/app/i18n/dict";
import { Icon } from "../ui/Icon";
import { LessonHtml } from "./LessonHtml";

/** A step's hints, revealed one at a time. */
export function Hints({ hints, lang, stepId }: { hints: string[]; lang: Lang; stepId: string }) {
  const t = dict(lang);
  const [shown, setShown] = useState(0);
  if (!hints.length) return null;
  return (
    <div className="flex min-w-0 flex-1 flex-col gap-2" id={`hints-${stepId}`} data-testid="hints" data-shown={shown}>
      {hints.slice(0, shown).map((h, i) => (
        <div key={i} className="rounded-lg border border-warning/25 bg-warning-soft/60 px-3 py-2 text-[0.9333rem]" data-testid="hint">
          <p className="mb-1 flex items-center gap-1.5 text-xs font-medium text-warning">
            <Icon name="bulb" size={13} />
            {t.hintN(i + 1, hints.length)}
          </p>
          <LessonHtml html={h} lang={lang} />
        </div>
      ))}
      {shown < hints.length && (
        <div>
          <button
            type="button"
            className="btn-ghost btn-sm -ml-1.5"
            onClick={() => setShown((n) => n + 1)}
            data-testid="show-hint"
            aria-controls={`hints-${stepId}`}
          >
            <Icon name="bulb" size={13} />
            {shown === 0 ? t.showHint : t.nextHint}
            <span className="text-subtle">
              ({shown + 1}/{hints.length})
            </span>
          </button>
        </div>
      )}
    </div>
  );
}
