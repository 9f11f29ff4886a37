/** Small pieces the explorer's views share: colour chips, tree guides, keyboard-navigable rows. */
import { useEffect, useRef, type CSSProperties, type KeyboardEvent, type ReactNode } from "react";
import type { NamespaceInfo } from "@/lib/protocol";
import { nsSwatch, shortIno, swatchVars, type Swatch } from "./model/colours";
import type { Strings } from "./strings";

/** Classes painting an element with the swatch set by swatchVars() on it. */
export const SW_CHIP = "bg-[var(--sw-bg)] text-[color:var(--sw-fg)] dark:bg-[var(--sw-bg-d)] dark:text-[color:var(--sw-fg-d)]";
export const SW_SOLID = "bg-[var(--sw-solid)] dark:bg-[var(--sw-solid-d)]";
export const SW_BORDER = "border-[color:var(--sw-solid)] dark:border-[color:var(--sw-solid-d)]";

export function swStyle(s: Swatch, extra?: CSSProperties): CSSProperties {
  return { ...(swatchVars(s) as CSSProperties), ...extra };
}

export function nsTag(ns: Pick<NamespaceInfo, "isLabRoot" | "host">, t: Strings): string {
  return ns.isLabRoot ? t.labOwn : ns.host ? t.hostOwn : "";
}

/** A namespace as a coloured chip: "uts …32252" (the whole inode in its title and for screen readers). */
export function NsChip({ ns, t, showType = true, className = "" }: { ns: Pick<NamespaceInfo, "type" | "ino" | "isLabRoot" | "host">; t: Strings; showType?: boolean; className?: string }) {
  const tag = nsTag(ns, t);
  const label = t.nsLabel(ns.type, ns.ino, tag);
  return (
    <span
      className={`inline-flex items-center gap-1 whitespace-nowrap rounded px-1.5 py-0.5 font-mono text-[0.8667rem] leading-5 ${SW_CHIP} ${className}`}
      style={swStyle(nsSwatch(ns))}
      title={label}
      data-ns-type={ns.type}
      data-ns-ino={ns.ino}
    >
      <span aria-hidden="true">
        {showType ? `${ns.type} ` : ""}
        {shortIno(ns.ino)}
      </span>
      <span className="sr-only">{label}</span>
    </span>
  );
}

/** Box-drawing guides for a row of a tree (lasts: for each level on its path, whether that node is the last sibling). */
export function TreeGuides({ lasts }: { lasts: boolean[] }) {
  if (lasts.length <= 1) return null;
  let s = "";
  for (let j = 1; j < lasts.length; j++) {
    if (j < lasts.length - 1) s += lasts[j] ? "   " : "│  ";
    else s += lasts[j] ? "└─ " : "├─ ";
  }
  return (
    <span aria-hidden="true" className="whitespace-pre font-mono text-subtle select-none">
      {s}
    </span>
  );
}

export function changeClass(x: { fresh?: boolean; gone?: boolean }, changed?: boolean): string {
  return x.gone ? "nsx-gone" : x.fresh ? "nsx-fresh" : changed ? "nsx-changed" : "";
}

/**
 * Arrow-key navigation between the rows (elements with data-row) of a container: one row is in
 * the tab order at a time; Up/Down/Home/End/PageUp/PageDown move focus.
 */
export function useRovingRows<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const rows = [...el.querySelectorAll<HTMLElement>("[data-row]")];
    if (rows.length && !rows.some((r) => r.tabIndex === 0)) rows[0]!.tabIndex = 0;
  });
  const onKeyDown = (e: KeyboardEvent<T>) => {
    const el = ref.current;
    if (!el) return;
    const target = e.target as HTMLElement;
    if (!target.hasAttribute("data-row")) return;
    const rows = [...el.querySelectorAll<HTMLElement>("[data-row]")];
    const i = rows.indexOf(target);
    let j = -1;
    if (e.key === "ArrowDown") j = Math.min(rows.length - 1, i + 1);
    else if (e.key === "ArrowUp") j = Math.max(0, i - 1);
    else if (e.key === "Home") j = 0;
    else if (e.key === "End") j = rows.length - 1;
    else if (e.key === "PageDown") j = Math.min(rows.length - 1, i + 10);
    else if (e.key === "PageUp") j = Math.max(0, i - 10);
    if (j < 0) return;
    e.preventDefault();
    focusRow(rows, j);
  };
  const onFocus = (e: React.FocusEvent<T>) => {
    const target = e.target as HTMLElement;
    if (!target.hasAttribute("data-row") || !ref.current) return;
    for (const r of ref.current.querySelectorAll<HTMLElement>("[data-row]")) r.tabIndex = r === target ? 0 : -1;
  };
  return { ref, onKeyDown, onFocus };
}

function focusRow(rows: HTMLElement[], j: number) {
  for (const r of rows) r.tabIndex = -1;
  rows[j]!.tabIndex = 0;
  rows[j]!.focus();
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="px-4 py-6 text-[0.9333rem] text-muted">{children}</p>;
}

export function SectionTitle({ children, id }: { children: ReactNode; id?: string }) {
  return (
    <h3 id={id} className="mb-2 text-[0.9333rem] font-semibold text-fg">
      {children}
    </h3>
  );
}
