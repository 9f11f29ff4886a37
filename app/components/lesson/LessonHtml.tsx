"use client";
import { useLayoutEffect, useRef, useState } from "react";
import { createPortal } from "react-dom";
import type { Lang } from "@/app/i18n/dict";
import { CodeActions, type CodeBlockInfo } from "./CodeActions";

export type RunRequest = { command: string; terminal?: number; interrupt: boolean };

interface Block extends CodeBlockInfo {
  host: HTMLElement;
}

/**
 * Lesson HTML from the renderer, with Run/Copy actions added to its code blocks
 * (`<pre data-nslab-code data-kind=run|copy|plain data-terminal=N data-interrupt=true>`).
 * Blocks are wrapped in place and the actions portalled in, so blocks inside lists keep their place.
 */
export function LessonHtml({ html, lang, onRun, className = "" }: { html: string; lang: Lang; onRun?(r: RunRequest): void; className?: string }) {
  const root = useRef<HTMLDivElement>(null);
  const [blocks, setBlocks] = useState<Block[]>([]);
  const run = useRef(onRun);
  run.current = onRun;

  useLayoutEffect(() => {
    const el = root.current;
    if (!el) return;
    const found: Block[] = [];
    const cleanups: (() => void)[] = [];
    el.querySelectorAll<HTMLPreElement>("pre[data-nslab-code]").forEach((pre, i) => {
      const kind = (pre.dataset.kind === "run" || pre.dataset.kind === "copy" ? pre.dataset.kind : "plain") as CodeBlockInfo["kind"];
      const n = Number(pre.dataset.terminal);
      const info: CodeBlockInfo = {
        index: i,
        kind,
        terminal: Number.isInteger(n) && n >= 1 ? n : undefined,
        interrupt: pre.dataset.interrupt === "true",
        code: (pre.textContent ?? "").replace(/\n+$/, ""),
      };
      let wrap = pre.parentElement;
      if (!wrap?.classList.contains("nslab-codeblock")) {
        wrap = document.createElement("div");
        wrap.className = "nslab-codeblock";
        pre.replaceWith(wrap);
        wrap.appendChild(pre);
      }
      wrap.dataset.kind = kind;
      if (info.code.includes("\n")) wrap.dataset.multiline = "true";
      wrap.dataset.testid = "code-block";
      if (kind === "plain") return;
      let host = wrap.querySelector<HTMLElement>(":scope > .nslab-code-actions");
      if (!host) {
        host = document.createElement("div");
        host.className = "nslab-code-actions";
        wrap.appendChild(host);
      }
      // the block itself is focusable: Ctrl+Enter runs it, Ctrl+C / Cmd+C with no selection copies it
      pre.tabIndex = 0;
      const onKey = (e: KeyboardEvent) => {
        if ((e.ctrlKey || e.metaKey) && e.key === "Enter" && kind === "run") {
          e.preventDefault();
          run.current?.({ command: info.code, terminal: info.terminal, interrupt: info.interrupt });
        }
      };
      pre.addEventListener("keydown", onKey);
      cleanups.push(() => pre.removeEventListener("keydown", onKey));
      found.push({ ...info, host });
    });
    setBlocks(found);
    return () => cleanups.forEach((f) => f());
  }, [html]);

  return (
    <>
      <div ref={root} className={"prose-lesson " + className} dangerouslySetInnerHTML={{ __html: html }} />
      {blocks.map((b) =>
        createPortal(
          <CodeActions info={b} lang={lang} onRun={(r) => run.current?.(r)} canRun={!!onRun} />,
          b.host,
          `${b.index}`,
        ),
      )}
    </>
  );
}
