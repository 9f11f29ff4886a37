import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import zlib from "node:zlib";
import { acceptsBrotli, staticAssets } from "./static-assets.ts";

let root: string;
let server: http.Server;
let base: string;
const JS = "console.log('a chunk');\n".repeat(50);

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "nslab-static-"));
  const chunks = path.join(root, ".next", "static", "chunks");
  fs.mkdirSync(chunks, { recursive: true });
  fs.writeFileSync(path.join(chunks, "a.js"), JS);
  fs.writeFileSync(path.join(chunks, "a.js.br"), zlib.brotliCompressSync(JS));
  fs.writeFileSync(path.join(chunks, "plain.js"), JS); // no .br: left to Next
  fs.writeFileSync(path.join(root, ".next", "secret.js.br"), zlib.brotliCompressSync("secret"));
  const assets = staticAssets(root);
  server = http.createServer((req, res) => {
    if (!assets(req, res)) res.writeHead(404, { "x-next": "1" }).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

/** A raw GET (no decompression by the client): status and headers. */
function get(p: string, enc: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(`${base}${p}`, { headers: { "accept-encoding": enc } }, (res) => {
        const parts: Buffer[] = [];
        res.on("data", (d: Buffer) => parts.push(d));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
      })
      .on("error", reject);
  });
}

test("a build asset with a Brotli copy is sent in Brotli, immutable, to a browser that takes it", async () => {
  const r = await get("/_next/static/chunks/a.js", "gzip, deflate, br, zstd");
  assert.equal(r.status, 200);
  assert.equal(r.headers["content-encoding"], "br");
  assert.match(r.headers["content-type"]!, /^application\/javascript/);
  assert.match(r.headers["cache-control"]!, /immutable/);
  assert.equal(r.headers.vary, "Accept-Encoding");
  assert.equal(zlib.brotliDecompressSync(r.body).toString(), JS);
});

test("everything else goes to Next: no br, br;q=0, no Brotli copy, outside the static tree, odd names", async () => {
  for (const [p, enc] of [
    ["/_next/static/chunks/a.js", "gzip, deflate"],
    ["/_next/static/chunks/a.js", "gzip, br;q=0"],
    ["/_next/static/chunks/plain.js", "br"],
    ["/_next/static/../secret.js", "br"],
    ["/_next/static/%2e%2e/secret.js", "br"],
    ["/_next/static/chunks/..%2f..%2fsecret.js", "br"],
    ["/_next/static/chunks/a.js.br", "br"],
    ["/lessons/x", "br"],
  ] as const) {
    const r = await get(p, enc);
    assert.equal(r.headers["x-next"], "1", `${p} (${enc}) is left to Next`);
  }
});

test("accept-encoding: br with or without a weight, not with q=0", () => {
  assert.ok(acceptsBrotli("gzip, deflate, br, zstd"));
  assert.ok(acceptsBrotli("br;q=0.5"));
  assert.ok(acceptsBrotli(["gzip", "BR"]));
  assert.ok(!acceptsBrotli("gzip, br;q=0"));
  assert.ok(!acceptsBrotli("gzip, brotli"));
  assert.ok(!acceptsBrotli(undefined));
});
