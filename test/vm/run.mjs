#!/usr/bin/env node
// `npm run test:vm`: the cgroup v2 suite, in a real Debian 12 VM (kernel 6.1, systemd, cgroup v2
// mounted with nsdelegate), as most workshop hosts are. This machine is cgroup v1 with kernel 6.18,
// so this is where nslab's v2 path and its second kernel are tested.
//
//  1. The image: debootstrap of Debian 12 (test/vm/image.sh), made once and cached outside the
//     checkout in $NSLAB_VM_CACHE (default /var/cache/nslab-vm), keyed by a hash of image.sh (which
//     holds the package set and the guest's unit).
//  2. The project: this checkout as built here (native/build, node_modules) and this host's Node
//     binary, on a second disk made with mkfs.ext4 -d. Nothing is built in the guest.
//  3. qemu-system-x86_64 with TCG (/dev/kvm exists on the CI machine but hangs a guest): systemd
//     boots and starts nslab-vm-suite.service (root, Delegate=yes), which runs test/vm/guest.sh:
//     node's test runner over the files in test/vm/suite.json.
//  4. The guest writes its results as a tar archive onto a third, raw disk and powers off; they are
//     read back here. The run fails on any failed test, a missing result or a timeout.
//
// The guest's console is streamed here as it happens (prefixed "vm|").
import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const cacheRoot = process.env.NSLAB_VM_CACHE || "/var/cache/nslab-vm";
// The whole run's bound, from boot to power-off. On an idle CI machine the suite needs about
// 10 minutes; on this 2-core machine shared by several test runs (load 30-45) it took over 40.
// 40 minutes keeps CI (npm test 7-15 min, a cold image 3-8 min, this) well inside its 90.
const timeoutMin = Number(process.env.NSLAB_VM_TIMEOUT_MIN || 40);
// --keep: keep the work directory (disks, console log, results). --files a.test.ts,b.test.ts: run
// these test files instead of the suite. --lessons a,b (or all): verify these lessons instead of
// the suite's (test/vm/guest.sh). --script file.sh: run a shell script instead (for investigating
// in the VM; its output is on the console).
const argv = process.argv.slice(2);
const keep = argv.includes("--keep");
const opt = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const onlyFiles = opt("--files");
const script = opt("--script");
const onlyLessons = opt("--lessons");
const t0 = Date.now();
const since = () => `${((Date.now() - t0) / 1000).toFixed(0)}s`;
const log = (msg) => console.log(`test:vm [${since()}] ${msg}`);
const die = (msg) => {
  console.error(`test:vm: ${msg}`);
  process.exit(1);
};

if (process.getuid?.() !== 0) die("run as root (debootstrap, and the image's files are root's)");
for (const [cmd, pkg] of [["qemu-system-x86_64", "qemu-system-x86"], ["debootstrap", "debootstrap"], ["mkfs.ext4", "e2fsprogs"]]) {
  if (spawnSync("sh", ["-c", `command -v ${cmd}`]).status !== 0) die(`${cmd} is missing: apt-get install -y ${pkg}`);
}
for (const f of ["native/build/libnslab.so", "native/build/nslab-helper", "native/build/nslab-init", "node_modules/tsx"]) {
  if (!fs.existsSync(path.join(root, f))) die(`${f} is missing: run npm install first (the guest runs this checkout as built here)`);
}

// ---------- 1. the image ----------
const imageScript = fs.readFileSync(path.join(here, "image.sh"));
const key = crypto.createHash("sha256").update(imageScript).digest("hex").slice(0, 16);
const imageDir = path.join(cacheRoot, `debian12-${key}`);
fs.mkdirSync(cacheRoot, { recursive: true });
if (!fs.existsSync(path.join(imageDir, "root.img"))) {
  const mirror = process.env.NSLAB_VM_MIRROR || hostMirror() || "http://deb.debian.org/debian";
  log(`building the image ${path.basename(imageDir)} (debootstrap, about 2-3 minutes)`);
  // built beside its final place and renamed, so a run that dies half-way leaves no broken cache
  const tmp = fs.mkdtempSync(path.join(cacheRoot, ".build-"));
  const r = spawnSync("bash", [path.join(here, "image.sh"), tmp, mirror], { stdio: "inherit" });
  if (r.status !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    die("building the image failed");
  }
  try {
    fs.renameSync(tmp, imageDir);
  } catch (e) {
    // another run finished the same image first
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(path.join(imageDir, "root.img"))) throw e;
  }
  log("image built");
} else log(`image ${imageDir} (cached)`);

// ---------- 2. the project disk, and a disk for the results ----------
const work = fs.mkdtempSync(path.join(os.tmpdir(), "nslab-vm-"));
const stage = path.join(work, "project");
fs.mkdirSync(stage);
const skip = new Set([".git", ".next", "test-results"]);
for (const name of fs.readdirSync(root)) {
  if (skip.has(name)) continue;
  // hard links where the checkout and the temp dir share a filesystem (fast), else copies
  const src = path.join(root, name);
  if (spawnSync("cp", ["-al", src, stage]).status !== 0 && spawnSync("cp", ["-a", src, stage]).status !== 0) die(`copying ${src} failed`);
}
fs.mkdirSync(path.join(stage, ".vm"));
fs.copyFileSync(process.execPath, path.join(stage, ".vm", "node"));
if (onlyFiles) fs.writeFileSync(path.join(stage, ".vm", "files"), onlyFiles.split(",").join("\n") + "\n");
if (onlyLessons) fs.writeFileSync(path.join(stage, ".vm", "lessons"), onlyLessons + "\n");
if (script) fs.copyFileSync(script, path.join(stage, ".vm", "script.sh"));
fs.chmodSync(path.join(stage, ".vm", "node"), 0o755);
const projectImg = path.join(work, "project.img");
fs.writeFileSync(projectImg, "");
const sizeMb = Number(spawnSync("du", ["-sm", "--apparent-size", stage], { encoding: "utf8" }).stdout.split("\t")[0]) * 1.3 + 512;
const mk = spawnSync("mkfs.ext4", ["-q", "-F", "-L", "nslab-project", "-d", stage, projectImg, `${Math.ceil(sizeMb)}M`], { stdio: "inherit" });
if (mk.status !== 0) die("mkfs.ext4 of the project disk failed");
fs.rmSync(stage, { recursive: true, force: true });
const resultsImg = path.join(work, "results.img");
fs.writeFileSync(resultsImg, "");
fs.truncateSync(resultsImg, 64 << 20);
log(`project disk ready (${Math.ceil(sizeMb)} MB)`);

// ---------- 3. boot ----------
const consoleLog = path.join(work, "console.log");
const consoleOut = fs.createWriteStream(consoleLog);
const qemuArgs = [
  // -nodefaults: no floppy, CD-ROM or VGA to probe (seconds each under emulation). The default
  // CPU model: "-cpu max" hangs this kernel under TCG before it prints anything.
  "-nodefaults", "-machine", "q35", "-accel", "tcg,thread=multi", "-smp", "2", "-m", "2048",
  "-kernel", path.join(imageDir, "vmlinuz"), "-initrd", path.join(imageDir, "initrd.img"),
  "-append", "root=/dev/vda rw console=ttyS0 quiet loglevel=4 systemd.show_status=0 panic=-1",
  "-drive", `file=${path.join(imageDir, "root.img")},if=virtio,format=raw,snapshot=on`,
  "-drive", `file=${projectImg},if=virtio,format=raw`,
  "-drive", `file=${resultsImg},if=virtio,format=raw`,
  "-nic", "none", "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
];
log("booting (qemu TCG, 2 vCPUs, 2 GiB)");
const qemu = spawn("qemu-system-x86_64", qemuArgs, { stdio: ["ignore", "pipe", "pipe"] });
let partial = "";
const onData = (chunk) => {
  consoleOut.write(chunk);
  const lines = (partial + chunk.toString("utf8").replace(/\r/g, "")).split("\n");
  partial = lines.pop();
  for (const l of lines) console.log(`vm| ${l}`);
};
qemu.stdout.on("data", onData);
qemu.stderr.on("data", onData);
// qemu's CPU time (utime + stime from /proc/PID/stat, in clock ticks of 1/100 s): with the wall
// time it says how much the run was slowed by other work on the host
let cpuTicks = 0;
const bootAt = Date.now();
const poll = setInterval(() => {
  try {
    const st = fs.readFileSync(`/proc/${qemu.pid}/stat`, "utf8");
    const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
    cpuTicks = Number(f[11]) + Number(f[12]);
  } catch {}
}, 2000);
let timedOut = false;
const killer = setTimeout(() => {
  timedOut = true;
  log(`no power-off after ${timeoutMin} minutes: stopping qemu`);
  qemu.kill("SIGKILL");
}, timeoutMin * 60_000);
const stop = () => qemu.kill("SIGKILL");
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
const exit = await new Promise((resolve) => qemu.on("exit", (code, signal) => resolve({ code, signal })));
clearTimeout(killer);
clearInterval(poll);
const vmSecs = (Date.now() - bootAt) / 1000;
if (partial) console.log(`vm| ${partial}`);
consoleOut.end();
log(`the VM powered off (qemu exit ${exit.code ?? exit.signal}) after ${vmSecs.toFixed(0)} s; qemu used ${(cpuTicks / 100).toFixed(0)} s of CPU (${((cpuTicks / 100 / vmSecs) * 100).toFixed(0)}% of one core; 2 vCPUs could use 200%)`);

// ---------- 4. the results ----------
const results = path.join(work, "results");
fs.mkdirSync(results);
spawnSync("tar", ["-xf", resultsImg, "-C", results]);
const read = (f) => {
  try {
    return fs.readFileSync(path.join(results, f), "utf8");
  } catch {
    return null;
  }
};
const rc = read("rc");
const summary = read("summary.txt");
if (summary) console.log(`\n${summary.trimEnd()}\n`);
let failed = null;
if (timedOut) failed = `timed out after ${timeoutMin} minutes`;
else if (rc === null) failed = "the guest wrote no result (see the console above)";
else if (rc.trim() !== "0") failed = `the suite failed in the VM (exit ${rc.trim()})`;
// a test process that crashed (even one that passed when run again): gdb's backtraces of its
// core (guest.sh), the crashing thread first
for (const f of fs.readdirSync(results).filter((f) => f.endsWith(".gdb.txt"))) {
  const text = read(f) ?? "";
  console.log(`\n--- ${f} (gdb in the guest) ---\n${text.split("\n").filter((l) => !/^0x[0-9a-f]+ +0x[0-9a-f]+ +(Yes|No)/.test(l)).slice(0, 400).join("\n")}`);
}
if (failed) {
  // what failed, as the guest saw it (CI keeps no files): each failing file's part of the TAP (the
  // comments the test process printed, then its diagnostics) and the end of the guest's journal
  for (const part of failingTap(read("tap.txt") ?? "")) console.log(`\n--- TAP of a failure (the last ${part.length} lines of its part) ---\n${part.join("\n")}`);
  const journal = (read("journal.txt") ?? "").trimEnd().split("\n");
  console.log(`\n--- the guest's journal, last ${Math.min(60, journal.length)} lines ---\n${journal.slice(-60).join("\n")}\n`);
}
const outDir = process.env.NSLAB_VM_RESULTS;
if (outDir) {
  fs.mkdirSync(outDir, { recursive: true });
  fs.cpSync(results, outDir, { recursive: true });
  fs.copyFileSync(consoleLog, path.join(outDir, "console.log"));
}
if (keep) log(`kept ${work}`);
else fs.rmSync(work, { recursive: true, force: true });
if (failed) die(`${failed} [${since()} in all]`);
log(`passed in ${since()}`);

/**
 * For each top-level `not ok` of a TAP stream (a test file, run one at a time): the lines since
 * the top-level result before it (what that file printed, its subtests) through its diagnostics,
 * at most the last 200.
 */
function failingTap(tap) {
  const lines = tap.split("\n");
  const parts = [];
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const top = /^(not )?ok \d+/.exec(lines[i]);
    if (!top) continue;
    let end = i + 1;
    if (lines[end]?.startsWith("  ---")) while (end < lines.length && !lines[end - 1].startsWith("  ...")) end++;
    if (top[1]) parts.push(lines.slice(start, end).slice(-200));
    start = end;
  }
  return parts;
}

/** The Debian mirror this host's apt uses, so the image comes from the same place. */
function hostMirror() {
  try {
    const s = fs.readFileSync("/etc/apt/sources.list.d/debian.sources", "utf8");
    for (const block of s.split(/\n\s*\n/)) {
      if (!/^Suites:.*\bbookworm\b/m.test(block)) continue;
      const m = /^URIs:\s*(\S+)/m.exec(block);
      if (m && !m[1].includes("security")) return m[1];
    }
  } catch {}
  try {
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(fs.readFileSync("/etc/apt/sources.list", "utf8"));
    if (m) return m[1];
  } catch {}
  return null;
}
