/** The explorer model: namespaces. No browser, no server. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { nsColumns, nsHierarchy, rangeText } from "./namespaces.ts";
import { lab, ns } from "./test-fixtures.ts";

describe("namespaces", () => {
  test("matrix columns: per type, namespaces with processes, the lab's own first; empty types dropped", () => {
    const cols = nsColumns(lab().namespaces);
    assert.deepEqual(cols.map((c) => c.type), ["user", "pid", "mnt", "uts", "ipc", "net", "cgroup", "time"]);
    assert.deepEqual(cols.find((c) => c.type === "uts")!.namespaces.map((n) => n.ino), [103, 200]);
    assert.deepEqual(cols.find((c) => c.type === "user")!.namespaces.map((n) => n.ino), [100], "the host's (no lab process) is not a column");
  });

  test("hierarchy: nested pid and user namespaces under their parents; what each user namespace owns", () => {
    const s = lab();
    s.namespaces.push(ns("pid", 300, [1003], { parent: 101 }), ns("pid", 301, [], { parent: 300 }), ns("user", 400, [1003], { parent: 100, owner: 100 }));
    s.namespaces.find((n) => n.ino === 200)!.owner = 400;
    const pid = nsHierarchy(s.namespaces, "pid");
    assert.deepEqual(
      pid.map((n) => [n.ns.ino, n.depth]),
      [
        [2, 0],
        [101, 1],
        [300, 2],
        [301, 3],
      ],
    );
    const user = nsHierarchy(s.namespaces, "user");
    assert.deepEqual(
      user.map((n) => [n.ns.ino, n.depth]),
      [
        [1, 0],
        [100, 1],
        [400, 2],
      ],
    );
    const labUser = user.find((n) => n.ns.ino === 100)!;
    assert.ok(labUser.owns.some((o) => o.type === "pid" && o.ino === 101));
    assert.ok(!labUser.owns.some((o) => o.ino === 200), "the new uts is owned by the nested user namespace");
    assert.deepEqual(user.find((n) => n.ns.ino === 400)!.owns.map((o) => `${o.type}:${o.ino}`), ["uts:200"]);
    // a parent we do not know (outside our view) makes a root
    assert.deepEqual(nsHierarchy([ns("pid", 9, [1], { parent: 12345 })], "pid").map((n) => n.depth), [0]);
  });

  test("id map ranges in words", () => {
    assert.equal(rangeText({ inside: 0, outside: 3_000_000_000, count: 65536 }), "0–65535 → 3000000000–3000065535");
    assert.equal(rangeText({ inside: 5, outside: 0, count: 1, outsideHost: 1000 }), "5 → 0");
    assert.equal(rangeText({ inside: 5, outside: 0, count: 1, outsideHost: 1000 }, "host"), "5 → 1000");
  });
});
