"use client";
import { useCallback, useRef, useSyncExternalStore, type KeyboardEvent, type PointerEvent, type ReactNode } from "react";
import { readJson, subscribeKey, writeJson } from "@/app/lib/storage";

/**
 * Two panes and a draggable (and keyboard-operable) separator. The split is a fraction of the
 * container for the first pane, remembered in localStorage under `storageKey`.
 */
export function SplitPane({
  first,
  second,
  storageKey,
  initial,
  min = 0.2,
  max = 0.8,
  vertical = false,
  label,
  testId,
  collapsed = false,
}: {
  first: ReactNode;
  second: ReactNode;
  storageKey: string;
  initial: number;
  min?: number;
  max?: number;
  vertical?: boolean;
  label: string;
  testId?: string;
  /** Show only the first pane (the second is not rendered); the first keeps its identity. */
  collapsed?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  const subscribe = useCallback((cb: () => void) => subscribeKey(storageKey, cb), [storageKey]);
  const stored = useSyncExternalStore(
    subscribe,
    () => readJson<number>(storageKey),
    () => null,
  );
  const ratio = clamp(typeof stored === "number" ? stored : initial, min, max);
  const set = (r: number) => writeJson(storageKey, Math.round(clamp(r, min, max) * 1000) / 1000);

  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    if (e.button !== 0) return;
    e.preventDefault();
    const el = e.currentTarget;
    el.setPointerCapture(e.pointerId);
    document.body.style.cursor = vertical ? "row-resize" : "col-resize";
    document.body.style.userSelect = "none";
    const move = (ev: globalThis.PointerEvent) => {
      const r = box.current?.getBoundingClientRect();
      if (!r) return;
      set(vertical ? (ev.clientY - r.top) / r.height : (ev.clientX - r.left) / r.width);
    };
    const up = () => {
      el.removeEventListener("pointermove", move);
      el.removeEventListener("pointerup", up);
      el.removeEventListener("pointercancel", up);
      document.body.style.cursor = "";
      document.body.style.userSelect = "";
    };
    el.addEventListener("pointermove", move);
    el.addEventListener("pointerup", up);
    el.addEventListener("pointercancel", up);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const step = e.shiftKey ? 0.1 : 0.02;
    const dec = vertical ? "ArrowUp" : "ArrowLeft";
    const inc = vertical ? "ArrowDown" : "ArrowRight";
    if (e.key === dec) set(ratio - step);
    else if (e.key === inc) set(ratio + step);
    else if (e.key === "Home") set(min);
    else if (e.key === "End") set(max);
    else if (e.key === "Enter") set(initial);
    else return;
    e.preventDefault();
  };

  return (
    <div ref={box} className={"flex min-h-0 min-w-0 flex-1 " + (vertical ? "flex-col" : "flex-row")} data-testid={testId}>
      <div className="flex min-h-0 min-w-0 flex-col overflow-hidden" style={collapsed ? { flex: "1 1 0%" } : { flexBasis: `${ratio * 100}%`, flexShrink: 0, flexGrow: 0 }}>
        {first}
      </div>
      {!collapsed && (
      <div
        role="separator"
        tabIndex={0}
        aria-orientation={vertical ? "horizontal" : "vertical"}
        aria-label={label}
        aria-valuemin={Math.round(min * 100)}
        aria-valuemax={Math.round(max * 100)}
        aria-valuenow={Math.round(ratio * 100)}
        onPointerDown={onPointerDown}
        onKeyDown={onKeyDown}
        onDoubleClick={() => set(initial)}
        className={
          "group relative z-10 flex shrink-0 touch-none items-center justify-center outline-none transition-colors " +
          (vertical
            ? // on phones a 24 px grab bar (a touch target), elsewhere a 1 px line with a wider hit area
              "h-[24px] w-full cursor-row-resize border-y border-line bg-surface-2 md:h-px md:border-0 md:bg-line md:hover:bg-accent/60 md:focus-visible:bg-accent"
            : "h-full w-px cursor-col-resize bg-line hover:bg-accent/60 focus-visible:bg-accent")
        }
      >
        {vertical && <span className="h-1 w-10 rounded-full bg-line-strong md:hidden" aria-hidden="true" />}
        <span className={"absolute " + (vertical ? "inset-x-0 -inset-y-1" : "inset-y-0 -inset-x-1")} aria-hidden="true" />
      </div>
      )}
      {!collapsed && <div className="flex min-h-0 min-w-0 flex-1 flex-col overflow-hidden">{second}</div>}
    </div>
  );
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
