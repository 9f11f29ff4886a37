import Link from "next/link";
import { Logo } from "./components/ui/Logo";
import { dict } from "./i18n/dict";
import { resolveLang } from "./i18n/server";

/** A page or lesson that does not exist, in the learner's language (cookie, then the browser's). */
export default async function NotFound() {
  const lang = await resolveLang(undefined);
  const t = dict(lang);
  return (
    <main lang={lang} className="flex min-h-dvh flex-col items-center justify-center gap-4 p-8 text-center">
      <Logo size={40} />
      <h1 className="text-xl font-semibold">{t.notFoundTitle}</h1>
      <p className="text-muted">{t.notFoundText}</p>
      <Link href={`/?lang=${lang}`} className="btn-primary">
        {t.home}
      </Link>
    </main>
  );
}
