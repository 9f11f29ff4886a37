"use client";
import { useContext, useLayoutEffect, useRef, useState } from "react";
import { createPortal } from "react-dom";
import type { Lang } from "@/app/i18n/dict";
import { tokenizeDom } from "@/app/lib/tokens";
import { EXPLORE_TABS, type ExploreTab } from "@/lib/lessons";
import { CodeActions, type CodeBlockInfo } from "./CodeActions";
import { ExploreCard, Observation, Prediction, StepContext, useWidgets, type PredictMeta } from "./widgets";

export type RunRequest = { command: string; terminal?: number; interrupt: boolean };

interface Block extends CodeBlockInfo {
  host: HTMLElement;
  predict?: number; // the prediction this run block belongs to
}

type Widget =
  | { kind: "predict"; host: HTMLElement; meta: PredictMeta }
  | { kind: "observe"; host: HTMLElement; index: number }
  | { kind: "explore"; host: HTMLElement; index: number; tab: ExploreTab; captionHtml: string };

/** What the server rendered into a widget element, read before the element is handed to React. */
const captured = new WeakMap<HTMLElement, { mount: HTMLElement; data: PredictMeta | { captionHtml: string } }>();

function capture(el: HTMLElement): { mount: HTMLElement; data: PredictMeta | { captionHtml: string } } {
  const had = captured.get(el);
  if (had) return had;
  const part = (name: string) => el.querySelector<HTMLElement>(`:scope > [data-part="${name}"]`);
  const data =
    el.dataset.nslabPredict !== undefined
      ? {
          index: Number(el.dataset.index),
          kind: el.dataset.kind === "text" ? ("text" as const) : ("choice" as const),
          questionHtml: part("question")?.innerHTML ?? "",
          choices: [...(part("choices")?.querySelectorAll(":scope > li") ?? [])].map((li) => li.innerHTML),
        }
      : { captionHtml: part("caption")?.innerHTML ?? "" };
  const mount = document.createElement("div");
  mount.className = "nslab-widget not-prose";
  el.replaceChildren(mount);
  const c = { mount, data };
  captured.set(el, c);
  return c;
}

/**
 * Lesson HTML from the renderer, with Run/Copy actions added to its code blocks
 * (`<pre data-nslab-code data-kind=run|copy|plain data-terminal=N data-interrupt=true>`).
 * Blocks are wrapped in place and the actions portalled in, so blocks inside lists keep their place.
 * A run block without a terminal runs in terminal 1 (never "whichever is active"), and the code
 * wraps between tokens only.
 */
export function LessonHtml({ html, lang, onRun, className = "" }: { html: string; lang: Lang; onRun?(r: RunRequest): void; className?: string }) {
  const root = useRef<HTMLDivElement>(null);
  const [blocks, setBlocks] = useState<Block[]>([]);
  const [widgets, setWidgets] = useState<Widget[]>([]);
  const step = useContext(StepContext);
  const w = useWidgets();
  const run = useRef(onRun);
  run.current = onRun;

  useLayoutEffect(() => {
    const el = root.current;
    if (!el) return;
    const found: Block[] = [];
    el.querySelectorAll<HTMLPreElement>("pre[data-nslab-code]").forEach((pre, i) => {
      const kind = (pre.dataset.kind === "run" || pre.dataset.kind === "copy" ? pre.dataset.kind : "plain") as CodeBlockInfo["kind"];
      const n = Number(pre.dataset.terminal);
      const info: CodeBlockInfo = {
        index: i,
        kind,
        terminal: kind === "run" ? (Number.isInteger(n) && n >= 1 ? n : 1) : undefined,
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
      tokenizeDom(pre);
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
      // one Tab stop per block: its first button (CodeActions); the block itself is not focusable
      const predict = pre.dataset.predict !== undefined ? Number(pre.dataset.predict) : undefined;
      found.push({ ...info, host, ...(predict !== undefined ? { predict } : {}) });
    });
    setBlocks(found);
    // predictions, observation slots and explore cards (only inside a step)
    const ws: Widget[] = [];
    el.querySelectorAll<HTMLElement>("[data-nslab-predict], [data-nslab-observe], [data-nslab-explore]").forEach((host) => {
      const index = Number(host.dataset.index);
      if (!Number.isInteger(index)) return;
      if (host.dataset.nslabObserve !== undefined) return void ws.push({ kind: "observe", host, index });
      const c = capture(host);
      if (host.dataset.nslabPredict !== undefined) ws.push({ kind: "predict", host: c.mount, meta: c.data as PredictMeta });
      else {
        const tab = host.dataset.tab as ExploreTab;
        if ((EXPLORE_TABS as readonly string[]).includes(tab)) ws.push({ kind: "explore", host: c.mount, index, tab, captionHtml: (c.data as { captionHtml: string }).captionHtml });
      }
    });
    setWidgets(ws);
    // a block whose code is wider than it (a very long token) scrolls, and so takes the keyboard
    const ro = new ResizeObserver((entries) => {
      for (const e of entries) {
        const pre = e.target as HTMLElement;
        if (pre.scrollWidth > pre.clientWidth + 1) pre.tabIndex = 0;
        else pre.removeAttribute("tabindex");
      }
    });
    el.querySelectorAll<HTMLPreElement>("pre[data-nslab-code]").forEach((pre) => ro.observe(pre));
    return () => ro.disconnect();
  }, [html]);

  const predictionOpen = (i: number) => !!step && !!w && !w.record(step, i);

  return (
    <>
      <div ref={root} className={"prose-lesson " + className} dangerouslySetInnerHTML={{ __html: html }} />
      {blocks.map((b) =>
        createPortal(
          <CodeActions
            info={b}
            lang={lang}
            onRun={(r) => {
              if (b.predict !== undefined && step && w) w.ranGated(step, b.predict);
              run.current?.(r);
            }}
            canRun={!!onRun}
            gated={b.predict !== undefined && predictionOpen(b.predict)}
          />,
          b.host,
          `${b.index}`,
        ),
      )}
      {step &&
        widgets.map((x) =>
          createPortal(
            x.kind === "predict" ? (
              <Prediction meta={x.meta} step={step} />
            ) : x.kind === "observe" ? (
              <Observation meta={widgets.find((p): p is Extract<Widget, { kind: "predict" }> => p.kind === "predict" && p.meta.index === x.index)?.meta ?? { index: x.index, kind: "text", questionHtml: "", choices: [] }} step={step} />
            ) : (
              <ExploreCard index={x.index} tab={x.tab} captionHtml={x.captionHtml} step={step} />
            ),
            x.host,
            `${x.kind}-${"meta" in x ? x.meta.index : x.index}`,
          ),
        )}
    </>
  );
}
