import { ClassHome } from "@/app/components/class/ClassHome";
import { resolveLang } from "@/app/i18n/server";

type Props = { params: Promise<{ id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

/** A class's entry: goes on to the lesson the class is at (in the browser, with the learner's key). */
export default async function ClassPage({ params, searchParams }: Props) {
  const { id } = await params;
  const lang = await resolveLang((await searchParams).lang);
  return <ClassHome classId={id} lang={lang} />;
}
