import "server-only";
/**
 * `npm run doctor`: checks this host for what nslab needs, and says what to fix.
 * Exit 0 when labs can run (warnings allowed), 1 otherwise.
 */
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { REPO_ROOT } from "./config.ts";
import { detectCgroups } from "./labs/cgroup.ts";

type Level = "ok" | "warn" | "fail";
const results: { level: Level; what: string; detail: string }[] = [];
const add = (level: Level, what: string, detail = "") => results.push({ level, what, detail });
const read = (p: string) => {
  try {
    return fs.readFileSync(p, "utf8").trim();
  } catch {
    return null;
  }
};

const [maj, min] = (read("/proc/sys/kernel/osrelease") ?? "0.0").split(".").map(Number) as [number, number];
const kv = maj * 1000 + min;
add(kv >= 5008 ? "ok" : "fail", `Linux ${maj}.${min}`, kv >= 5008 ? "" : "nslab needs Linux 5.8 or later (setns with a pidfd, clone3, openat2).");

const maxUserns = Number(read("/proc/sys/user/max_user_namespaces") ?? "0");
add(maxUserns > 0 ? "ok" : "fail", "user namespaces allowed", maxUserns > 0 ? `max_user_namespaces=${maxUserns}` : "sysctl -w user.max_user_namespaces=15000");
const unpriv = read("/proc/sys/kernel/unprivileged_userns_clone");
if (unpriv === "0") add(process.getuid?.() === 0 ? "ok" : "fail", "unprivileged user namespaces", "kernel.unprivileged_userns_clone=0: rootless mode cannot work (root mode is unaffected)");
const apparmor = read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
if (apparmor === "1") add(process.getuid?.() === 0 ? "ok" : "warn", "AppArmor restricts unprivileged user namespaces", "rootless mode needs an AppArmor profile for node, or sysctl kernel.apparmor_restrict_unprivileged_userns=0");

for (const ns of ["user", "pid", "mnt", "uts", "ipc", "net", "cgroup", "time"]) {
  const present = fs.existsSync(`/proc/self/ns/${ns}`);
  add(present ? "ok" : ns === "time" ? "warn" : "fail", `${ns} namespaces`, present ? "" : ns === "time" ? "labs run without a time namespace (Linux 5.6+ has them)" : "this kernel lacks them");
}

const cg = detectCgroups();
if (cg.version === 1) add("ok", "cgroup v1", `controllers: ${Object.entries(cg.mounts).map(([c, m]) => `${c} at ${m}`).join(", ")}`);
else if (cg.version === 2) add("ok", "cgroup v2", `unified hierarchy at ${cg.mount}`);
else add(process.getuid?.() === 0 ? "fail" : "warn", "cgroups", `${cg.reason}: labs would have no pids/memory/cpu limits`);

const native = path.join(REPO_ROOT, "native", "build");
for (const f of ["libnslab.so", "nslab-helper", "nslab-init"]) {
  const ok = fs.existsSync(path.join(native, f));
  add(ok ? "ok" : "fail", `native/build/${f}`, ok ? "" : "run `npm install` (it builds native/ with the C compiler)");
}
if (fs.existsSync(path.join(native, "libnslab.so"))) {
  const { features } = await import("./native/core.ts");
  const f = features();
  for (const [k, v] of Object.entries(f)) add(v ? "ok" : k === "timens" ? "warn" : "fail", `kernel feature ${k}`, v ? "" : "missing");
}

// The lab image is the host's /usr: what the lessons use must be installed there.
const tools: [string, string][] = [
  ["bash", "bash"], ["ls", "coreutils"], ["unshare", "util-linux"], ["nsenter", "util-linux"], ["lsns", "util-linux"],
  ["mount", "mount"], ["findmnt", "util-linux"], ["ps", "procps"], ["ip", "iproute2"], ["ipcmk", "util-linux"],
  ["ping", "iputils-ping"], ["capsh", "libcap2-bin"], ["gcc", "gcc (optional: lesson 6 compiles C)"],
];
for (const [bin, pkg] of tools) {
  const found = ["/usr/bin", "/usr/sbin", "/bin", "/sbin"].some((d) => fs.existsSync(path.join(d, bin)));
  add(found ? "ok" : bin === "gcc" || bin === "ping" || bin === "capsh" ? "warn" : "fail", `lab tool ${bin}`, found ? "" : `install ${pkg}`);
}
// Lessons: one with errors is left out of the catalogue (the others are served); say which and why.
{
  const { loadCatalog, lessonsDir } = await import("./lessons/catalog.ts");
  const c = loadCatalog(lessonsDir());
  if (!c.errors.length) add("ok", `lessons: ${c.lessons.size} served`, c.notes.length ? `${c.notes.length} note(s): npm run lessons:check` : "");
  else {
    add("warn", `lessons: ${c.leftOut.length} left out of the catalogue (${c.leftOut.join(", ")}), ${c.lessons.size} served`, "fix these, then restart (npm run lessons:check lists them):");
    for (const e of c.errors.slice(0, 20)) add("warn", `  ${e.file}:${e.line}`, e.message);
    if (c.errors.length > 20) add("warn", `  … and ${c.errors.length - 20} more`);
  }
}

const chromium = spawnSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).stdout.trim();
add(chromium ? "ok" : "warn", "chromium (browser tests only)", chromium || "apt-get install chromium");
add("ok", "mode", process.getuid?.() === 0 ? "root: each lab gets its own host uid range and cgroup limits" : "rootless: one-id labs, no cgroup limits");

const sym = { ok: "✓", warn: "!", fail: "✗" };
for (const r of results) console.log(`${sym[r.level]} ${r.what}${r.detail ? ` — ${r.detail}` : ""}`);
const fails = results.filter((r) => r.level === "fail").length;
console.log(fails ? `\n${fails} problem(s) to fix before labs can run.` : "\nThis host can run nslab labs.");
process.exit(fails ? 1 : 0);
