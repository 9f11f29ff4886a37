import type { Metadata } from "next";
import { DemoMode } from "@/app/components/class/DemoMode";
import { resolveLang } from "@/app/i18n/server";
import { lessonLinks } from "@/app/lib/class-catalog";
import { getLesson } from "@/app/lib/catalog";

type Props = { params: Promise<{ id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };
export const metadata: Metadata = { title: "Demo", referrer: "no-referrer" };

/** Demo mode: the instructor's own lab on a projector-friendly layout, broadcast to the class. */
export default async function DemoPage({ params, searchParams }: Props) {
  const { id } = await params;
  const sp = await searchParams;
  const lang = await resolveLang(sp.lang);
  const lessonId = typeof sp.lesson === "string" ? sp.lesson : null;
  const lesson = lessonId ? await getLesson(lessonId, lang) : null;
  return <DemoMode classId={id} lang={lang} lesson={lesson} lessons={await lessonLinks(lang)} />;
}
