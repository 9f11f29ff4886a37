import { Fragment, useEffect, useId, useLayoutEffect, useRef, useState } from "react";
import type { TraceEntry } from "@/lib/protocol";
import { formatClock, formatDuration, manPages, traceResult } from "./model/trace";
import type { Strings } from "./strings";
import { Tokens } from "../ui/Tokens";
import { Empty, useRovingRows } from "./ui";

const SHOW_MAX = 600;
/** A cell: padded in the table; in a narrow pane (stacked calls) a plain block in its row. */
const CELL = "px-1.5 py-1 @max-[47.5rem]:block @max-[47.5rem]:p-0";
const WHO = ["server", "child", "shell"] as const;
const WHO_TONE: Record<string, string> = {
  server: "bg-sky-500/10 text-sky-800 ring-sky-600/25 dark:text-sky-300 dark:ring-sky-400/30",
  child: "bg-violet-500/10 text-violet-800 ring-violet-600/25 dark:text-violet-300 dark:ring-violet-400/30",
  shell: "bg-emerald-500/10 text-emerald-800 ring-emerald-600/25 dark:text-emerald-300 dark:ring-emerald-400/30",
};

/**
 * The system calls of this lab, newest last, each linked to its man page, in two views: the
 * namespace calls the learner's own commands made ("learner" entries: traced with seccomp user
 * notification), and the calls nslab made to build the lab and start its processes.
 */
export function TraceView({ trace, t }: { trace: TraceEntry[]; t: Strings }) {
  const mine = trace.filter((e) => e.who === "learner");
  const nslab = trace.filter((e) => e.who !== "learner");
  const [picked, setPicked] = useState<"learner" | "nslab" | null>(null);
  // until the learner picks, show their own calls as soon as there are any
  const view = picked ?? (mine.length ? "learner" : "nslab");
  return (
    <div className="flex h-full min-h-0 flex-col" data-testid="explorer-trace" data-view={view}>
      <div role="tablist" aria-label={t.traceViews} className="flex items-center gap-1 border-b border-line px-3 pt-2">
        {(["learner", "nslab"] as const).map((v) => (
          <button
            key={v}
            type="button"
            role="tab"
            aria-selected={view === v}
            data-testid={`trace-view-${v}`}
            onClick={() => setPicked(v)}
            className={"btn-ghost btn-sm rounded-b-none border-b-2 " + (view === v ? "border-accent text-fg" : "border-transparent text-muted")}
          >
            {v === "learner" ? t.yourCalls(mine.length) : t.nslabCalls(nslab.length)}
          </button>
        ))}
      </div>
      {view === "learner" ? <CallTable key="learner" trace={mine} learner t={t} /> : <CallTable key="nslab" trace={nslab} learner={false} t={t} />}
    </div>
  );
}

function CallTable({ trace, learner, t }: { trace: TraceEntry[]; learner: boolean; t: Strings }) {
  const [filter, setFilter] = useState("");
  const [who, setWho] = useState<string | null>(null);
  const [follow, setFollow] = useState(true);
  const scroller = useRef<HTMLDivElement>(null);
  const roving = useRovingRows<HTMLTableSectionElement>();
  const filterId = useId();

  const q = filter.trim().toLowerCase();
  const matching = trace.filter(
    (e) => (!who || e.who === who) && (!q || e.sys.toLowerCase().includes(q) || e.args.toLowerCase().includes(q) || e.scope.toLowerCase().includes(q) || (e.comm ?? "").toLowerCase().includes(q)),
  );
  const shown = matching.slice(-SHOW_MAX);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (follow && el) el.scrollTop = el.scrollHeight;
  }, [follow, shown.length, shown.at(-1)?.seq]);

  // scrolling up stops following; scrolling back to the bottom resumes
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const onScroll = () => setFollow(el.scrollHeight - el.scrollTop - el.clientHeight < 24);
    el.addEventListener("scroll", onScroll, { passive: true });
    return () => el.removeEventListener("scroll", onScroll);
  }, []);

  return (
    <div className="flex min-h-0 flex-1 flex-col" data-testid={`trace-${learner ? "learner" : "nslab"}`}>
      {learner && <p className="border-b border-line px-3 py-1.5 text-[0.8667rem] text-muted">{t.yourCallsHelp}</p>}
      <div className="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-line px-3 py-2 text-[0.9333rem]">
        <label htmlFor={filterId} className="flex items-center gap-2">
          <span className="text-muted">{t.filter}</span>
          <input
            id={filterId}
            type="search"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
            placeholder={t.filterPlaceholder}
            className="h-8 w-56 rounded-md border border-line-strong bg-surface px-2 font-mono text-[0.8667rem] text-fg placeholder:text-subtle"
          />
        </label>
        {!learner && (
        <div role="group" aria-label={t.who} className="flex items-center gap-1">
          {[null, ...WHO].map((w) => (
            <button
              key={w ?? "all"}
              type="button"
              aria-pressed={who === w}
              onClick={() => setWho(w)}
              className={"btn-ghost btn-sm " + (who === w ? "bg-surface-3 text-fg" : "")}
            >
              {w ? (t.whoName[w] ?? w) : t.all}
            </button>
          ))}
        </div>
        )}
        <label className="flex items-center gap-1.5">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} className="size-4 accent-[var(--c-accent)]" />
          {t.follow}
        </label>
        <span className="ml-auto text-[0.8667rem] text-subtle" aria-live="polite">
          {t.shownOf(shown.length, trace.length)}
        </span>
      </div>
      <div ref={scroller} className="min-h-0 flex-1 overflow-auto">
        {shown.length === 0 ? (
          <Empty>{learner ? t.noYourCalls : t.noTrace}</Empty>
        ) : (
          // A table where the pane is wide enough (arguments and results wrap between tokens);
          // in a pane narrower than 47.5rem (a phone, a narrow split: the Explorer is a container)
          // each call is a small block of its own (time and process, then the call, its
          // arguments and its result), so nothing runs off the pane and nothing scrolls sideways.
          // 47.5rem: the table's narrowest form, its widest unbreakable pieces side by side (a
          // time, "terminal:t1", "mount_namespaces(7)", "SECCOMP_FILTER_FLAG_NEW_LISTENER,", a
          // duration), needs about 46.5rem; the Explorer at 1280 px is 48rem wide.
          <table className="w-full border-collapse text-left text-[0.9333rem] @max-[47.5rem]:block">
            <thead className="sticky top-0 z-10 bg-surface text-[0.8667rem] text-muted shadow-[0_1px_0_var(--c-line)] @max-[47.5rem]:sr-only">
              <tr>
                <th scope="col" className="px-1.5 py-1.5 font-medium">
                  {t.time}
                </th>
                <th scope="col" className="px-1.5 py-1.5 font-medium">
                  {learner ? t.processCol : t.who}
                </th>
                <th scope="col" className="px-1.5 py-1.5 font-medium">
                  {t.call}
                </th>
                <th scope="col" className="px-1.5 py-1.5 font-medium">
                  {t.args}
                </th>
                <th scope="col" className={`px-1.5 py-1.5 font-medium ${learner ? "" : "text-right"}`}>
                  {t.result}
                </th>
                {!learner && (
                  <th scope="col" className="px-1.5 py-1.5 text-right font-medium">
                    {t.duration}
                  </th>
                )}
              </tr>
            </thead>
            <tbody ref={roving.ref} onKeyDown={roving.onKeyDown} onFocus={roving.onFocus} className="@max-[47.5rem]:block">
              {shown.map((e) => {
                const r = traceResult(e);
                const pages = manPages(e.sys, e.args);
                return (
                  <tr
                    key={e.seq}
                    data-row=""
                    tabIndex={-1}
                    className="nsx-row border-b border-line/60 align-top hover:bg-surface-2 @max-[47.5rem]:flex @max-[47.5rem]:flex-wrap @max-[47.5rem]:items-baseline @max-[47.5rem]:gap-x-3 @max-[47.5rem]:gap-y-0.5 @max-[47.5rem]:px-3 @max-[47.5rem]:py-1.5"
                    data-trace-seq={e.seq}
                    data-sys={e.sys}
                    data-pid={e.pid}
                    data-comm={e.comm}
                    data-inferred={e.inferred ? "" : undefined}
                  >
                    <td className={`${CELL} whitespace-nowrap font-mono text-[0.8667rem] text-muted`}>{formatClock(e.at)}</td>
                    <td className={CELL}>
                      {learner ? (
                        <span className="font-mono text-[0.8667rem]" data-testid="trace-process">
                          <span className="whitespace-nowrap">{e.comm}</span>
                          {e.pid != null && <> <span className="whitespace-nowrap text-subtle">PID {e.pid}</span></>}
                        </span>
                      ) : (
                        <span className={`inline-block whitespace-nowrap rounded px-1.5 text-[0.8667rem] leading-5 ring-1 ring-inset ${WHO_TONE[e.who] ?? ""}`} title={t.whoTitle[e.who]}>
                          {t.whoName[e.who] ?? e.who}
                        </span>
                      )}
                      {e.scope !== "lab" && <> <span className="whitespace-nowrap font-mono text-[0.8667rem] text-subtle">{e.scope}</span></>}
                    </td>
                    <td className={`${CELL} font-mono @max-[47.5rem]:basis-full`}>
                      {pages.length ? (
                        <a href={pages[0]!.url} target="_blank" rel="noreferrer" className="whitespace-nowrap font-semibold text-accent underline decoration-accent/40 underline-offset-2 hover:decoration-current" title={t.manPage(pages[0]!.label)}>
                          {e.sys}
                        </a>
                      ) : (
                        <span className="whitespace-nowrap font-semibold">{e.sys}</span>
                      )}
                      {pages.slice(1).map((p) => (
                        <Fragment key={p.url}>
                          {" "}
                          <a href={p.url} target="_blank" rel="noreferrer" className="whitespace-nowrap text-[0.8667rem] text-muted underline decoration-line-strong underline-offset-2 hover:text-accent" title={t.manPage(p.label)}>
                            {p.label}
                          </a>
                        </Fragment>
                      ))}
                      {e.inferred && (
                        <>
                          {" "}
                          <span className="whitespace-nowrap rounded px-1 text-[0.8rem] italic text-muted ring-1 ring-inset ring-line-strong" title={t.inferredTitle} data-testid="trace-inferred">
                            {t.inferred}
                          </span>
                        </>
                      )}
                    </td>
                    <td className={`${CELL} font-mono text-[0.8667rem] @max-[47.5rem]:basis-full`} data-args="">
                      <Tokens text={e.args} />
                    </td>
                    <td className={`${CELL} font-mono ${learner ? "text-[0.8667rem] @max-[47.5rem]:basis-full" : "text-right @max-[47.5rem]:text-left"} ${r.failed ? "font-semibold text-danger" : ""}`} data-result="">
                      {/* the stacked form's label for sighted readers; the (visually hidden) header names the cell */}
                      <span className="hidden font-sans text-muted @max-[47.5rem]:inline" aria-hidden="true">{t.result}: </span>
                      {r.text ? <Tokens text={r.text} /> : t.unknownResult}
                    </td>
                    {!learner && <td className={`${CELL} whitespace-nowrap text-right font-mono text-[0.8667rem] text-muted`}>{formatDuration(e.durNs)}</td>}
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}
