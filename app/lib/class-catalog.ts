import "server-only";
import type { Lang } from "@/app/i18n/dict";
import type { ClassLessonLink } from "@/app/components/class/ClassLesson";
import { getLesson, listLessons } from "./catalog";

/** Every lesson with its steps' ids and titles: class pages show a class's lessons from it (the catalogue is public). */
export async function lessonLinks(lang: Lang): Promise<ClassLessonLink[]> {
  const all = await listLessons(lang);
  const out: ClassLessonLink[] = [];
  for (const m of all) {
    const l = await getLesson(m.id, lang);
    if (l) out.push({ id: l.id, title: l.title, steps: l.steps.map((s) => ({ id: s.id, title: s.title })) });
  }
  return out;
}
