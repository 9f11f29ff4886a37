"use client";
import { Logo } from "./components/ui/Logo";

/** Shown when a page fails to render. */
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main className="flex min-h-dvh flex-col items-center justify-center gap-4 p-8 text-center">
      <Logo size={40} />
      <h1 className="text-xl font-semibold">Something went wrong · 出错了</h1>
      <p className="max-w-md text-sm text-muted">{error.digest ? `Error ${error.digest}` : error.message}</p>
      <div className="flex gap-2">
        <button type="button" className="btn-primary" onClick={reset}>
          Try again · 重试
        </button>
        <a href="/" className="btn-secondary">
          Lessons · 课程
        </a>
      </div>
    </main>
  );
}
