import { NextResponse, type NextRequest } from "next/server";
import { isLang, LANG_COOKIE } from "./app/i18n/dict";

/**
 * A page opened with ?lang= remembers that language (the same cookie the language switch sets),
 * and the cookie is on this very request, so the root layout renders <html lang> and the
 * metadata in that language, and later pages without ?lang= (not-found, say) follow it.
 */
export function proxy(req: NextRequest) {
  const lang = req.nextUrl.searchParams.get("lang");
  if (!isLang(lang) || req.cookies.get(LANG_COOKIE)?.value === lang || isBackgroundFetch(req)) return NextResponse.next();
  req.cookies.set(LANG_COOKIE, lang);
  const res = NextResponse.next({ request: { headers: req.headers } });
  res.cookies.set(LANG_COOKIE, lang, { path: "/", maxAge: 365 * 24 * 3600, sameSite: "lax" });
  return res;
}

/**
 * Only a page the learner opens chooses the language. Next's router also fetches `?lang=` URLs in
 * the background: a page in Chinese prefetches its language switch's `?lang=en` link, and
 * remembering that turned the learner's next page English. Next strips its own markers
 * (`Next-Router-Prefetch`, `RSC`, `_rsc`) before the proxy runs, so the browser's tell is used:
 * those fetches say `Sec-Fetch-Dest: empty`, a page opened says `document`. A click on the switch
 * itself sets the cookie in the browser (LanguageSwitch). Speculative loads say
 * `Sec-Purpose: prefetch` (or the older `Purpose`). No Sec-Fetch-Dest at all (curl, an old
 * browser): taken as a page.
 */
function isBackgroundFetch(req: NextRequest): boolean {
  const h = req.headers;
  const dest = h.get("sec-fetch-dest");
  if (dest !== null && dest !== "document" && dest !== "iframe") return true;
  return /prefetch/i.test(h.get("sec-purpose") ?? h.get("purpose") ?? "");
}

export const config = {
  matcher: [{ source: "/((?!api/|_next/).*)", has: [{ type: "query", key: "lang" }] }],
};
