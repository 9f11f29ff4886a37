"use client";
import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { dict, type Lang } from "@/app/i18n/dict";
import { copyText } from "@/app/lib/clipboard";
import { Icon } from "../ui/Icon";
import type { RunRequest } from "./LessonHtml";
import { lessonStrings } from "./strings";

export interface CodeBlockInfo {
  index: number;
  kind: "run" | "copy" | "plain";
  terminal?: number; // run blocks: the terminal they type into (1 unless the block names another)
  interrupt: boolean;
  code: string;
}

/**
 * ▶ Run (showing its terminal) and Copy for one code block: one Tab stop (the first button),
 * arrow keys move between the two. A `gated` block is the command of a prediction that is still
 * open: it asks for the prediction first (Run is offered as "run without predicting").
 */
export function CodeActions({ info, lang, onRun, canRun, gated = false }: { info: CodeBlockInfo; lang: Lang; onRun(r: RunRequest): void; canRun: boolean; gated?: boolean }) {
  const t = dict(lang);
  const lt = lessonStrings(lang);
  const [copied, setCopied] = useState(false);
  const bar = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!copied) return;
    const id = setTimeout(() => setCopied(false), 1500);
    return () => clearTimeout(id);
  }, [copied]);

  const runs = info.kind === "run" && canRun;
  const n = info.terminal ?? 1;
  if (gated && runs)
    return (
      <div className="flex items-center gap-1 p-1.5" data-testid="gated-run">
        <span className="hidden px-1 text-[0.8rem] text-muted sm:inline">{lt.predictFirst}</span>
        <button
          type="button"
          className="btn-ghost btn-sm"
          onClick={() => onRun({ command: info.code, terminal: n, interrupt: info.interrupt })}
          title={`${lt.runAnyway} · ${t.runIn(n)}`}
          data-testid="run-anyway"
          data-terminal={n}
        >
          <Icon name="play" size={11} />
          <span className="sr-only sm:not-sr-only">{lt.runAnyway}</span>
          <span className="sr-only"> ({t.runIn(n)})</span>
        </button>
      </div>
    );
  const onKey = (e: KeyboardEvent) => {
    if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
    const buttons = [...(bar.current?.querySelectorAll("button") ?? [])];
    const i = buttons.indexOf(e.target as HTMLButtonElement);
    const next = buttons[(i + (e.key === "ArrowRight" ? 1 : buttons.length - 1)) % buttons.length];
    if (!next || next === e.target) return;
    e.preventDefault();
    next.focus();
  };
  return (
    <div ref={bar} className="flex items-center gap-1 p-1.5" onKeyDown={onKey}>
      {runs && (
        <button
          type="button"
          className="btn-primary btn-sm"
          onClick={() => onRun({ command: info.code, terminal: n, interrupt: info.interrupt })}
          title={`${t.runIn(n)} · ${t.runTitle}${info.interrupt ? ` · ${t.interruptNote}` : ""}`}
          data-testid="run-button"
          data-terminal={n}
        >
          <Icon name="play" size={11} />
          {info.interrupt && (
            <span className="font-mono text-[0.7rem] opacity-80">
              ^C<span className="sr-only"> ({t.interruptNote})</span>
            </span>
          )}
          {t.run}
          <span className="-mr-0.5 inline-flex items-center gap-0.5 rounded bg-black/15 px-1 font-mono text-[0.7rem]">
            <Icon name="terminal" size={10} />
            <span className="sr-only"> {t.runTarget} </span>
            {n}
          </span>
        </button>
      )}
      <button
        type="button"
        className="btn-ghost btn-sm"
        onClick={async () => setCopied(await copyText(info.code))}
        title={t.copy}
        tabIndex={runs ? -1 : 0}
        data-testid="copy-button"
      >
        <Icon name={copied ? "check" : "copy"} size={13} />
        <span className={runs ? "sr-only" : ""}>{copied ? t.copied : t.copy}</span>
      </button>
    </div>
  );
}
