/**
 * The terminal's renderer: WebGL where the browser has it and it really draws; the DOM renderer
 * otherwise. No React.
 *
 * "Really draws" matters: some GL stacks accept every WebGL call and draw nothing (Chromium's
 * software GL did so at device pixel ratio 2 and 3, with the prompt in the buffer). So the first
 * time the screen holds text, the frame WebGL just drew is read back: if it is one flat colour,
 * the WebGL renderer is dropped for the DOM renderer. A lost context falls back the same way.
 */
import type { Terminal as XTerm } from "@xterm/xterm";
import type { XtermExtras } from "./xterm";

export type RendererKind = "webgl" | "dom";

/** Reports the renderer in use; `settled` once it will not change by itself (short of a lost context). */
export type RendererReport = (r: RendererKind, settled: boolean) => void;

/** Visible characters needed before a blank frame means "draws nothing" (a prompt has more). */
const MIN_TEXT = 4;
/** Pixels that must differ from the background in a frame with text. */
const MIN_INK = 8;

/** Loads the WebGL renderer if it can and keeps it only if it draws. Returns a disposer. */
export function attachRenderer(term: XTerm, webgl: XtermExtras["webgl"], report: RendererReport): () => void {
  if (!webgl || typeof WebGL2RenderingContext === "undefined") {
    report("dom", true);
    return () => {};
  }
  let addon: InstanceType<typeof webgl.WebglAddon> | null = null;
  let watch: { dispose(): void } | null = null;
  const fallBack = () => {
    watch?.dispose();
    watch = null;
    addon?.dispose();
    addon = null;
    report("dom", true);
  };
  let gl: WebGL2RenderingContext | null = null;
  try {
    addon = new webgl.WebglAddon();
    addon.onContextLoss(fallBack);
    gl = captureWebgl2(() => term.loadAddon(addon!));
  } catch {
    fallBack();
    return () => {};
  }
  if (!gl) {
    report("webgl", true);
    return () => addon?.dispose();
  }
  report("webgl", false);
  const ctx = gl;
  // the frame is read right after xterm drew it (onRender fires in the same task), before the browser presents it
  watch = term.onRender(() => {
    if (visibleChars(term) < MIN_TEXT) return;
    watch?.dispose();
    watch = null;
    if (inkPixels(ctx) < MIN_INK) fallBack();
    else report("webgl", true);
  });
  return () => {
    watch?.dispose();
    addon?.dispose();
  };
}

/** Runs `fn` and returns the first WebGL2 context it created (the addon's), without keeping any hook. */
function captureWebgl2(fn: () => void): WebGL2RenderingContext | null {
  const proto = HTMLCanvasElement.prototype;
  const orig = proto.getContext;
  let found: WebGL2RenderingContext | null = null;
  proto.getContext = function (this: HTMLCanvasElement, type: string, ...rest: unknown[]) {
    const c = (orig as (t: string, ...r: unknown[]) => RenderingContext | null).call(this, type, ...rest);
    if (type === "webgl2" && c && !found) found = c as WebGL2RenderingContext;
    return c;
  } as typeof orig;
  try {
    fn();
  } finally {
    proto.getContext = orig;
  }
  return found;
}

/** Non-space characters in the terminal's viewport. */
function visibleChars(term: XTerm): number {
  const b = term.buffer.active;
  let n = 0;
  for (let y = b.viewportY; y < b.viewportY + term.rows && y < b.length; y++) n += (b.getLine(y)?.translateToString(true) ?? "").replace(/\s/g, "").length;
  return n;
}

/** Pixels of the drawing buffer that differ from its most common colour (the background). */
function inkPixels(gl: WebGL2RenderingContext): number {
  const w = gl.drawingBufferWidth;
  const h = gl.drawingBufferHeight;
  if (!w || !h) return 0;
  const px = new Uint8Array(w * h * 4);
  gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, px);
  const counts = new Map<number, number>();
  for (let i = 0; i < px.length; i += 16) {
    const c = (px[i]! << 24) | (px[i + 1]! << 16) | (px[i + 2]! << 8) | px[i + 3]!;
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let bg = 0;
  let most = -1;
  for (const [c, n] of counts) if (n > most) [bg, most] = [c, n];
  const [r, g, b, a] = [(bg >>> 24) & 255, (bg >>> 16) & 255, (bg >>> 8) & 255, bg & 255];
  let ink = 0;
  for (let i = 0; i < px.length; i += 4) if (Math.abs(px[i]! - r) + Math.abs(px[i + 1]! - g) + Math.abs(px[i + 2]! - b) + Math.abs(px[i + 3]! - a) > 48) ink++;
  return ink;
}
