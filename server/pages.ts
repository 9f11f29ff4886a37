import "server-only";
import type http from "node:http";
import type { Duplex } from "node:stream";
import type { Config } from "./config.ts";
import { staticAssets } from "./http/static-assets.ts";

/** The Next.js pages (and, in development, its hot-reload socket). */
export async function startPages(config: Config): Promise<{
  handle: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;
  nextUpgrade: ((req: http.IncomingMessage, socket: Duplex, head: Buffer) => Promise<void>) | null;
}> {
  const { default: next } = await import("next");
  const app = next({ dev: config.dev, dir: config.root, hostname: config.host, port: config.port });
  const next_ = app.getRequestHandler();
  await app.prepare();
  // the build's JavaScript and CSS in Brotli where the browser takes it; the rest is Next's
  const assets = config.dev ? null : staticAssets(config.root);
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (assets?.(req, res)) return;
    await next_(req, res);
  };
  return { handle, nextUpgrade: config.dev ? app.getUpgradeHandler() : null };
}
