import type { Metadata, Viewport } from "next";
import { cookies } from "next/headers";
import "./globals.css";
import { DEFAULT_LANG, dict, isLang, LANG_COOKIE } from "./i18n/dict";
import { PREFS_SCRIPT } from "./lib/prefs-script";

/** In the learner's language (the cookie; proxy.ts sets it from ?lang= on the same request). */
export async function generateMetadata(): Promise<Metadata> {
  const c = (await cookies()).get(LANG_COOKIE)?.value;
  const t = dict(isLang(c) ? c : DEFAULT_LANG);
  return {
    title: { default: t.metaTitle, template: "%s · nslab" },
    description: t.metaDescription,
    applicationName: "nslab",
    icons: { icon: "/logo.svg" },
  };
}

export const viewport: Viewport = {
  themeColor: [
    { media: "(prefers-color-scheme: light)", color: "#f7f7f8" },
    { media: "(prefers-color-scheme: dark)", color: "#0d0e11" },
  ],
};

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  const c = (await cookies()).get(LANG_COOKIE)?.value;
  const lang = isLang(c) ? c : DEFAULT_LANG;
  return (
    <html lang={lang} data-theme="light" suppressHydrationWarning>
      <head>
        <script dangerouslySetInnerHTML={{ __html: PREFS_SCRIPT }} />
      </head>
      <body className="min-h-dvh antialiased">{children}</body>
    </html>
  );
}
