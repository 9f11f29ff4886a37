import type { Metadata } from "next";
import { Dashboard } from "@/app/components/class/Dashboard";
import { SiteHeader } from "@/app/components/ui/SiteHeader";
import { resolveLang } from "@/app/i18n/server";
import { lessonLinks } from "@/app/lib/class-catalog";

type Props = { params: Promise<{ id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };
export const metadata: Metadata = { title: "Class dashboard", referrer: "no-referrer" };

/** The instructor's dashboard. The key is in the link's fragment (never sent to the server with the page). */
export default async function InstructorPage({ params, searchParams }: Props) {
  const { id } = await params;
  const lang = await resolveLang((await searchParams).lang);
  return (
    <div className="flex h-dvh flex-col overflow-hidden">
      <SiteHeader lang={lang} hrefs={{ en: `/instructor/${id}?lang=en`, "zh-CN": `/instructor/${id}?lang=zh-CN` }} />
      <Dashboard classId={id} lang={lang} lessons={await lessonLinks(lang)} />
    </div>
  );
}
