"use client";
import QRCode from "qrcode";
import { useEffect, useMemo } from "react";
import { displayCode } from "@/lib/classes";
import { classDict } from "@/app/i18n/classes";
import type { Lang } from "@/app/i18n/dict";
import { joinUrl } from "@/app/lib/classes";

/** A QR code drawn as one SVG path from the `qrcode` library's module matrix (no HTML injected). */
export function QrCode({ text, size = 320, label }: { text: string; size?: number; label: string }) {
  const { n, d } = useMemo(() => {
    const qr = QRCode.create(text, { errorCorrectionLevel: "M" });
    const n = qr.modules.size;
    let d = "";
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (qr.modules.get(r, c)) d += `M${c + 4} ${r + 4}h1v1h-1z`;
    return { n: n + 8, d };
  }, [text]);
  return (
    <svg width={size} height={size} viewBox={`0 0 ${n} ${n}`} role="img" aria-label={label} shapeRendering="crispEdges" data-testid="join-qr" data-text={text}>
      <rect width={n} height={n} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}

/** For the projector: the join address, the code in huge letters, and a QR code of the join link. */
export function JoinScreen({ code, title, lang, onClose }: { code: string; title: string; lang: Lang; onClose(): void }) {
  const t = classDict(lang);
  const url = joinUrl(code);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);
  const origin = new URL(url).host;
  return (
    <div className="fixed inset-0 z-50 flex flex-col items-center justify-center gap-8 bg-surface p-8" role="dialog" aria-modal="true" aria-label={t.joinScreen} data-testid="join-screen">
      <h2 className="max-w-5xl text-center text-4xl font-semibold tracking-tight text-fg">{title}</h2>
      <div className="flex flex-wrap items-center justify-center gap-12">
        <div className="flex flex-col items-center gap-4">
          <p className="text-2xl text-muted">
            {t.joinAt} <span className="font-semibold text-fg">{origin}/join</span>
          </p>
          <p className="font-mono text-[7rem] font-bold leading-none tracking-[0.12em] text-fg" data-testid="join-screen-code">
            {displayCode(code)}
          </p>
        </div>
        <div className="flex flex-col items-center gap-2">
          <QrCode text={url} size={300} label={url} />
          <p className="text-lg text-muted">{t.orScan}</p>
        </div>
      </div>
      <button type="button" className="btn-secondary absolute right-6 top-6" onClick={onClose} data-testid="close-join-screen">
        {t.close}
      </button>
    </div>
  );
}
