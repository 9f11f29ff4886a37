/**
 * The server's own lab spec through the sanitized native core: labs made by native/build/
 * test-helper and running native/build/test-init (AddressSanitizer + UndefinedBehaviorSanitizer,
 * reports fatal). Every mount operation the server asks for runs here: the root tmpfs, read-only
 * binds of /usr, copies into /etc, proc, both sysfs instances, the cgroup binds, devpts, /dev/shm,
 * mqueue. A sanitizer report in the helper fails the create (it exits without answering); one in
 * init ends the lab. Mutation: an injected signed overflow in src/lab.c or init fails this file.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, test } from "node:test";
import { useSanitizedNative } from "../native/core.ts";
import { createLab, testServer, TermClient } from "../testing/harness.ts";

if (process.getuid?.() !== 0) throw new Error("these tests need root: they create real namespaces");

useSanitizedNative();
let s: Awaited<ReturnType<typeof testServer>>;
before(async () => {
  s = await testServer({ NSLAB_MEMORY_MAX: "256M" });
});
after(async () => s.close());

test("a lab built and entered by the sanitized helper, with the sanitized init, does everything the server asks", async () => {
  const created = await createLab(s.url);
  const lab = s.mgr.get(created.id)!;
  const t = new TermClient(s.url, created);
  await t.opened;
  await t.until((c) => /[#$] $/.test(c.output), "the first prompt");
  const mounts = await t.run("findmnt -rn -o TARGET,FSTYPE | sort");
  for (const want of ["/ tmpfs", "/usr \\S+", "/etc/ld.so.cache \\S+", "/proc proc", "/sys sysfs", "/run/nslab/sysfs sysfs", "/dev/pts devpts", "/dev/null \\S+", "/dev/shm tmpfs", "/dev/mqueue mqueue"])
    assert.match(mounts, new RegExp(`^${want}$`, "m"), `${want} mounted`);
  if (s.mgr.cgroups.version) assert.match(mounts, /\/sys\/fs\/cgroup\S* cgroup2?\n/, "the lab's cgroup is bound");
  assert.equal((await t.run("ip netns add x && ip netns exec x ls /sys/class/net && ip netns delete x")).trim(), "lo");
  const r = await lab.exec("unshare -fp --mount-proc sh -c 'echo $$'; cat /etc/nslab/cgroup-version");
  assert.equal(r.stdout.split("\n")[0], "1", r.stderr);
  t.close();
  // init is alive (a sanitizer report would have ended it), and the lab ends cleanly
  assert.ok(lab.running, "the lab's init still runs");
  assert.match(fs.readFileSync(`/proc/${lab.initPid}/stat`, "utf8"), /^\d+ \(nslab-init\) S /);
  await s.mgr.destroy(created.id);
});
