import Link from "next/link";
import { dict, type Lang } from "@/app/i18n/dict";
import { LanguageSwitch } from "./LanguageSwitch";
import { Logo } from "./Logo";
import { SkipToTerminal } from "./SkipToTerminal";
import { TextSizeToggle } from "./TextSizeToggle";
import { ThemeToggle } from "./ThemeToggle";

/** The top bar of every page: product, an optional middle slot (the lesson's title), preferences. */
export function SiteHeader({ lang, hrefs, children, withLab = false }: { lang: Lang; hrefs: Record<Lang, string>; children?: React.ReactNode; withLab?: boolean }) {
  const t = dict(lang);
  return (
    <header className="flex h-12 shrink-0 items-center gap-3 border-b border-line bg-surface px-4">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-surface focus:px-3 focus:py-1.5 focus:shadow"
      >
        {t.skipToContent}
      </a>
      {withLab && <SkipToTerminal label={t.skipToTerminal} />}
      <Link href={`/?lang=${lang}`} className="flex min-h-8 items-center gap-2 rounded-md pr-1 font-semibold tracking-tight text-fg" aria-label="nslab">
        <Logo size={22} />
        <span className="text-[1rem]">nslab</span>
      </Link>
      <div className="flex min-w-0 flex-1 items-center gap-2">{children}</div>
      <div className="flex items-center gap-1.5">
        <LanguageSwitch lang={lang} hrefs={hrefs} />
        <TextSizeToggle lang={lang} />
        <ThemeToggle lang={lang} />
      </div>
    </header>
  );
}
