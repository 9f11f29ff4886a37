import "server-only";
import fs from "node:fs";
import path from "node:path";
import type { LabSpec, MountStep } from "../native/spec.ts";

/**
 * The lab's root filesystem, as typed steps of the lab spec (server/native/spec.ts, which writes
 * them for the native core). Policy lives here; the mechanism in native/src/mnt.c.
 *
 * The root is a size-bounded tmpfs (the lab's only writable storage). The host's system
 * directories are bound read-only; /etc is a private copy made from a small template (no host
 * secrets: no shadow, no ssh keys, no nslab config); /proc, /sys, /dev/pts and /dev/mqueue are the
 * lab's own instances. If nslab itself is installed below a bound directory, it is hidden.
 */

const SYSTEM_DIRS = ["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"];
const DEVICES = ["null", "zero", "full", "random", "urandom", "tty"];
const HOST_ETC_SHARED = ["ld.so.cache", "alternatives", "inputrc", "os-release", "debian_version"];

export interface RootfsOptions {
  stagingDir: string;
  etcTemplate: string;
  scratchBytes: number;
  shmBytes: number;
  cgroupBinds: [string, string][];
  rootless: boolean;
  hide: string[]; // host paths to cover with an empty tmpfs (nslab's own install, if visible)
}

/**
 * The lab's interactive shell setup (server/labs/etc/bash.bashrc):
 * - history -a: checks can see each command as soon as it finished;
 * - OSC 633;D: tells the server (and so the page) that a command finished, with its status;
 * - "know where you are": the prompt names the namespaces the shell is in that are not the lab's
 *   own, `root@lab-1a2b3c [pid+1 mnt]:~#`, worked out once per shell (the file says how).
 */
const BASHRC = new URL("./etc/bash.bashrc", import.meta.url);

/** Writes the /etc template once per server start. */
export function writeEtcTemplate(dir: string, cgroupVersion: 0 | 1 | 2): void {
  fs.mkdirSync(path.join(dir, "nslab"), { recursive: true });
  const files: Record<string, string> = {
    passwd: "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    group: "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n",
    hosts: "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    "nsswitch.conf": "passwd: files\ngroup: files\nshadow: files\nhosts: files\n",
    "resolv.conf": "# This lab has no network beyond its own loopback device.\n",
    shells: "/bin/sh\n/bin/bash\n/usr/bin/bash\n",
    profile: [
      "# nslab lab profile",
      'export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"',
      'if [ -n "$BASH_VERSION" ] && [ -f /etc/bash.bashrc ]; then . /etc/bash.bashrc; fi',
      "",
    ].join("\n"),
    "bash.bashrc": fs.readFileSync(BASHRC, "utf8"),
    "nslab/cgroup-version": `${cgroupVersion}\n`,
    "nslab/README": "This is an nslab lab: your own namespaces, on a real Linux kernel.\n",
  };
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content, { mode: 0o644 });
}

/**
 * What every lab takes from the host, looked up once per etc template (a server writes its template
 * once, at start): the system directories (bound, or symlinks as on a merged-/usr host), the
 * template's files and the shared host /etc files that exist. Each new lab would otherwise repeat
 * these ~20 file system lookups on the event loop.
 */
const hostLayouts = new Map<string, { system: MountStep[]; etcFiles: string[]; sharedEtc: string[] }>();
function hostLayout(etcTemplate: string) {
  let l = hostLayouts.get(etcTemplate);
  if (l) return l;
  const system: MountStep[] = [];
  for (const d of SYSTEM_DIRS) {
    const host = `/${d}`;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(host);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) system.push({ op: "symlink", target: fs.readlinkSync(host), path: host });
    else if (st.isDirectory()) system.push({ op: "ro-bind", src: host, path: host });
  }
  l = { system, etcFiles: listFiles(etcTemplate), sharedEtc: HOST_ETC_SHARED.filter((f) => fs.existsSync(`/etc/${f}`)) };
  hostLayouts.set(etcTemplate, l);
  return l;
}

/** The root of the lab: its tmpfs and the steps that fill it (binds, /etc, /proc, /sys, /dev), in order. */
export function rootfs(o: RootfsOptions): Pick<LabSpec, "root" | "mounts"> {
  const host = hostLayout(o.etcTemplate);
  const M: MountStep[] = [...host.system];
  for (const h of o.hide) M.push({ op: "tmpfs", path: h, options: "size=4k,mode=0755" });
  for (const d of ["/root", "/tmp", "/home", "/run", "/var", "/var/tmp", "/mnt", "/opt", "/srv"])
    M.push({ op: "dir", path: d, mode: d === "/tmp" || d === "/var/tmp" ? 0o1777 : d === "/root" ? 0o700 : 0o755 });
  M.push({ op: "dir", path: "/etc", mode: 0o755 });
  M.push({ op: "dir", path: "/etc/nslab", mode: 0o755 });
  for (const f of host.etcFiles) M.push({ op: "copy", src: path.join(o.etcTemplate, f), path: `/etc/${f}`, mode: 0o644 });
  for (const f of host.sharedEtc) M.push({ op: "ro-bind", src: `/etc/${f}`, path: `/etc/${f}` });
  M.push({ op: "symlink", target: "/usr/share/zoneinfo/Etc/UTC", path: "/etc/localtime" });
  M.push({ op: "symlink", target: "../proc/self/mounts", path: "/etc/mtab" });
  M.push({ op: "proc", path: "/proc" });
  M.push({ op: "sysfs", path: "/sys" });
  // A second, untouched sysfs: `ip netns exec` detaches /sys and mounts a fresh sysfs for the
  // target network namespace, which the kernel allows in a user namespace only while another
  // sysfs mount is fully visible in the mount namespace (mount_too_revealing in fs/namespace.c).
  M.push({ op: "sysfs", path: "/run/nslab/sysfs" });
  if (o.cgroupBinds.length) {
    // v1: one directory per controller, in a small tmpfs; v2: the lab's cgroup is /sys/fs/cgroup
    if (o.cgroupBinds.some(([, dst]) => dst !== "/sys/fs/cgroup")) M.push({ op: "tmpfs", path: "/sys/fs/cgroup", options: "size=16k,mode=0755" });
    for (const [src, dst] of o.cgroupBinds) M.push({ op: "bind", src, path: dst });
  }
  M.push({ op: "tmpfs", path: "/dev", options: "size=64k,nr_inodes=256,mode=0755" });
  for (const d of DEVICES) M.push({ op: "dev-bind", src: `/dev/${d}`, path: `/dev/${d}` });
  // gid=5 (tty) exists only where gids are mapped in bulk (root mode)
  M.push({ op: "devpts", path: "/dev/pts", options: o.rootless ? "newinstance,ptmxmode=0666,mode=0620" : "newinstance,ptmxmode=0666,mode=0620,gid=5" });
  M.push({ op: "symlink", target: "pts/ptmx", path: "/dev/ptmx" });
  M.push({ op: "symlink", target: "/proc/self/fd", path: "/dev/fd" });
  M.push({ op: "symlink", target: "/proc/self/fd/0", path: "/dev/stdin" });
  M.push({ op: "symlink", target: "/proc/self/fd/1", path: "/dev/stdout" });
  M.push({ op: "symlink", target: "/proc/self/fd/2", path: "/dev/stderr" });
  M.push({ op: "tmpfs", path: "/dev/shm", options: `size=${o.shmBytes},mode=01777` });
  M.push({ op: "mqueue", path: "/dev/mqueue" });
  return { root: { dir: o.stagingDir, options: `size=${o.scratchBytes},nr_inodes=65536,mode=0755` }, mounts: M };
}

function listFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, rel));
    else if (e.isFile()) out.push(rel);
  }
  return out.sort();
}
