/**
 * The languages nslab speaks: the pages' chrome (app/i18n) and the lessons use the same list.
 * "en" is required of every lesson and is the fallback everywhere. Pure: no Node, no DOM.
 */
export const LANGUAGES = ["en", "zh-CN"] as const;
export type Lang = (typeof LANGUAGES)[number];
export const DEFAULT_LANG: Lang = "en";

export function isLang(v: unknown): v is Lang {
  return typeof v === "string" && (LANGUAGES as readonly string[]).includes(v);
}
