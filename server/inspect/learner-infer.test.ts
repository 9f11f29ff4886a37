/**
 * sethostname/setdomainname's result by the kernel's rule (CAP_SYS_ADMIN in the user namespace
 * owning the caller's UTS namespace), from what the tracer read while the caller was suspended.
 * The real thing, end to end, is in server/labs/trace.integration.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { utsRule } from "./learner-infer.ts";

const ns = { user: 10, pid: 11, mnt: 12, uts: 13, ipc: 14, net: 15, cgroup: 16, time: 17 };
const ADMIN = 1n << 21n;
const call = (up: number | null, capEff: bigint | null, args = '"box", 3') => ({ args, nsBefore: ns, utsOwner: up === null ? null : { userNs: 99, up }, capEff });

test("sethostname's result follows the kernel's rule, from the facts read during the call", () => {
  assert.equal(utsRule(call(0, ADMIN)), "ok: root in the user namespace that owns uts:[13]");
  assert.equal(utsRule(call(0, 0n)), "failed: no CAP_SYS_ADMIN in its user namespace (EPERM)");
  assert.equal(utsRule(call(1, ~0n)), "failed: uts:[13] belongs to the parent of its user namespace (EPERM)", "no capability counts in a parent");
  assert.equal(utsRule(call(3, ~0n)), "failed: uts:[13] belongs to an ancestor of its user namespace (EPERM)");
  assert.equal(utsRule(call(-1, ADMIN)), "ok: root in an ancestor of the user namespace that owns uts:[13]");
  assert.equal(utsRule(call(-1, 0n)), "", "the owner's-uid rule is not known here");
  assert.equal(utsRule(call(0, ADMIN, `"${"x".repeat(65)}", 65`)), "failed: longer than 64 bytes (EINVAL)");
  assert.equal(utsRule(call(1, ADMIN, `"${"x".repeat(65)}", 65`)), "failed: uts:[13] belongs to the parent of its user namespace (EPERM)", "the permission is checked first");
  assert.equal(utsRule(call(null, ADMIN)), "", "nothing read: nothing told");
  assert.equal(utsRule(call(0, null)), "");
});
