import "server-only";
/**
 * The pages' static assets (/_next/static/…: JavaScript and CSS) in Brotli, for browsers that take
 * it (all current ones; Chromium asks for it on plain http to localhost too). Next serves them
 * with gzip only; Brotli at its highest level makes a lesson page's JavaScript ~15% smaller
 * (issue 14: ≤ 250 KB for a lesson page, bench/page). The .br files are written once per build
 * (scripts/compress-static.mjs, part of `npm run build`); an asset without one, a browser that
 * does not take Brotli, and anything else go to Next as before.
 */
import fs from "node:fs";
import path from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";

const PREFIX = "/_next/static/";
const TYPES: Record<string, string> = { ".js": "application/javascript; charset=utf-8", ".css": "text/css; charset=utf-8" };
// build assets are named by their content: they never change under the same name
const IMMUTABLE = "public, max-age=31536000, immutable";

/** True when the client lists br with a non-zero q (RFC 9110 §12.5.3). */
export function acceptsBrotli(header: string | string[] | undefined): boolean {
  const v = Array.isArray(header) ? header.join(",") : (header ?? "");
  return v.split(",").some((part) => {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    if (name?.trim() !== "br") return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return !q || Number(q.slice(2)) > 0;
  });
}

/**
 * A handler for the build in `root`/.next: answers (true) when it served a precompressed asset.
 * What exists is looked up once per name (the build does not change under a running server).
 */
export function staticAssets(root: string): (req: IncomingMessage, res: ServerResponse) => boolean {
  const dir = path.join(root, ".next", "static");
  const found = new Map<string, { file: string; size: number } | null>();
  const lookup = (rel: string) => {
    let hit = found.get(rel);
    if (hit === undefined) {
      const file = path.join(dir, rel) + ".br";
      try {
        const st = fs.statSync(file);
        hit = st.isFile() ? { file, size: st.size } : null;
      } catch {
        hit = null;
      }
      if (found.size < 10_000) found.set(rel, hit);
    }
    return hit;
  };
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const url = req.url ?? "";
    if (!url.startsWith(PREFIX) || !acceptsBrotli(req.headers["accept-encoding"])) return false;
    let rel: string;
    try {
      rel = decodeURIComponent(url.slice(PREFIX.length).split("?")[0]!);
    } catch {
      return false;
    }
    const type = TYPES[path.extname(rel)];
    // only build assets below .next/static: no parent directories, no hidden or odd names
    if (!type || rel.split("/").some((seg) => seg === "" || seg.startsWith(".")) || rel.includes("\\") || rel.includes("\0")) return false;
    const hit = lookup(rel);
    if (!hit) return false;
    res.writeHead(200, {
      "content-type": type,
      "content-encoding": "br",
      "content-length": hit.size,
      vary: "Accept-Encoding",
      "cache-control": IMMUTABLE,
    });
    if (req.method === "HEAD") {
      res.end();
      return true;
    }
    const stream = fs.createReadStream(hit.file);
    stream.on("error", () => res.destroy());
    stream.pipe(res);
    return true;
  };
}
