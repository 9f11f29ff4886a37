"use client";
import Link from "next/link";
import { dict, LANG_COOKIE, LANGUAGES, type Lang } from "@/app/i18n/dict";

/** English / 简体中文: links to this page in the other language; remembers the choice in a cookie. */
export function LanguageSwitch({ lang, hrefs }: { lang: Lang; hrefs: Record<Lang, string> }) {
  const t = dict(lang);
  return (
    <nav aria-label={t.language} className="flex items-center rounded-md border border-line bg-surface p-0.5 text-[0.8667rem]">
      {LANGUAGES.map((l) => {
        const active = l === lang;
        return (
          <Link
            key={l}
            href={hrefs[l]}
            hrefLang={l}
            lang={l}
            scroll={false}
            aria-current={active ? "true" : undefined}
            data-testid={`lang-${l}`}
            onClick={() => {
              document.cookie = `${LANG_COOKIE}=${l}; path=/; max-age=31536000; samesite=lax`;
              document.documentElement.lang = l;
            }}
            className={
              "inline-flex min-h-[24px] items-center rounded px-2 transition-colors " +
              (active ? "bg-surface-3 text-fg font-medium" : "text-muted hover:text-fg hover:bg-surface-2")
            }
          >
            {dict(l).languageName}
          </Link>
        );
      })}
    </nav>
  );
}
