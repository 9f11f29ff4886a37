import "server-only";
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";

/**
 * The doctor's host checks, as functions of what they read (a Host), so that each can be run on a
 * fake /proc and /sys tree of another distribution in the tests. Each finding says what was
 * found and, when something is wrong, the exact command (or setting) that fixes it.
 */

export type Level = "ok" | "warn" | "fail";

export interface Finding {
  level: Level;
  what: string;
  detail?: string;
  /** the exact fix: commands or settings, one per line */
  fix?: string;
}

/** What the checks read: files by their host path, and (optionally) commands such as systemctl. */
export interface Host {
  read(p: string): string | null;
  list(p: string): string[];
  /** runs a command; null when it is not installed or could not run */
  run(cmd: string, args: string[]): { status: number | null; stdout: string } | null;
}

/** The real host, or a tree that mirrors one (`root` + "/proc/...", "/sys/..."). */
export function hostAt(root = "/", run: Host["run"] = runCommand): Host {
  const at = (p: string) => (root === "/" ? p : path.join(root, p));
  return {
    read(p) {
      try {
        return fs.readFileSync(at(p), "utf8");
      } catch {
        return null;
      }
    },
    list(p) {
      try {
        return fs.readdirSync(at(p));
      } catch {
        return [];
      }
    },
    run,
  };
}

function runCommand(cmd: string, args: string[]): { status: number | null; stdout: string } | null {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 10_000 });
  if (r.error) return null;
  return { status: r.status, stdout: r.stdout };
}

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
export function size(bytes: number): string {
  return bytes >= GiB ? `${(bytes / GiB).toFixed(1)} GiB` : `${Math.round(bytes / MiB)} MiB`;
}

/* ------------------------------------------------------------------ AppArmor (Ubuntu 23.10+) */

export interface AppArmorOptions {
  /** absolute path of native/build/nslab-helper */
  helperPath: string;
  /** the repository root, for the fix (the profile's @{nslab_root}) */
  repoRoot: string;
  rootMode: boolean;
}

/**
 * Ubuntu 23.10+ sets kernel.apparmor_restrict_unprivileged_userns=1: a program without an
 * AppArmor profile that allows `userns` may create a user namespace only without any capability
 * inside it. nslab's helper creates every lab's namespaces, and learners create nested ones in
 * their labs (lesson 9); deploy/apparmor/nslab is the profile that allows both.
 */
export function checkAppArmor(h: Host, o: AppArmorOptions): Finding[] {
  const restrict = h.read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")?.trim();
  if (restrict === undefined || restrict === "0")
    return [{ level: "ok", what: "AppArmor does not restrict user namespaces", detail: restrict === "0" ? "kernel.apparmor_restrict_unprivileged_userns=0" : "no such restriction on this kernel" }];
  const loaded = loadedProfile(h, "nslab-helper");
  if (loaded && loaded.attach === o.helperPath)
    return [{ level: "ok", what: "AppArmor restricts user namespaces; the nslab-helper profile allows them", detail: `attached to ${loaded.attach}` }];
  const profile = path.join(o.repoRoot, "deploy", "apparmor", "nslab");
  const install =
    o.repoRoot === "/opt/nslab"
      ? `install -m 644 ${profile} /etc/apparmor.d/nslab`
      : `sed 's|^@{nslab_root} = .*|@{nslab_root} = ${o.repoRoot}|' ${profile} > /etc/apparmor.d/nslab`;
  const fix = [install, "apparmor_parser -r /etc/apparmor.d/nslab"].join("\n");
  const why = o.rootMode
    ? "labs are made, but learners cannot create user namespaces of their own in them (unshare -U, lesson 9)"
    : "rootless labs cannot be made at all (the helper gets no capability in the lab's user namespace)";
  if (loaded)
    return [{ level: o.rootMode ? "warn" : "fail", what: "the nslab-helper AppArmor profile is loaded for another path", detail: `it attaches to ${loaded.attach ?? "(unknown)"}, the helper is ${o.helperPath}: ${why}`, fix }];
  return [{ level: o.rootMode ? "warn" : "fail", what: "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)", detail: `no nslab-helper profile is loaded: ${why}`, fix }];
}

/** A loaded profile and its attachment, from apparmorfs (policy/profiles/<name>.<n>/attach). */
function loadedProfile(h: Host, name: string): { attach: string | null } | null {
  const base = "/sys/kernel/security/apparmor";
  const listed = (h.read(`${base}/profiles`) ?? "").split("\n").some((l) => l.startsWith(`${name} (`));
  const dir = h.list(`${base}/policy/profiles`).find((d) => d.startsWith(`${name}.`));
  if (!listed && !dir) return null;
  const attach = dir ? (h.read(`${base}/policy/profiles/${dir}/attach`)?.trim() ?? null) : null;
  return { attach };
}

/* ------------------------------------------------------------------ cgroups */

export interface CgroupOptions {
  /** NSLAB_CGROUP_PARENT */
  parent: string;
  rootMode: boolean;
  /** the systemd unit nslab runs as, for the delegation check */
  unit: string;
}

interface Mount {
  point: string;
  fstype: string;
  superOpts: string[];
}

function cgroupMountsOf(mountinfo: string): Mount[] {
  const out: Mount[] = [];
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const [fstype, , superOpts] = line.slice(sep + 3).split(" ");
    const point = line.slice(0, sep).split(" ")[4]?.replace(/\\040/g, " ");
    if (point && (fstype === "cgroup" || fstype === "cgroup2")) out.push({ point, fstype: fstype!, superOpts: (superOpts ?? "").split(",") });
  }
  return out;
}

/**
 * cgroup v2 (the unified hierarchy): the controllers labs are limited by must be available, the
 * hierarchy should be mounted with nsdelegate (a lab's cgroup namespace is then a delegation
 * boundary: its root may organise cgroups below its own and nothing above), and under systemd the
 * service must have Delegate=yes (systemd then leaves the cgroups nslab makes alone). v1 needs the
 * pids and memory hierarchies.
 */
export function checkCgroups(h: Host, o: CgroupOptions): Finding[] {
  const mounts = cgroupMountsOf(h.read("/proc/self/mountinfo") ?? "");
  const v2 = mounts.find((m) => m.fstype === "cgroup2");
  const v2ctl = v2 ? (h.read(path.join(v2.point, "cgroup.controllers")) ?? "").trim().split(/\s+/).filter(Boolean) : [];
  const v1 = (c: string) => mounts.find((m) => m.fstype === "cgroup" && m.superOpts.includes(c));
  const out: Finding[] = [];
  const usesV2 = v2 && v2ctl.includes("pids") && v2ctl.includes("memory");
  if (!usesV2 && v1("pids") && v1("memory")) {
    out.push({ level: "ok", what: "cgroup v1", detail: `pids at ${v1("pids")!.point}, memory at ${v1("memory")!.point}${v1("cpu") ? `, cpu at ${v1("cpu")!.point}` : ""}` });
    if (!v1("cpu")) out.push({ level: "warn", what: "no cpu controller", detail: "labs run without a CPU limit", fix: "mount the cpu,cpuacct hierarchy (most distributions do at boot)" });
    return out;
  }
  if (!v2) {
    out.push({
      level: o.rootMode ? "fail" : "warn",
      what: "no cgroup hierarchy with pids and memory",
      detail: "labs would have no pids, memory or cpu limits",
      fix: "mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup   (systemd does this at boot)",
    });
    return out;
  }
  const missing = ["pids", "memory"].filter((c) => !v2ctl.includes(c));
  if (missing.length) {
    out.push({
      level: o.rootMode ? "fail" : "warn",
      what: `cgroup v2 without the ${missing.join(" and ")} controller${missing.length > 1 ? "s" : ""}`,
      detail: `${v2.point}/cgroup.controllers: "${v2ctl.join(" ")}"; labs would have no such limit`,
      fix: [
        "add cgroup_enable=memory to the kernel command line (e.g. GRUB_CMDLINE_LINUX in /etc/default/grub),",
        "update-grub && reboot   (on a v1/hybrid host, also systemd.unified_cgroup_hierarchy=1)",
      ].join("\n"),
    });
    return out;
  }
  out.push({ level: "ok", what: "cgroup v2", detail: `unified hierarchy at ${v2.point}; controllers: ${v2ctl.join(" ")}` });
  if (!v2ctl.includes("cpu")) out.push({ level: "warn", what: "cgroup v2 without the cpu controller", detail: "labs run without a CPU limit", fix: "systemd enables it for delegated services; check /sys/fs/cgroup/cgroup.subtree_control" });
  if (!v2.superOpts.includes("nsdelegate"))
    out.push({
      level: "warn",
      what: "cgroup v2 is mounted without nsdelegate",
      detail: "a lab's cgroup namespace is then no delegation boundary: lesson 10's cgroup steps behave differently from a systemd host",
      fix: `mount -o remount,nsdelegate ${v2.point}\n(permanent: systemd mounts it so since v240; or nsdelegate in /etc/fstab's cgroup2 line)`,
    });
  else out.push({ level: "ok", what: "cgroup v2 mounted with nsdelegate" });

  // delegation: a systemd service must have Delegate=yes for the cgroups it makes to stay its own
  const self = (h.read("/proc/self/cgroup") ?? "").split("\n").find((l) => l.startsWith("0::"))?.slice(3) ?? "";
  const inService = /\/([^/]+\.service)$/.exec(self)?.[1];
  const unit = inService ?? o.unit;
  const show = h.run("systemctl", ["show", "--property=LoadState,Delegate", unit]);
  if (show && show.status === 0) {
    const props = Object.fromEntries(show.stdout.split("\n").filter(Boolean).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    if (props.LoadState === "loaded") {
      if (props.Delegate === "yes") out.push({ level: "ok", what: `${unit} has Delegate=yes` });
      else
        out.push({
          level: o.rootMode ? "fail" : "warn",
          what: `${unit} does not have Delegate=yes`,
          detail: "systemd may reset the controllers of the cgroups nslab makes for its labs",
          fix: `add Delegate=yes to [Service] (deploy/nslab.service has it), then:\nsystemctl daemon-reload && systemctl restart ${unit}`,
        });
    } else if (!inService) out.push({ level: "ok", what: `cgroup delegation: ${unit} is not installed`, detail: "deploy/nslab.service has Delegate=yes" });
  }
  return out;
}

/* ------------------------------------------------------------------ memory */

export interface MemoryOptions {
  maxLabs: number;
  /** NSLAB_MEMORY_MAX: each lab's limit */
  memoryBytes: number;
  /** NSLAB_MEMORY_RESERVE: no new lab below this much MemAvailable */
  reserveBytes: number;
  /** what an idle lab costs the host (bench/capacity measures it) */
  idleLabBytes: number;
}

/** Is there memory for the configured limits? Reads MemAvailable (what the kernel could give without swapping). */
export function checkMemory(h: Host, o: MemoryOptions): Finding[] {
  const info = h.read("/proc/meminfo") ?? "";
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(info)?.[1] ?? NaN) * 1024;
  const avail = kb("MemAvailable");
  if (!Number.isFinite(avail)) return [{ level: "warn", what: "memory", detail: "/proc/meminfo has no MemAvailable (Linux 3.14+)" }];
  const room = avail - o.reserveBytes;
  const fits = Math.max(0, Math.floor(room / o.idleLabBytes));
  const worst = o.maxLabs * o.memoryBytes;
  const head = `MemAvailable ${size(avail)}, reserve ${size(o.reserveBytes)} (NSLAB_MEMORY_RESERVE)`;
  if (room < o.memoryBytes)
    return [
      {
        level: "fail",
        what: "not enough memory for one lab at its limit",
        detail: `${head}: ${size(Math.max(0, room))} above the reserve, a lab may use ${size(o.memoryBytes)} (NSLAB_MEMORY_MAX); new labs would wait in the queue`,
        fix: `NSLAB_MEMORY_MAX=${Math.max(32, Math.floor(Math.max(room, 0) / 2 / MiB))}M   or   NSLAB_MEMORY_RESERVE=${Math.max(0, Math.floor((avail - o.memoryBytes) / MiB))}M   (in /etc/nslab/nslab.env), or free memory`,
      },
    ];
  const out: Finding[] = [];
  if (fits < o.maxLabs)
    out.push({
      level: "warn",
      what: `memory for about ${fits} idle labs, NSLAB_MAX_LABS is ${o.maxLabs}`,
      detail: `${head}; an idle lab costs about ${size(o.idleLabBytes)}; past that, new learners wait in the queue`,
      fix: `NSLAB_MAX_LABS=${Math.max(1, fits)}   (in /etc/nslab/nslab.env), or add memory`,
    });
  else out.push({ level: "ok", what: `memory for ${o.maxLabs} labs (NSLAB_MAX_LABS)`, detail: `${head}; an idle lab costs about ${size(o.idleLabBytes)}` });
  out.push({
    level: "ok",
    what: "memory limits overcommit",
    detail: `${o.maxLabs} labs × ${size(o.memoryBytes)} = ${size(worst)} at most, ${(worst / Math.max(room, 1)).toFixed(1)}× what is free: fine while few learners run heavy commands at once (each lab's own limit stops it; the reserve stops new labs)`,
  });
  return out;
}
