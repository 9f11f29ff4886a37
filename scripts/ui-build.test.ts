/** The pages are rebuilt when, and only when, a file the build reads changed since it was built. */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
// @ts-expect-error: a plain .mjs script without types
import { sourcesHash, staleReason, uiSources } from "./ui-build.mjs";

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "nslab-ui-"));
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), text);
  }
  return root;
}

test("the stamp covers app/, lib/, proxy.ts, the build's configuration and what app/ imports from elsewhere", () => {
  const root = tree({
    "app/page.tsx": 'import { list } from "@/server/lessons/catalog";\nimport "./globals.css";\n',
    "app/globals.css": '@import "tailwindcss";\n',
    "app/e2e/x.browser.test.ts": "test",
    "app/lib/a.test.ts": "test",
    "lib/ids.ts": "export {}",
    "server/lessons/catalog.ts": 'import { parse } from "./parse.ts";\nexport const list = 1;\n',
    "server/lessons/parse.ts": "export const parse = 1;",
    "server/labs/lab.ts": "export {}",
    "next.config.mjs": "export default {}",
    "proxy.ts": 'import { isLang } from "./lib/languages";\n',
    "lib/languages.ts": "export {}",
    "package-lock.json": "{}",
  });
  try {
    assert.deepEqual(uiSources(root), [
      "app/globals.css",
      "app/page.tsx",
      "lib/ids.ts",
      "lib/languages.ts",
      "next.config.mjs",
      "package-lock.json",
      "proxy.ts",
      "server/lessons/catalog.ts",
      "server/lessons/parse.ts",
    ]);

    assert.equal(staleReason(root), "there is no production build yet");
    fs.mkdirSync(path.join(root, ".next"));
    fs.writeFileSync(path.join(root, ".next/BUILD_ID"), "x");
    assert.equal(staleReason(root), "the build has no stamp of its sources");
    const stamp = () => fs.writeFileSync(path.join(root, ".next/nslab-sources"), `${sourcesHash(root)}\n`);
    stamp();
    assert.equal(staleReason(root), null, "just built");

    // not read by the build: no rebuild
    fs.writeFileSync(path.join(root, "server/labs/lab.ts"), "export const changed = 1;");
    fs.writeFileSync(path.join(root, "app/lib/a.test.ts"), "changed");
    fs.writeFileSync(path.join(root, "app/e2e/x.browser.test.ts"), "changed");
    assert.equal(staleReason(root), null, "server code the pages do not import, and tests, do not count");

    // each file the build reads makes it stale
    for (const f of ["app/page.tsx", "app/globals.css", "lib/ids.ts", "server/lessons/parse.ts", "next.config.mjs", "proxy.ts", "package-lock.json"]) {
      const before = fs.readFileSync(path.join(root, f), "utf8");
      fs.writeFileSync(path.join(root, f), before + "\n// edited\n");
      assert.equal(staleReason(root), "its sources changed since it was built", f);
      fs.writeFileSync(path.join(root, f), before);
      assert.equal(staleReason(root), null, `${f} restored`);
    }
    fs.writeFileSync(path.join(root, "app/new.tsx"), "export {}");
    assert.equal(staleReason(root), "its sources changed since it was built", "a new file");
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
