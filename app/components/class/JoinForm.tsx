"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { CODE_LENGTH, NAME_MAX, displayCode, normalizeCode } from "@/lib/classes";
import { classDict } from "@/app/i18n/classes";
import type { Lang } from "@/app/i18n/dict";
import { ApiCallError } from "@/app/lib/api";
import { classApi, membershipByCode, remember } from "@/app/lib/classes";

/** Code and name; a browser that joined this class before rejoins as the same learner (its key). */
export function JoinForm({ lang, initialCode }: { lang: Lang; initialCode: string }) {
  const t = classDict(lang);
  const router = useRouter();
  const [code, setCode] = useState(() => displayCode(normalizeCode(initialCode)));
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const c = normalizeCode(code);
    const known = membershipByCode(c);
    setBusy(true);
    setError(null);
    try {
      const r = await classApi.join(c, name || known?.name || "", known?.key);
      remember({ classId: r.classId, learnerId: r.learnerId, key: r.key, name: r.name, code: c });
      router.push(`/class/${r.classId}?lang=${lang}`);
    } catch (err) {
      setBusy(false);
      setError(err instanceof ApiCallError ? (t.joinErrors[err.code] ?? err.message) : String(err));
    }
  };

  return (
    <form onSubmit={submit} className="mt-8 flex flex-col gap-5" data-testid="join-form">
      <label className="flex flex-col gap-1.5">
        <span className="text-sm font-medium text-fg">{t.code}</span>
        <input
          className="rounded-lg border border-line-strong bg-surface px-3 py-2.5 font-mono text-2xl uppercase tracking-[0.25em] text-fg"
          value={code}
          onChange={(e) => setCode(e.target.value.toUpperCase())}
          placeholder="ABC-DEF"
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          maxLength={CODE_LENGTH + 4}
          required
          data-testid="join-code"
        />
      </label>
      <label className="flex flex-col gap-1.5">
        <span className="text-sm font-medium text-fg">{t.yourName}</span>
        <input
          className="rounded-lg border border-line-strong bg-surface px-3 py-2.5 text-lg text-fg"
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder={t.namePlaceholder}
          maxLength={NAME_MAX}
          autoComplete="nickname"
          required
          data-testid="join-name"
        />
      </label>
      {error && (
        <p className="rounded-md border border-danger/30 bg-danger-soft px-3 py-2 text-sm text-danger" role="alert" data-testid="join-error">
          {error}
        </p>
      )}
      <button type="submit" className="btn-primary justify-center py-2.5 text-base" disabled={busy} data-testid="join-submit">
        {busy ? t.joining : t.join}
      </button>
    </form>
  );
}
