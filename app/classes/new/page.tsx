import type { Metadata } from "next";
import { CreateClassForm } from "@/app/components/class/CreateClassForm";
import { SiteHeader } from "@/app/components/ui/SiteHeader";
import { classDict } from "@/app/i18n/classes";
import { resolveLang } from "@/app/i18n/server";
import { listLessons } from "@/app/lib/catalog";

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };
export const metadata: Metadata = { title: "Start a class" };

/** An instructor starts a class: title, lessons, time window. */
export default async function NewClassPage({ searchParams }: Props) {
  const lang = await resolveLang((await searchParams).lang);
  const t = classDict(lang);
  const lessons = (await listLessons(lang)).map((l) => ({ id: l.id, title: l.title, order: l.order, minutes: l.minutes }));
  return (
    <div className="flex min-h-dvh flex-col">
      <SiteHeader lang={lang} hrefs={{ en: "/classes/new?lang=en", "zh-CN": "/classes/new?lang=zh-CN" }} />
      <main id="main" className="mx-auto w-full max-w-2xl flex-1 px-6 pb-16 pt-12">
        <h1 className="text-2xl font-semibold tracking-tight text-fg">{t.newClassTitle}</h1>
        <p className="mt-2 max-w-xl text-muted">{t.newClassIntro}</p>
        <CreateClassForm lang={lang} lessons={lessons} />
      </main>
    </div>
  );
}
