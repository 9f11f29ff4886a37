import assert from "node:assert/strict";
import os from "node:os";
import { test } from "node:test";
import { errnoName } from "./errno.ts";

test("errno names match the kernel's (as Node knows them)", () => {
  for (const [name, num] of Object.entries(os.constants.errno)) {
    if (name === "EWOULDBLOCK" || name === "EDEADLOCK" || name === "ENOTSUP") continue; // aliases
    assert.equal(errnoName(num), name, `errno ${num}`);
  }
  assert.equal(errnoName(-1), "EPERM");
  assert.equal(errnoName(9999), "errno 9999");
});
