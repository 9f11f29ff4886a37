import Link from "next/link";
import { classDict } from "./i18n/classes";
import type { Metadata } from "next";
import { dict } from "./i18n/dict";
import { resolveLang } from "./i18n/server";
import { listLessons } from "./lib/catalog";
import { LessonCard } from "./components/catalog/LessonCard";
import { SiteHeader } from "./components/ui/SiteHeader";
import { NsChip } from "./components/ui/NsChip";

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

export async function generateMetadata({ searchParams }: Props): Promise<Metadata> {
  const t = dict(await resolveLang((await searchParams).lang));
  return { title: { absolute: t.metaTitle }, description: t.metaDescription };
}

export default async function Home({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const lang = await resolveLang((await searchParams).lang);
  const t = dict(lang);
  const lessons = await listLessons(lang);
  const titles = Object.fromEntries(lessons.map((l) => [l.id, l.title]));
  return (
    <div className="flex min-h-dvh flex-col">
      <SiteHeader lang={lang} hrefs={{ en: "/?lang=en", "zh-CN": "/?lang=zh-CN" }} />
      <main id="main" className="mx-auto w-full max-w-4xl flex-1 px-6 pb-16 pt-12">
        <section className="mb-10">
          <p className="mb-3 flex flex-wrap gap-1.5" aria-hidden="true">
            {["user", "pid", "mnt", "uts", "ipc", "net", "cgroup"].map((ns) => (
              <NsChip key={ns} ns={ns} />
            ))}
          </p>
          <h1 className="text-3xl font-semibold tracking-tight text-fg">{t.heroTitle}</h1>
          <p className="mt-3 max-w-2xl text-[1.0333rem] leading-relaxed text-muted">{t.heroText}</p>
          <p className="mt-4 flex flex-wrap gap-2">
            <Link href={`/join?lang=${lang}`} className="btn-secondary btn-sm" data-testid="home-join-class">
              {classDict(lang).joinTitle}
            </Link>
            <Link href={`/classes/new?lang=${lang}`} className="btn-ghost btn-sm" data-testid="home-new-class">
              {classDict(lang).newClass}
            </Link>
          </p>
        </section>
        <section aria-labelledby="lessons-heading">
          <h2 id="lessons-heading" className="mb-3 text-xs font-semibold uppercase tracking-wider text-subtle">
            {t.lessonsHeading}
          </h2>
          {lessons.length === 0 ? (
            <p className="rounded-xl border border-dashed border-line p-8 text-center text-muted">{t.noLessons}</p>
          ) : (
            <ol className="flex flex-col gap-3" data-testid="lesson-list">
              {lessons.map((l) => (
                <LessonCard key={l.id} lesson={l} lang={lang} titles={titles} />
              ))}
            </ol>
          )}
        </section>
      </main>
      <footer className="border-t border-line px-6 py-5 text-center text-xs text-subtle">{t.footerNote}</footer>
    </div>
  );
}
