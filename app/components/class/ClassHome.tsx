"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { classDict } from "@/app/i18n/classes";
import type { Lang } from "@/app/i18n/dict";
import { classApi, membership } from "@/app/lib/classes";

/** Sends a learner on to the lesson the class is at, or to the join page when this browser is no member. */
export function ClassHome({ classId, lang }: { classId: string; lang: Lang }) {
  const t = classDict(lang);
  const router = useRouter();
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    const m = membership(classId);
    if (!m) {
      setMissing(true);
      return;
    }
    classApi.me(m).then(
      (me) => router.replace(`/class/${classId}/${me.class.follow?.lesson ?? me.class.lessons[0]}?lang=${lang}`),
      () => setMissing(true),
    );
  }, [classId, lang, router]);
  return (
    <main className="flex min-h-dvh flex-col items-center justify-center gap-3 p-8 text-center">
      {missing ? (
        <>
          <p className="text-fg">{t.noClassHere}</p>
          <Link href={`/join?lang=${lang}`} className="btn-primary">
            {t.goJoin}
          </Link>
        </>
      ) : (
        <p className="text-muted">{t.classNotOpen}</p>
      )}
    </main>
  );
}
