"use client";
import { dict, type Lang } from "@/app/i18n/dict";
import { setTheme, useTheme } from "@/app/lib/prefs";
import { Icon } from "./Icon";

/** Dark/light switch. Follows the system until the learner picks one; then remembers it. */
export function ThemeToggle({ lang }: { lang: Lang }) {
  const t = dict(lang);
  const theme = useTheme();
  const next = theme === "dark" ? "light" : "dark";
  return (
    <button
      type="button"
      onClick={() => setTheme(next)}
      aria-label={next === "dark" ? t.themeDark : t.themeLight}
      title={t.switchTheme}
      data-testid="theme-toggle"
      className="inline-flex size-8 items-center justify-center rounded-md text-muted hover:bg-surface-2 hover:text-fg"
    >
      <Icon name={theme === "dark" ? "sun" : "moon"} />
    </button>
  );
}
