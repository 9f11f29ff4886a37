import "server-only";
import { cookies, headers } from "next/headers";
import { DEFAULT_LANG, isLang, LANG_COOKIE, type Lang } from "./dict";

/**
 * The language of a request: `?lang=` first, then the language the learner picked before
 * (cookie), then the browser's Accept-Language, then English.
 */
export async function resolveLang(param: string | string[] | undefined): Promise<Lang> {
  const p = Array.isArray(param) ? param[0] : param;
  if (isLang(p)) return p;
  const c = (await cookies()).get(LANG_COOKIE)?.value;
  if (isLang(c)) return c;
  const accept = (await headers()).get("accept-language") ?? "";
  for (const part of accept.split(",")) {
    const tag = part.split(";")[0]!.trim().toLowerCase();
    if (tag.startsWith("zh")) return "zh-CN";
    if (tag.startsWith("en")) return "en";
  }
  return DEFAULT_LANG;
}
