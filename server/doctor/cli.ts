import "server-only";
/**
 * `npm run doctor`: checks this host for what nslab needs and prints the exact fix for each
 * problem. Exit 0 when labs can run (warnings allowed), 1 otherwise.
 *
 *   npm run doctor                                  with this shell's NSLAB_* settings
 *   npm run doctor -- --env /etc/nslab/nslab.env    with the service's settings
 */
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { ConfigError, loadConfig, type Config } from "../config.ts";
import { checkAppArmor, checkCgroups, checkMemory, hostAt, type Finding, type Level } from "./checks.ts";

/** What an idle lab (init and a shell at its prompt) costs the host; bench/capacity measures it. */
export const IDLE_LAB_BYTES = 8 * 1024 ** 2;

const args = process.argv.slice(2);
const envFile = args.includes("--env") ? args[args.indexOf("--env") + 1] : undefined;
const env: NodeJS.ProcessEnv = { ...process.env };
if (envFile) {
  let text: string;
  try {
    text = fs.readFileSync(envFile, "utf8");
  } catch (e) {
    console.error(`doctor: cannot read ${envFile}: ${(e as Error).message}`);
    process.exit(2);
  }
  // systemd's EnvironmentFile syntax, the simple part of it: KEY=value, # comments, optional quotes
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m && !line.trim().startsWith("#")) env[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, "$2");
  }
}

const results: Finding[] = [];
const add = (level: Level, what: string, detail?: string, fix?: string) => results.push({ level, what, detail, fix });
const host = hostAt("/");
const read = (p: string) => host.read(p)?.trim() ?? null;

let config: Config | undefined;
try {
  config = loadConfig(env);
  add("ok", "configuration", envFile ? `from ${envFile}` : "from the environment");
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  add("fail", "configuration", e.message, `fix the variable${envFile ? ` in ${envFile}` : ""} (docs/operations.md, Configuration)`);
}
// what the configuration detects (mode, the repository's paths) holds even when a variable is wrong
const facts = config ?? loadConfig({} as NodeJS.ProcessEnv);
const root = facts.mode === "root";

const [maj, min] = (read("/proc/sys/kernel/osrelease") ?? "0.0").split(".").map(Number) as [number, number];
const kv = maj * 1000 + min;
add(kv >= 5008 ? "ok" : "fail", `Linux ${maj}.${min}`, kv >= 5008 ? "" : "nslab needs Linux 5.8 or later (setns with a pidfd, clone3, openat2).", kv >= 5008 ? undefined : "upgrade the kernel (Debian 12: 6.1, Ubuntu 24.04: 6.8)");

const maxUserns = Number(read("/proc/sys/user/max_user_namespaces") ?? "0");
add(maxUserns > 0 ? "ok" : "fail", "user namespaces allowed", `max_user_namespaces=${maxUserns}`, maxUserns > 0 ? undefined : "sysctl -w user.max_user_namespaces=15000   (permanent: a file in /etc/sysctl.d/)");
const unpriv = read("/proc/sys/kernel/unprivileged_userns_clone");
if (unpriv === "0")
  add(root ? "ok" : "fail", "unprivileged user namespaces (kernel.unprivileged_userns_clone=0)", root ? "root mode is unaffected" : "rootless mode cannot work", root ? undefined : "sysctl -w kernel.unprivileged_userns_clone=1");

const helperPath = path.join(facts.nativeDir, "nslab-helper");
results.push(...checkAppArmor(host, { helperPath, repoRoot: facts.root, rootMode: root }));

for (const ns of ["user", "pid", "mnt", "uts", "ipc", "net", "cgroup", "time"]) {
  const present = fs.existsSync(`/proc/self/ns/${ns}`);
  add(present ? "ok" : ns === "time" ? "warn" : "fail", `${ns} namespaces`, present ? "" : ns === "time" ? "labs run without a time namespace (Linux 5.6+ has them)" : "this kernel lacks them");
}

results.push(...checkCgroups(host, { parent: config?.cgroupParent ?? "nslab", rootMode: root, unit: "nslab.service" }));
if (config)
  results.push(
    ...checkMemory(host, { maxLabs: config.maxLabs, memoryBytes: config.limits.memoryBytes, reserveBytes: config.memoryReserveBytes, idleLabBytes: IDLE_LAB_BYTES }),
  );

const native = facts.nativeDir;
for (const f of ["libnslab.so", "nslab-helper", "nslab-init"]) {
  const ok = fs.existsSync(path.join(native, f));
  add(ok ? "ok" : "fail", `native/build/${f}`, "", ok ? undefined : "npm install   (it builds native/ with the C compiler: apt-get install build-essential)");
}
if (fs.existsSync(path.join(native, "libnslab.so"))) {
  const { features, loadNative } = await import("../native/core.ts");
  loadNative(facts);
  const f = features();
  for (const [k, v] of Object.entries(f)) add(v ? "ok" : k === "timens" ? "warn" : "fail", `kernel feature ${k}`, v ? "" : "missing");
}

// The lab image is the host's /usr: what the lessons use must be installed there.
const tools: [string, string][] = [
  ["bash", "bash"], ["ls", "coreutils"], ["unshare", "util-linux"], ["nsenter", "util-linux"], ["lsns", "util-linux"],
  ["mount", "mount"], ["findmnt", "util-linux"], ["ps", "procps"], ["ip", "iproute2"], ["ipcmk", "util-linux"],
  ["ping", "iputils-ping"], ["capsh", "libcap2-bin"], ["gcc", "gcc"], ["nft", "nftables"], ["perl", "perl-base"], ["setpriv", "util-linux"],
  ["python3", "python3"], ["curl", "curl"],
];
for (const [bin, pkg] of tools) {
  const found = ["/usr/bin", "/usr/sbin", "/bin", "/sbin"].some((d) => fs.existsSync(path.join(d, bin)));
  const optional = ["gcc", "ping", "capsh", "nft", "python3", "curl"].includes(bin);
  add(found ? "ok" : optional ? "warn" : "fail", `lab tool ${bin}`, found ? "" : optional ? `lessons that use ${bin} will fail` : "", found ? undefined : `apt-get install ${pkg}`);
}

// Lessons: one with errors is left out of the catalogue (the others are served); say which and why.
{
  const { loadCatalog } = await import("../lessons/library.ts");
  const c = loadCatalog(facts.lessonsDir);
  if (!c.errors.length) add("ok", `lessons: ${c.lessons.size} served`, c.notes.length ? `${c.notes.length} note(s): npm run lessons:check` : "");
  else {
    add("warn", `lessons: ${c.leftOut.length} left out of the catalogue (${c.leftOut.join(", ")}), ${c.lessons.size} served`, "fix these, then restart (npm run lessons:check lists them):");
    for (const e of c.errors.slice(0, 20)) add("warn", `  ${e.file}:${e.line}`, e.message);
    if (c.errors.length > 20) add("warn", `  … and ${c.errors.length - 20} more`);
  }
}

const chromium = spawnSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).stdout.trim();
add(chromium ? "ok" : "warn", "chromium (browser tests only)", chromium, chromium ? undefined : "apt-get install chromium");
add("ok", "mode", root ? "root: each lab gets its own host uid range and cgroup limits" : "rootless: one-id labs, no cgroup limits");

const sym = { ok: "✓", warn: "!", fail: "✗" };
for (const r of results) {
  console.log(`${sym[r.level]} ${r.what}${r.detail ? ` — ${r.detail}` : ""}`);
  if (r.fix) for (const line of r.fix.split("\n")) console.log(`    fix: ${line}`);
}
const fails = results.filter((r) => r.level === "fail").length;
console.log(fails ? `\n${fails} problem(s) to fix before labs can run.` : "\nThis host can run nslab labs.");
process.exit(fails ? 1 : 0);
