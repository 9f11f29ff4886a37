/**
 * Reading real processes made with unshare(1): NSpid across pid namespaces, namespace links,
 * uids inside and outside user namespaces, vanished processes. Needs root.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { formatCmdline, parseIdMap, parseJobs, parseNsLink, parseStatus, type RawProcess, readIdMap, readNsLinks, readProcess, readRawProcess, readSetgroups, relativeToParent, startTime, toInside, toOutside, toProcessInfo } from "./procfs.ts";
import { markTerminals } from "./snapshot.ts";
import { comm, Scene, waitFor } from "./test-helpers.ts";

const scenes: Scene[] = [];
const scene = (script: string) => {
  const s = new Scene(script);
  scenes.push(s);
  return s;
};
after(async () => {
  for (const s of scenes) await s.stop();
});
const own = readNsLinks(process.pid);

test("a process in a nested pid namespace: NSpid has two levels, new pid and mnt namespaces", async () => {
  const s = scene("exec unshare --kill-child -fp --mount-proc sleep 1000");
  const [pid] = await s.find("sleep");
  const p = readProcess(pid!)!;
  assert.ok(p);
  assert.equal(p.hostPid, pid);
  assert.deepEqual(p.nspid, [pid, 1], "the host's pid, then 1 in its own pid namespace");
  assert.equal(p.ppid, s.pid, "its parent is unshare (the host pid)");
  assert.equal(p.comm, "sleep");
  assert.equal(p.cmdline, "sleep 1000");
  assert.equal(p.uidHost, 0);
  assert.equal(p.uidInside, 0, "root in the host's user namespace");
  assert.equal(p.state, "S");
  assert.notEqual(p.ns.pid, own.pid);
  assert.notEqual(p.ns.mnt, own.mnt, "--mount-proc implies a new mount namespace");
  assert.equal(p.ns.user, own.user);
  assert.equal(p.ns.net, own.net);
  for (const t of ["user", "pid", "mnt", "uts", "ipc", "net", "cgroup", "time"] as const) assert.ok(Number.isSafeInteger(p.ns[t]), t);
});

test("uid inside a user namespace: mapped root, an unmapped process, a non-root host uid", async () => {
  const mapped = scene("exec unshare --kill-child -Ur sleep 1001");
  const unmapped = scene("exec unshare --kill-child -U sleep 1002");
  const user = scene("exec setpriv --reuid=1000 --regid=1000 --clear-groups unshare --kill-child -Ur sleep 1003");
  const [a] = await mapped.find("sleep");
  const [b] = await unmapped.find("sleep");
  const [c] = await user.find("sleep");

  const pa = readProcess(a!)!;
  assert.equal(pa.uidHost, 0);
  assert.equal(pa.uidInside, 0);
  assert.deepEqual(readIdMap(a!, "uid"), [{ inside: 0, outside: 0, count: 1 }]);
  assert.equal(readSetgroups(a!), "deny", "--map-root-user denies setgroups (user_namespaces(7))");

  const pb = readProcess(b!)!;
  assert.deepEqual(readIdMap(b!, "uid"), [], "no map written yet");
  assert.equal(pb.uidInside, 65534, "an unmapped uid shows as the overflow uid");
  assert.equal(readSetgroups(b!), "allow");

  const pc = readProcess(c!)!;
  assert.equal(pc.uidHost, 1000, "as the host sees it");
  assert.equal(pc.uidInside, 0, "root inside its own user namespace");
  assert.deepEqual(readIdMap(c!, "uid"), [{ inside: 0, outside: 1000, count: 1 }]);
  assert.notEqual(pc.ns.user, own.user);
});

test("processes that are gone read as null or empty, never as an error", async () => {
  const s = scene("exec sleep 1004");
  const pid = s.pid;
  await waitFor(() => comm(pid) === "sleep", "exec of sleep");
  const st = startTime(pid!);
  assert.ok(st && /^\d+$/.test(st));
  await s.stop();
  assert.equal(readProcess(pid!), null);
  assert.equal(readRawProcess(pid!), null);
  assert.deepEqual(readNsLinks(pid!), {});
  assert.equal(readIdMap(pid!, "uid"), null);
  assert.equal(readSetgroups(pid!), null);
  assert.equal(startTime(pid!), null);
  assert.equal(readProcess(999_999_999), null);
});

test("parsers: status, ns links, cmdline, id maps", () => {
  const st = parseStatus("Name:\tbash\nState:\tS (sleeping)\nPid:\t10\nPPid:\t4\nUid:\t1000\t1000\t1000\t1000\nGid:\t5\t5\t5\t5\nNSpid:\t10\t3\t1\n")!;
  assert.deepEqual(st, { name: "bash", state: "S", ppid: 4, nspid: [10, 3, 1], uid: [1000, 1000, 1000, 1000], gid: [5, 5, 5, 5] });
  assert.deepEqual(parseStatus("Name:\tx\nPid:\t7\nPPid:\t1\n")!.nspid, [7], "kernels without NSpid");
  assert.equal(parseStatus("garbage"), null);
  assert.equal(parseStatus("Name:\ta\\nb\\\\c\nPid:\t1\nPPid:\t0\n")!.name, "a\nb\\c", "status escapes \\n and \\\\ in names");
  assert.equal(parseNsLink("user:[4026531837]"), 4026531837);
  assert.equal(parseNsLink("pid_for_children:[4026531836]"), 4026531836);
  assert.equal(parseNsLink("nonsense"), null);
  assert.equal(formatCmdline("bash\0-c\0echo hi\0"), "bash -c echo hi");
  assert.equal(formatCmdline("a\nb\0"), "a b");
  const long = formatCmdline("x".repeat(500));
  assert.equal(long.length, 200);
  assert.ok(long.endsWith("…"));
  assert.deepEqual(parseIdMap("         0     100000      65536\n  bad line\n"), [{ inside: 0, outside: 100000, count: 65536 }]);
  const map = [{ inside: 0, outside: 100000, count: 65536 }];
  assert.equal(toInside(map, 100005), 5);
  assert.equal(toInside(map, 99), null);
  assert.equal(toOutside(map, 65535), 165535);
  assert.equal(toOutside(map, 65536), null);
});

test("maps relative to the parent user namespace, split where the parent's extents split", () => {
  // parent: inside 0..9 → host 1000..1009, inside 10..19 → host 5000..5009
  const parent = [
    { inside: 0, outside: 1000, count: 10 },
    { inside: 10, outside: 5000, count: 10 },
  ];
  // child as read from the host: inside 0..4 → host 1005..1009 (parent ids 5..9), then 5000.. (parent 10..)
  assert.deepEqual(relativeToParent([{ inside: 0, outside: 1005, count: 5 }], parent), [{ inside: 0, outside: 5, count: 5, outsideHost: 1005 }]);
  assert.deepEqual(
    relativeToParent(
      [
        { inside: 0, outside: 1008, count: 2 },
        { inside: 2, outside: 5000, count: 3 },
      ],
      parent,
    ),
    [
      { inside: 0, outside: 8, count: 2, outsideHost: 1008 },
      { inside: 2, outside: 10, count: 3, outsideHost: 5000 },
    ],
  );
  // a range across the end of the parent's extent: the rest stays in host terms
  assert.deepEqual(relativeToParent([{ inside: 0, outside: 1008, count: 4 }], parent), [
    { inside: 0, outside: 8, count: 2, outsideHost: 1008 },
    { inside: 2, outside: 1010, count: 2, outsideHost: 1010 },
  ]);
  assert.deepEqual(relativeToParent([{ inside: 0, outside: 7, count: 1 }], "identity"), [{ inside: 0, outside: 7, count: 1, outsideHost: 7 }]);
});

test("job control from /proc/PID/stat: process group, session, the terminal's foreground group", () => {
  // a command name with spaces and parentheses must not shift the fields
  assert.deepEqual(parseJobs("4242 (a) b (c) S 4200 4242 4100 34817 4242 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 0"), { pgid: 4242, sid: 4100, tpgid: 4242 });
  assert.deepEqual(parseJobs("7 (sleep) S 1 7 7 0 -1 4194560"), { pgid: 7, sid: 7, tpgid: -1 }, "no controlling terminal");
  assert.equal(parseJobs("garbage"), null);
});

test("terminals in a snapshot: by session (the shell nslab started), the foreground group's leader", () => {
  const raw = (hostPid: number, jobs: { pgid: number; sid: number; tpgid: number } | null) =>
    ({ hostPid, nspid: [hostPid, 1], ppid: 1, state: "S", comm: "x", cmdline: "x", uidHost: 0, gidHost: 0, ns: {}, jobs }) as RawProcess;
  // 100: terminal t1's login shell; 101: a nested bash in front; 102: a background job; 200: setsid -f, its own session
  const raws = [raw(100, { pgid: 100, sid: 100, tpgid: 101 }), raw(101, { pgid: 101, sid: 100, tpgid: 101 }), raw(102, { pgid: 102, sid: 100, tpgid: 101 }), raw(200, { pgid: 200, sid: 200, tpgid: -1 }), raw(300, null)];
  const ps = raws.map((r) => toProcessInfo(r, null));
  markTerminals(ps, raws, [{ id: "t1", pid: 100 }]);
  assert.deepEqual(
    ps.map((p) => [p.hostPid, p.terminal, !!p.shell, !!p.foreground]),
    [
      [100, "t1", true, false],
      [101, "t1", false, true],
      [102, "t1", false, false],
      [200, undefined, false, false],
      [300, undefined, false, false],
    ],
  );
});
