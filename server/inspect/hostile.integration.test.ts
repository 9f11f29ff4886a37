/**
 * What a hostile lab does to inspection (issue 12, the server's side): a mount table of
 * megabytes (finding 1) and process names made of escape sequences and bidi overrides (finding
 * 13). Real server, real labs; another learner's terminal and /api/health keep answering.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { isPrintable } from "../../lib/printable.ts";
import { MOUNTINFO_MAX_BYTES, MOUNTS_MAX, type LabSnapshot, type MountEntry } from "../../lib/protocol.ts";
import { api, createLab, ExplorerClient, testServer, TermClient } from "../testing/harness.ts";
import { readCapped } from "./procfs.ts";

if (process.getuid?.() !== 0) throw new Error("these tests need root: they create real namespaces");

let s: Awaited<ReturnType<typeof testServer>>;
let bystander: TermClient;
before(async () => {
  s = await testServer({ NSLAB_LABS_PER_CLIENT: "20" });
  bystander = new TermClient(s.url, await createLab(s.url));
  await bystander.opened;
  await bystander.until((c) => /[#$] $/.test(c.output), "the bystander's prompt", 30_000);
});
/** the tests' own clients, also closed after them: a test that fails half-way must not keep the
 * file's process alive with an open socket (it hung until the runner's 10-minute timeout) */
const clients: { ws: { terminate(): void } }[] = [];
function tracked<T extends { ws: { terminate(): void } }>(c: T): T {
  clients.push(c);
  return c;
}
after(async () => {
  bystander?.close();
  for (const c of clients) c.ws.terminate();
  await s?.close();
});

/** Another learner's terminal echoes and the server's health answers (no time asserted). */
async function othersAnswer(): Promise<void> {
  const [out, h] = await Promise.all([bystander.run("echo alive", 60_000), api(s.url, "GET", "/api/health")]);
  assert.equal(out.trim(), "alive", "another learner's terminal answers");
  assert.equal(h.status, 200);
  assert.equal(h.json.ok, true);
}

/** Runs `othersAnswer` in a loop until `work` settles; returns how many rounds answered. */
async function whileRunning<T>(work: Promise<T>): Promise<{ value: T; rounds: number }> {
  let done = false;
  let rounds = 0;
  const watching = (async () => {
    while (!done) {
      await othersAnswer();
      rounds++;
    }
  })();
  try {
    const value = await work;
    return { value, rounds };
  } finally {
    done = true;
    await watching;
  }
}

describe("reading a lab's mount table (finding 1: capped, off the event loop)", () => {
  test("readCapped cuts at the last whole line below the cap and says so", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nslab-capped-"));
    try {
      const f = path.join(dir, "t");
      fs.writeFileSync(f, "aaaa\nbbbb\ncccc\n");
      assert.deepEqual(await readCapped(f, 15), { text: "aaaa\nbbbb\ncccc\n", truncated: false });
      assert.deepEqual(await readCapped(f, 14), { text: "aaaa\nbbbb\n", truncated: true });
      assert.deepEqual(await readCapped(f, 5), { text: "aaaa\n", truncated: true });
      assert.equal(await readCapped(path.join(dir, "gone"), 10), null);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a lab with thousands of long mount paths: GET /mounts and the explorer get the first mounts, marked truncated; nobody else waits", async () => {
    const labInfo = await createLab(s.url);
    const lab = s.mgr.get(labInfo.id)!;
    const x = tracked(new ExplorerClient(s.url, labInfo));
    await x.opened;
    await x.until(() => x.last(), "first snapshot", 30_000);
    x.send({ type: "mounts", pid: lab.initPid });
    await x.until(() => x.of("mounts").find((m) => m.pid === lab.initPid), "the lab's mounts before the storm", 30_000);

    // each round binds the whole tree into a 200-character directory of itself: the number of
    // mounts doubles and every path grows by 201 characters, until fs.mount-max stops it
    const storm = lab.exec(
      "mkdir -p /tmp/a && mount -t tmpfs t /tmp/a && d=/tmp/a/$(head -c 200 /dev/zero | tr '\\0' x) && mkdir $d && " +
        "i=0; while [ $i -lt 16 ] && mount --rbind /tmp/a $d 2>/dev/null; do i=$((i+1)); done; " +
        "echo rounds=$i mounts=$(grep -c . /proc/self/mountinfo) bytes=$(wc -c < /proc/self/mountinfo)",
      { timeoutMs: 180_000 },
    );
    const { value: r, rounds } = await whileRunning(storm);
    const m = /rounds=(\d+) mounts=(\d+) bytes=(\d+)/.exec(r.stdout);
    assert.ok(m, r.stdout + r.stderr);
    const [mounts, bytes] = [Number(m[2]), Number(m[3])];
    assert.ok(mounts > MOUNTS_MAX && bytes > 10 * MOUNTINFO_MAX_BYTES, `the storm made ${mounts} mounts, ${bytes} bytes of mountinfo`);
    assert.ok(rounds >= 1, "others were answered while the storm ran");

    // the one-off API: the first mounts, and a header that says there are more
    const got = await whileRunning(api(s.url, "GET", `/api/labs/${lab.id}/mounts?pid=${lab.initPid}`, labInfo.token));
    assert.equal(got.value.status, 200);
    const table = got.value.json as MountEntry[];
    assert.ok(table.length > 0 && table.length <= MOUNTS_MAX, `${table.length} mounts sent`);
    assert.equal(got.value.headers.get("x-nslab-truncated"), "1");
    assert.equal(table[0]!.mountPoint, "/", "the table starts at the lab's root, as mountinfo does");

    // the explorer: the table it follows comes again, cut and marked truncated
    const live = await whileRunning(x.until(() => x.of("mounts").find((e) => e.pid === lab.initPid && e.truncated), "a truncated table", 120_000));
    assert.ok(live.value.mounts.length <= MOUNTS_MAX);
    assert.ok(live.value.mounts.some((e) => e.mountPoint.startsWith("/tmp/a/x")), "the storm's mounts are among those shown");
    const n = x.of("mounts").length;
    await othersAnswer();
    await othersAnswer();
    assert.equal(x.of("mounts").length, n, "an unchanged table is not sent again");

    x.ws.close();
    await s.mgr.destroy(lab.id);
    await othersAnswer();
  });
});

describe("names a lab chooses (finding 13: shown safely, shells known by the server)", () => {
  test("escape sequences and bidi overrides in comm, cmdline, mount paths and the trace reach no client; a process named bash is not a shell", async () => {
    const labInfo = await createLab(s.url);
    const lab = s.mgr.get(labInfo.id)!;
    const t = tracked(new TermClient(s.url, labInfo));
    await t.opened;
    await t.until((c) => /[#$] $/.test(c.output), "prompt", 30_000);
    const x = tracked(new ExplorerClient(s.url, labInfo));
    await x.opened;

    // comm is the name of the executed file (15 bytes): ESC[31m, U+202E (right-to-left override), "hsab"
    // (read right to left: "bash"); argv[0] with a screen-clearing sequence and a bidi isolate;
    // and a plain sleep called bash, outside any terminal (setsid)
    const evil = "\x1b[31m\u202ehsab";
    const r = await lab.exec(
      `ln -s /bin/sleep "/tmp/$(printf '\\033[31m\\342\\200\\256hsab')" && ln -s /bin/sleep /tmp/bash && ` +
        `mkdir -p "/tmp/$(printf 'm\\033]0;owned\\007\\342\\201\\246x')" && mount -t tmpfs "$(printf 'src\\342\\200\\256')" /tmp/m* && ` +
        `setsid -f sh -c 'exec "/tmp/$(printf "\\033[31m\\342\\200\\256hsab")" 1000' </dev/null >/dev/null 2>&1 && ` +
        `setsid -f bash -c 'exec -a "$(printf "\\033[2J\\342\\201\\247spoof")" sleep 1001' </dev/null >/dev/null 2>&1 && ` +
        `setsid -f /tmp/bash 1002 </dev/null >/dev/null 2>&1`,
    );
    assert.equal(r.code, 0, r.stderr);
    // and in the terminal: a traced call with such a string
    // (hostname(1) refuses such a name itself: perl makes the call, 170 = sethostname on x86_64)
    t.send(`unshare -u perl -e '$n = "h\\e[2J\\x{202e}x"; utf8::encode($n); syscall(170, $n, length $n) == 0 or die "$!"'\r`);

    const snap = await x.until(() => {
      const last = x.last();
      return last && last.processes.some((p) => p.cmdline.includes("1000")) && last.processes.some((p) => p.cmdline.includes("1001")) && last.processes.some((p) => p.cmdline.includes("1002")) ? last : null;
    }, "the renamed processes", 30_000);
    const viaApi = (await api(s.url, "GET", `/api/labs/${lab.id}/snapshot`, labInfo.token)).json as LabSnapshot;
    for (const sn of [snap, viaApi])
      for (const p of sn.processes) {
        assert.ok(isPrintable(p.comm), `comm ${JSON.stringify(p.comm)}`);
        assert.ok(isPrintable(p.cmdline), `cmdline ${JSON.stringify(p.cmdline)}`);
      }
    const renamed = snap.processes.find((p) => p.cmdline.endsWith(" 1000"))!;
    assert.equal(renamed.comm, "?[31m?hsab", `each control or bidi character shows as ?, not ${JSON.stringify(evil)}`);
    assert.match(snap.processes.find((p) => p.cmdline.endsWith(" 1001"))!.cmdline, /^\?\[2J\?spoof 1001$/);

    // shells: the terminal's, by session, whatever the names; the sleep called bash is none
    const fake = snap.processes.find((p) => p.cmdline === "/tmp/bash 1002")!;
    assert.equal(fake.comm, "bash");
    assert.equal(fake.shell, undefined, "a process named bash outside the terminal is no shell");
    assert.equal(fake.terminal, undefined);
    const shells = snap.processes.filter((p) => p.shell);
    assert.equal(shells.length, 1, "one terminal, one shell");
    assert.equal(shells[0]!.terminal, "t1");

    // mount paths and sources
    x.send({ type: "mounts", pid: lab.initPid });
    const table = await x.until(() => x.of("mounts").find((m) => m.pid === lab.initPid && m.mounts.some((e) => e.mountPoint.startsWith("/tmp/m"))), "the odd mount", 30_000);
    const odd = table.mounts.find((e) => e.mountPoint.startsWith("/tmp/m"))!;
    assert.equal(odd.mountPoint, "/tmp/m?]0;owned??x");
    assert.equal(odd.source, "src?");
    for (const e of table.mounts) for (const v of [e.mountPoint, e.root, e.source, e.options, e.superOptions, e.fsType]) assert.ok(isPrintable(v), JSON.stringify(v));

    // the trace: the learner's sethostname, its argument made printable
    const call = await x
      .until(() => x.of("trace").flatMap((m) => m.entries).find((e) => e.who === "learner" && e.sys === "sethostname"), "the traced sethostname", 30_000)
      .catch((e) => {
        throw new Error(`${e.message}; the terminal showed ${JSON.stringify(t.output.slice(-600))}; learner calls ${JSON.stringify(x.of("trace").flatMap((m) => m.entries).filter((e) => e.who === "learner"))}`);
      });
    assert.ok(isPrintable(call.args) && isPrintable(call.comm ?? ""), JSON.stringify(call));
    assert.match(call.args, /h.*x/);

    await othersAnswer();
    t.close();
    x.ws.close();
    await s.mgr.destroy(lab.id);
  });
});
