"use client";
import { useSyncExternalStore } from "react";
import { SIZE_KEY, THEME_KEY } from "./prefs-script";

export type Theme = "dark" | "light";
export type TextSize = "normal" | "large";

/** Subscribes to changes of <html data-theme/data-size> (and to the system theme, when not pinned). */
function subscribe(cb: () => void): () => void {
  const mo = new MutationObserver(cb);
  mo.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme", "data-size"] });
  const mq = matchMedia("(prefers-color-scheme: dark)");
  const onSystem = () => {
    let pinned: string | null = null;
    try {
      pinned = localStorage.getItem(THEME_KEY);
    } catch {}
    if (pinned !== "dark" && pinned !== "light") document.documentElement.setAttribute("data-theme", mq.matches ? "dark" : "light");
  };
  mq.addEventListener("change", onSystem);
  return () => {
    mo.disconnect();
    mq.removeEventListener("change", onSystem);
  };
}

export function currentTheme(): Theme {
  return document.documentElement.getAttribute("data-theme") === "dark" ? "dark" : "light";
}

export function useTheme(): Theme {
  return useSyncExternalStore(subscribe, currentTheme, () => "light");
}

export function setTheme(t: Theme): void {
  document.documentElement.setAttribute("data-theme", t);
  try {
    localStorage.setItem(THEME_KEY, t);
  } catch {}
}

export function useTextSize(): TextSize {
  return useSyncExternalStore(
    subscribe,
    () => (document.documentElement.getAttribute("data-size") === "large" ? "large" : "normal"),
    () => "normal",
  );
}

export function setTextSize(s: TextSize): void {
  if (s === "large") document.documentElement.setAttribute("data-size", "large");
  else document.documentElement.removeAttribute("data-size");
  try {
    localStorage.setItem(SIZE_KEY, s);
  } catch {}
}
