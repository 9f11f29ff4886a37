import { NextResponse, type NextRequest } from "next/server";
import { isLang, LANG_COOKIE } from "./app/i18n/dict";

/**
 * A page opened with ?lang= remembers that language (the same cookie the language switch sets),
 * and the cookie is on this very request, so the root layout renders <html lang> and the
 * metadata in that language, and later pages without ?lang= (not-found, say) follow it.
 */
export function proxy(req: NextRequest) {
  const lang = req.nextUrl.searchParams.get("lang");
  if (!isLang(lang) || req.cookies.get(LANG_COOKIE)?.value === lang || isPrefetch(req)) return NextResponse.next();
  req.cookies.set(LANG_COOKIE, lang);
  const res = NextResponse.next({ request: { headers: req.headers } });
  res.cookies.set(LANG_COOKIE, lang, { path: "/", maxAge: 365 * 24 * 3600, sameSite: "lax" });
  return res;
}

/**
 * A prefetch is not the learner choosing a language: a page in Chinese prefetches its language
 * switch's `?lang=en` link, and remembering that would turn the next page English behind the
 * learner's back. Next's router marks its prefetches with `Next-Router-Prefetch`; browsers mark
 * speculative loads with `Sec-Purpose: prefetch` (or the older `Purpose`).
 */
function isPrefetch(req: NextRequest): boolean {
  const h = req.headers;
  return h.has("next-router-prefetch") || /prefetch/i.test(h.get("sec-purpose") ?? h.get("purpose") ?? "");
}

export const config = {
  matcher: [{ source: "/((?!api/|_next/).*)", has: [{ type: "query", key: "lang" }] }],
};
