// After `next build`: a Brotli copy (quality 11) of every JavaScript and CSS file of the build's
// static assets, beside it (x.js.br), which the server sends to browsers that take Brotli
// (server/http/static-assets.ts). Done once per build, so no request pays for the compression.
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import zlib from "node:zlib";

const brotli = promisify(zlib.brotliCompress);
const dir = path.join(process.cwd(), ".next", "static");

function* walk(d) {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile() && /\.(js|css)$/.test(e.name)) yield p;
  }
}

let raw = 0;
let packed = 0;
let n = 0;
for (const file of walk(dir)) {
  const data = fs.readFileSync(file);
  const br = await brotli(data, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length },
  });
  fs.writeFileSync(`${file}.br`, br);
  raw += data.length;
  packed += br.length;
  n++;
}
console.log(`compress-static: ${n} files, ${(raw / 1024).toFixed(0)} KB → ${(packed / 1024).toFixed(0)} KB Brotli`);
