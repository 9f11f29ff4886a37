"use client";
import { Logo } from "./components/ui/Logo";
import { DEFAULT_LANG, dict, isLang } from "./i18n/dict";

/** Shown when a page fails to render, in the page's language (<html lang>). */
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  const l = typeof document === "undefined" ? DEFAULT_LANG : document.documentElement.lang;
  const t = dict(isLang(l) ? l : DEFAULT_LANG);
  return (
    <main className="flex min-h-dvh flex-col items-center justify-center gap-4 p-8 text-center">
      <Logo size={40} />
      <h1 className="text-xl font-semibold">{t.errorTitle}</h1>
      <p className="max-w-md text-sm text-muted">{error.digest ? t.errorCode(error.digest) : error.message}</p>
      <div className="flex gap-2">
        <button type="button" className="btn-primary" onClick={reset}>
          {t.retry}
        </button>
        <a href="/" className="btn-secondary">
          {t.home}
        </a>
      </div>
    </main>
  );
}
