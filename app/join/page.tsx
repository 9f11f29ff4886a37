import type { Metadata } from "next";
import { JoinForm } from "@/app/components/class/JoinForm";
import { SiteHeader } from "@/app/components/ui/SiteHeader";
import { classDict } from "@/app/i18n/classes";
import { resolveLang } from "@/app/i18n/server";

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

export const metadata: Metadata = { title: "Join a class" };

/** Learners join a class here: the code (from the QR code's link, or typed) and a display name. */
export default async function JoinPage({ searchParams }: Props) {
  const sp = await searchParams;
  const lang = await resolveLang(sp.lang);
  const code = typeof sp.code === "string" ? sp.code.slice(0, 16) : "";
  const t = classDict(lang);
  return (
    <div className="flex min-h-dvh flex-col">
      <SiteHeader lang={lang} hrefs={{ en: `/join?lang=en&code=${encodeURIComponent(code)}`, "zh-CN": `/join?lang=zh-CN&code=${encodeURIComponent(code)}` }} />
      <main id="main" className="mx-auto w-full max-w-md flex-1 px-6 pb-16 pt-14">
        <h1 className="text-2xl font-semibold tracking-tight text-fg">{t.joinTitle}</h1>
        <p className="mt-2 text-muted">{t.joinIntro}</p>
        <JoinForm lang={lang} initialCode={code} />
      </main>
    </div>
  );
}
