/**
 * The terminal's renderer: WebGL where the browser has it, the DOM renderer otherwise or once the
 * WebGL context is lost. No React.
 */
import type { Terminal as XTerm } from "@xterm/xterm";
import type { XtermModules } from "./xterm";

export type RendererKind = "webgl" | "dom";

/** Loads the WebGL renderer if it can; reports which renderer draws. Returns a disposer. */
export function attachRenderer(term: XTerm, webgl: XtermModules["webgl"], report: (r: RendererKind) => void): () => void {
  report("dom");
  if (!webgl) return () => {};
  let addon: InstanceType<typeof webgl.WebglAddon> | null = null;
  try {
    addon = new webgl.WebglAddon();
    addon.onContextLoss(() => {
      addon?.dispose();
      addon = null;
      report("dom");
    });
    term.loadAddon(addon);
    report("webgl");
  } catch {
    addon = null;
    report("dom");
  }
  return () => addon?.dispose();
}
