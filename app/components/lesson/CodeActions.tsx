"use client";
import { useEffect, useState } from "react";
import { dict, type Lang } from "@/app/i18n/dict";
import { copyText } from "@/app/lib/clipboard";
import { Icon } from "../ui/Icon";
import type { RunRequest } from "./LessonHtml";
import { lessonStrings } from "./strings";

export interface CodeBlockInfo {
  index: number;
  kind: "run" | "copy" | "plain";
  terminal?: number;
  interrupt: boolean;
  code: string;
}

/**
 * ▶ Run and Copy for one code block. A `gated` block is the command of a prediction that is still
 * open: it asks for the prediction first (Run is offered as "run without predicting").
 */
export function CodeActions({ info, lang, onRun, canRun, gated = false }: { info: CodeBlockInfo; lang: Lang; onRun(r: RunRequest): void; canRun: boolean; gated?: boolean }) {
  const t = dict(lang);
  const lt = lessonStrings(lang);
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const id = setTimeout(() => setCopied(false), 1500);
    return () => clearTimeout(id);
  }, [copied]);

  const runLabel = info.terminal ? t.runIn(info.terminal) : t.run;
  if (gated && info.kind === "run" && canRun)
    return (
      <div className="flex items-center gap-1 p-1.5" data-testid="gated-run">
        <span className="hidden px-1 text-[0.8rem] text-muted sm:inline">{lt.predictFirst}</span>
        <button
          type="button"
          className="btn-ghost btn-sm"
          onClick={() => onRun({ command: info.code, terminal: info.terminal, interrupt: info.interrupt })}
          title={lt.runAnyway}
          aria-label={`${lt.runAnyway} (${runLabel})`}
          data-testid="run-anyway"
        >
          <Icon name="play" size={11} />
          <span className="sr-only sm:not-sr-only">{lt.runAnyway}</span>
        </button>
      </div>
    );
  return (
    <div className="flex items-center gap-1 p-1.5">
      {info.kind === "run" && canRun && (
        <button
          type="button"
          className="btn-primary btn-sm"
          onClick={() => onRun({ command: info.code, terminal: info.terminal, interrupt: info.interrupt })}
          title={(info.terminal ? runLabel + " · " : "") + t.runTitle + (info.interrupt ? ` · ${t.interruptNote}` : "")}
          aria-label={runLabel + (info.interrupt ? ` (${t.interruptNote})` : "")}
          data-testid="run-button"
          data-terminal={info.terminal ?? ""}
        >
          <Icon name="play" size={11} />
          {info.interrupt && <span className="font-mono text-[0.7rem] opacity-80">^C</span>}
          {t.run}
          {info.terminal && (
            <span className="-mr-0.5 inline-flex items-center gap-0.5 rounded bg-black/15 px-1 font-mono text-[0.7rem]" aria-hidden="true">
              <Icon name="terminal" size={10} />
              {info.terminal}
            </span>
          )}
        </button>
      )}
      <button
        type="button"
        className="btn-ghost btn-sm"
        onClick={async () => setCopied(await copyText(info.code))}
        aria-label={copied ? t.copied : t.copy}
        title={t.copy}
        data-testid="copy-button"
      >
        <Icon name={copied ? "check" : "copy"} size={13} />
        <span className={info.kind === "run" ? "sr-only" : ""}>{copied ? t.copied : t.copy}</span>
      </button>
    </div>
  );
}
