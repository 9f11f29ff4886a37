import { NextResponse, type NextRequest } from "next/server";
import { isLang, LANG_COOKIE } from "./app/i18n/dict";

/**
 * A page opened with ?lang= remembers that language (the same cookie the language switch sets),
 * and the cookie is on this very request, so the root layout renders <html lang> and the
 * metadata in that language, and later pages without ?lang= (not-found, say) follow it.
 */
export function proxy(req: NextRequest) {
  const lang = req.nextUrl.searchParams.get("lang");
  if (!isLang(lang) || req.cookies.get(LANG_COOKIE)?.value === lang) return NextResponse.next();
  req.cookies.set(LANG_COOKIE, lang);
  const res = NextResponse.next({ request: { headers: req.headers } });
  res.cookies.set(LANG_COOKIE, lang, { path: "/", maxAge: 365 * 24 * 3600, sameSite: "lax" });
  return res;
}

export const config = {
  matcher: [{ source: "/((?!api/|_next/).*)", has: [{ type: "query", key: "lang" }] }],
};
