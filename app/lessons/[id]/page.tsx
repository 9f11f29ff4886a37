import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { LessonWorkspace } from "@/app/components/lesson/LessonWorkspace";
import { SiteHeader } from "@/app/components/ui/SiteHeader";
import { resolveLang } from "@/app/i18n/server";
import { getLesson, listLessons } from "@/app/lib/catalog";
import { earlyLabScript } from "@/app/lib/early-lab";

type Props = { params: Promise<{ id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export async function generateMetadata({ params, searchParams }: Props): Promise<Metadata> {
  const { id } = await params;
  const lesson = await getLesson(id, await resolveLang((await searchParams).lang));
  return { title: lesson?.title ?? "Lesson" };
}

export default async function LessonPage({ params, searchParams }: Props) {
  const { id } = await params;
  const lang = await resolveLang((await searchParams).lang);
  const lesson = await getLesson(id, lang);
  if (!lesson) notFound();
  const all = await listLessons(lang);
  const i = all.findIndex((l) => l.id === lesson.id);
  const nextMeta = i >= 0 ? all[i + 1] : undefined;
  const next = nextMeta ? { id: nextMeta.id, title: nextMeta.title } : null;
  return (
    <div className="relative flex h-dvh flex-col overflow-hidden">
      {/* the lab request starts now, while the page's JavaScript loads (app/lib/early-lab.ts) */}
      <script dangerouslySetInnerHTML={{ __html: earlyLabScript(lesson.id, { newLabSocket: process.env.NSLAB_ROLE !== "web" }) }} />
      <SiteHeader lang={lang} withLab hrefs={{ en: `/lessons/${lesson.id}?lang=en`, "zh-CN": `/lessons/${lesson.id}?lang=zh-CN` }}>
        <span className="text-line-strong" aria-hidden="true">
          /
        </span>
        <span className="truncate text-[0.9rem] text-muted">
          <span className="mr-1.5 font-mono text-subtle">{String(lesson.order).padStart(2, "0")}</span>
          {lesson.title}
        </span>
      </SiteHeader>
      <main id="main" className="flex min-h-0 flex-1">
        <LessonWorkspace lesson={lesson} lang={lang} next={next} />
      </main>
    </div>
  );
}
