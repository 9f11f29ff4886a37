"use client";
import { dict, type Lang } from "@/app/i18n/dict";
import { setTextSize, useTextSize } from "@/app/lib/prefs";
import { Icon } from "./Icon";

/** Large text for projectors: scales the whole UI and the terminal font. */
export function TextSizeToggle({ lang }: { lang: Lang }) {
  const t = dict(lang);
  const size = useTextSize();
  const large = size === "large";
  return (
    <button
      type="button"
      onClick={() => setTextSize(large ? "normal" : "large")}
      aria-pressed={large}
      aria-label={t.largeText}
      title={t.largeText}
      data-testid="text-size-toggle"
      className={
        "inline-flex size-8 items-center justify-center rounded-md hover:bg-surface-2 hover:text-fg " +
        (large ? "bg-surface-3 text-fg" : "text-muted")
      }
    >
      <Icon name="text" size={17} />
    </button>
  );
}
