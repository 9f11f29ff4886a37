"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { TITLE_MAX } from "@/lib/classes";
import { classDict } from "@/app/i18n/classes";
import type { Lang } from "@/app/i18n/dict";
import { ApiCallError } from "@/app/lib/api";
import { classApi, rememberInstructor } from "@/app/lib/classes";

/** `datetime-local` value for a time, in the browser's zone. */
function local(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

export function CreateClassForm({ lang, lessons }: { lang: Lang; lessons: { id: string; title: string; order: number; minutes: number }[] }) {
  const t = classDict(lang);
  const router = useRouter();
  const [title, setTitle] = useState("");
  const [picked, setPicked] = useState<string[]>([]);
  const [starts, setStarts] = useState(() => local(Date.now()));
  const [ends, setEnds] = useState(() => local(Date.now() + 3 * 3600_000));
  const [max, setMax] = useState(100);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // access mode "code": the server asks for the workshop code once (401 code_required)
  const [needCode, setNeedCode] = useState(false);
  const [accessCode, setAccessCode] = useState("");

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!picked.length) return setError(t.pickLesson);
    setBusy(true);
    setError(null);
    try {
      const r = await classApi.create({
        title,
        lessons: picked,
        startsAt: new Date(starts).toISOString(),
        endsAt: new Date(ends).toISOString(),
        maxLearners: max,
        ...(needCode ? { accessCode } : {}),
      });
      rememberInstructor(r.id, r.instructorKey);
      router.push(`/instructor/${r.id}?lang=${lang}#key=${r.instructorKey}`);
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiCallError && err.code === "code_required" && !needCode) return setNeedCode(true);
      setError(err instanceof ApiCallError ? (t.createErrors[err.code] ?? err.message) : String(err));
    }
  };

  const field = "rounded-lg border border-line-strong bg-surface px-3 py-2 text-fg";
  return (
    <form onSubmit={submit} className="mt-8 flex flex-col gap-6" data-testid="create-class-form">
      <label className="flex flex-col gap-1.5">
        <span className="text-sm font-medium text-fg">{t.classTitle}</span>
        <input className={field} value={title} onChange={(e) => setTitle(e.target.value)} placeholder={t.classTitlePlaceholder} maxLength={TITLE_MAX} required data-testid="class-title-input" />
      </label>
      <fieldset className="flex flex-col gap-1.5">
        <legend className="mb-1.5 text-sm font-medium text-fg">{t.classLessons}</legend>
        <p className="mb-1 text-sm text-muted">{t.classLessonsHint}</p>
        <div className="grid gap-1 sm:grid-cols-2">
          {lessons.map((l) => (
            <label key={l.id} className="flex items-center gap-2 rounded-md px-2 py-1.5 hover:bg-surface-2">
              <input
                type="checkbox"
                checked={picked.includes(l.id)}
                onChange={(e) => setPicked((p) => (e.target.checked ? [...p, l.id] : p.filter((x) => x !== l.id)))}
                data-testid="class-lesson-option"
                data-lesson-id={l.id}
              />
              <span className={"inline-flex size-5 shrink-0 items-center justify-center rounded-full text-xs " + (picked.includes(l.id) ? "bg-accent text-accent-fg" : "text-subtle")} aria-hidden="true">
                {picked.includes(l.id) ? picked.indexOf(l.id) + 1 : ""}
              </span>
              <span className="text-[0.9333rem] text-fg">{l.title}</span>
            </label>
          ))}
        </div>
      </fieldset>
      {/* a datetime-local field needs ~15rem for "11/30/2026, 06:00 PM" and its picker: two per row */}
      <div className="grid gap-4 sm:grid-cols-2">
        <label className="flex flex-col gap-1.5">
          <span className="text-sm font-medium text-fg">{t.startsAt}</span>
          <input type="datetime-local" className={field} value={starts} onChange={(e) => setStarts(e.target.value)} required />
        </label>
        <label className="flex flex-col gap-1.5">
          <span className="text-sm font-medium text-fg">{t.endsAt}</span>
          <input type="datetime-local" className={field} value={ends} onChange={(e) => setEnds(e.target.value)} required />
        </label>
        <label className="flex flex-col gap-1.5">
          <span className="text-sm font-medium text-fg">{t.maxLearners}</span>
          <input type="number" min={1} max={1000} className={field + " sm:w-40"} value={max} onChange={(e) => setMax(Number(e.target.value))} />
        </label>
      </div>
      {needCode && (
        <label className="flex flex-col gap-1.5">
          <span className="text-sm font-medium text-fg">{t.workshopCode}</span>
          <span className="text-sm text-muted">{t.workshopCodeHint}</span>
          <input className={field} value={accessCode} onChange={(e) => setAccessCode(e.target.value)} required autoFocus autoComplete="off" maxLength={200} data-testid="class-access-code" />
        </label>
      )}
      {error && (
        <p className="rounded-md border border-danger/30 bg-danger-soft px-3 py-2 text-sm text-danger" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="btn-primary self-start px-5 py-2.5" disabled={busy} data-testid="create-class-submit">
        {busy ? t.creating : t.create}
      </button>
    </form>
  );
}
