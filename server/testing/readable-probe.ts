import "server-only";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { build } from "esbuild";

/**
 * A probe an unprivileged user can run although the checkout may be unreadable to it (a clone in
 * root's 0700 home): `entry` and everything it imports bundled into <dir>/server/probe.mjs, beside
 * readable copies of koffi, native/build and `dirs` (paths relative to the repository, such as
 * "lessons"), and a `state` directory owned by nobody. The same way rootless.integration.test.ts
 * runs its probe. Remove the directory when done.
 */
export async function readableProbe(root: string, entry: string, dirs: string[] = []): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nslab-probe-"));
  fs.chmodSync(dir, 0o755);
  await build({
    entryPoints: [path.join(root, entry)],
    outfile: path.join(dir, "server", "probe.mjs"),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["koffi"],
    alias: { "server-only": path.join(root, "scripts", "empty.cjs") },
    banner: { js: 'import { createRequire as __nslabRequire } from "node:module"; const require = __nslabRequire(import.meta.url);' },
    logLevel: "error",
  });
  for (const pkg of ["koffi", "@koromix"]) if (fs.existsSync(path.join(root, "node_modules", pkg))) copyReadable(path.join(root, "node_modules", pkg), path.join(dir, "node_modules", pkg));
  for (const d of ["native/build", ...dirs]) copyReadable(path.join(root, d), path.join(dir, d));
  // files the server reads beside its modules (new URL("./etc/...", import.meta.url) in labs/rootfs.ts):
  // bundled, every module's import.meta.url is probe.mjs's
  copyReadable(path.join(root, "server", "labs", "etc"), path.join(dir, "server", "etc"));
  fs.chmodSync(path.join(dir, "server"), 0o755);
  fs.chmodSync(path.join(dir, "server", "probe.mjs"), 0o644);
  fs.mkdirSync(path.join(dir, "state"));
  fs.chownSync(path.join(dir, "state"), 65534, 65534);
  return dir;
}

function copyReadable(src: string, dst: string): void {
  fs.cpSync(src, dst, { recursive: true, dereference: true });
  const fix = (p: string) => {
    const st = fs.statSync(p);
    fs.chmodSync(p, st.mode | (st.isDirectory() || st.mode & 0o100 ? 0o555 : 0o444));
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) fix(path.join(p, e));
  };
  fix(dst);
}
