"use client";
import "@xterm/xterm/css/xterm.css";
import type { Terminal as XTerm } from "@xterm/xterm";
import { useEffect, useRef, useState } from "react";
import { CLASS_CLOSE, type StageInfo, type StreamMessage } from "@/lib/classes";
import { currentTheme, useTheme } from "@/app/lib/prefs";
import { ReconnectingSocket, type LinkState } from "@/app/lib/reconnecting-socket";
import { TERMINAL_FONT, XTERM_THEMES } from "@/app/lib/xterm-theme";

export type StreamOff = Extract<StreamMessage, { type: "off" }>["reason"] | null;

/**
 * A read-only view of a terminal stream (the class broadcast, or a learner's terminal the
 * instructor watches): xterm.js fed by the stream socket, its font scaled so the whole source
 * screen fits the pane. It never sends keystrokes on the stream socket; with `onInput` (a consented
 * take-over) typing goes to that callback instead.
 */
export function StreamView({
  url,
  kind,
  label,
  onSource,
  onOff,
  onInput,
  className,
}: {
  url: string;
  kind: "broadcast" | "watch";
  label: string;
  onSource?(s: StageInfo): void;
  onOff?(reason: StreamOff): void;
  onInput?: ((data: string) => void) | null;
  className?: string;
}) {
  const outer = useRef<HTMLDivElement>(null);
  const host = useRef<HTMLDivElement>(null);
  const term = useRef<XTerm | null>(null);
  const [link, setLink] = useState<LinkState["kind"]>("connecting");
  const [off, setOff] = useState<StreamOff>(null);
  const cb = useRef({ onSource, onOff, onInput });
  cb.current = { onSource, onOff, onInput };
  const theme = useTheme();

  useEffect(() => {
    let disposed = false;
    let sock: ReconnectingSocket | null = null;
    let ro: ResizeObserver | null = null;
    let x: XTerm | null = null;
    (async () => {
      const { Terminal } = await import("@xterm/xterm");
      const el = host.current;
      if (disposed || !el) return;
      x = new Terminal({
        fontFamily: TERMINAL_FONT,
        fontSize: 14,
        lineHeight: 1.15,
        scrollback: 1000,
        cursorBlink: false,
        disableStdin: false,
        theme: XTERM_THEMES[currentTheme()],
        allowProposedApi: true,
      });
      x.open(el);
      term.current = x;
      if (outer.current) (outer.current as HTMLDivElement & { nslabText?: () => string }).nslabText = () => bufferText(x!);
      const xt = x;
      // the whole source screen fits the pane: scale the font to the pane and the source's size
      // Cell sizes are whole device pixels, so the screen does not shrink exactly with the font:
      // the screen's own size is observed too, and a screen still too big after a change is
      // shrunk again, by 0.2 px at least, until it fits (or the font is at its smallest).
      const fitFont = () => {
        const screen = el.querySelector<HTMLElement>(".xterm-screen");
        const box = outer.current;
        if (!screen || !box || !box.clientWidth || !screen.offsetWidth) return;
        const f = xt.options.fontSize ?? 14;
        // the room right and below of where the screen starts (the host's offset and xterm's padding)
        const b = box.getBoundingClientRect();
        const sr = screen.getBoundingClientRect();
        const room = [b.right - sr.left - 4, b.bottom - sr.top - 4] as const;
        const over = screen.offsetWidth > room[0] || screen.offsetHeight > room[1];
        let next = Math.max(7, Math.min(28, Math.floor(f * Math.min(room[0] / screen.offsetWidth, room[1] / screen.offsetHeight) * 10) / 10));
        if (over) next = Math.max(7, Math.min(next, Math.round((f - 0.2) * 10) / 10));
        if (next !== f && (over || Math.abs(next - f) >= 0.2)) {
          xt.options.fontSize = next;
          // a smaller font may keep the same whole-pixel cells, and then nothing resizes: look
          // again once xterm has drawn with it (each pass while over shrinks it, so this ends)
          if (over) requestAnimationFrame(() => requestAnimationFrame(fitFont));
        }
      };
      ro = new ResizeObserver(() => requestAnimationFrame(fitFont));
      ro.observe(outer.current!);
      const screenEl = el.querySelector(".xterm-screen");
      if (screenEl) ro.observe(screenEl);
      xt.onData((d) => cb.current.onInput?.(d));
      sock = new ReconnectingSocket({
        url: () => url,
        binaryType: "arraybuffer",
        onState: (s) => setLink(s.kind),
        onOpen: () => sock?.markOpen(),
        onMessage: (data) => {
          if (typeof data !== "string") {
            xt.write(new Uint8Array(data as ArrayBuffer));
            return;
          }
          let m: StreamMessage;
          try {
            m = JSON.parse(data) as StreamMessage;
          } catch {
            return;
          }
          if (m.type === "reset") {
            xt.reset();
            xt.resize(m.cols, m.rows);
            setOff(null);
            cb.current.onOff?.(null);
            requestAnimationFrame(fitFont);
          } else if (m.type === "resize") {
            xt.resize(m.cols, m.rows);
            requestAnimationFrame(fitFont);
          } else if (m.type === "source") cb.current.onSource?.(m.stage);
          else if (m.type === "off") {
            setOff(m.reason);
            cb.current.onOff?.(m.reason);
            if (m.reason === "class-ended") sock?.expectFinal({ reason: "ended", message: "" });
          }
        },
        onClose: (code) => (code === CLASS_CLOSE.ended || code === 4404 ? { reason: "ended", message: "" } : null),
      });
      sock.connect();
    })();
    return () => {
      disposed = true;
      ro?.disconnect();
      sock?.dispose();
      x?.dispose();
      term.current = null;
    };
  }, [url]);

  useEffect(() => {
    const x = term.current;
    if (x) x.options.theme = XTERM_THEMES[theme];
  }, [theme]);

  return (
    <div
      ref={outer}
      className={"relative h-full w-full overflow-hidden bg-term-bg " + (className ?? "")}
      data-testid="stream-view"
      data-stream={kind}
      data-link={link}
      data-off={off ?? ""}
      role="region"
      aria-label={label}
    >
      <div ref={host} className="nslab-xterm absolute left-1 top-1" />
    </div>
  );
}

function bufferText(x: XTerm): string {
  const b = x.buffer.active;
  const lines: string[] = [];
  for (let i = 0; i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? "");
  while (lines.length && !lines[lines.length - 1]) lines.pop();
  return lines.join("\n");
}
