import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { ClassLesson } from "@/app/components/class/ClassLesson";
import { SiteHeader } from "@/app/components/ui/SiteHeader";
import { resolveLang } from "@/app/i18n/server";
import { lessonLinks } from "@/app/lib/class-catalog";
import { getLesson } from "@/app/lib/catalog";

type Props = { params: Promise<{ id: string; lesson: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export async function generateMetadata({ params, searchParams }: Props): Promise<Metadata> {
  const { lesson } = await params;
  const l = await getLesson(lesson, await resolveLang((await searchParams).lang));
  return { title: l?.title ?? "Class" };
}

/** A lesson inside a class (the learner's page); the class itself is loaded in the browser with the learner's key. */
export default async function ClassLessonPage({ params, searchParams }: Props) {
  const { id, lesson: lessonId } = await params;
  const sp = await searchParams;
  const lang = await resolveLang(sp.lang);
  if (!/^[0-9a-f]{16}$/.test(id)) notFound();
  const lesson = await getLesson(lessonId, lang);
  if (!lesson) notFound();
  const step = typeof sp.step === "string" && lesson.steps.some((s) => s.id === sp.step) ? sp.step : null;
  return (
    <div className="flex h-dvh flex-col overflow-hidden">
      <SiteHeader lang={lang} hrefs={{ en: `/class/${id}/${lesson.id}?lang=en`, "zh-CN": `/class/${id}/${lesson.id}?lang=zh-CN` }}>
        <span className="text-line-strong" aria-hidden="true">
          /
        </span>
        <span className="truncate text-[0.9rem] text-muted">{lesson.title}</span>
      </SiteHeader>
      <ClassLesson classId={id} lesson={lesson} lessons={await lessonLinks(lang)} lang={lang} initialStep={step} />
    </div>
  );
}
