/** The explorer model: processes. No browser, no server. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { differingTypes, labRoots } from "./namespaces.ts";
import { pidLabel, processTree } from "./processes.ts";
import { lab, proc } from "./test-fixtures.ts";

describe("processes", () => {
  test("pid labels name the host's and the lab's level", () => {
    assert.equal(pidLabel([48213, 7, 1]), "host 48213 · lab 7 · 1");
    assert.equal(pidLabel([48213, 1]), "host 48213 · lab 1");
    assert.equal(pidLabel([5]), "host 5");
    assert.equal(pidLabel([9, 3], { host: "主机", lab: "实验" }), "主机 9 · 实验 3");
  });

  test("the tree by ppid: roots are processes whose parent is not in the lab; guides know the last child", () => {
    const s = lab();
    s.processes.push(proc(1004, 1001, { comm: "sleep" }));
    const rows = processTree(s.processes);
    assert.deepEqual(
      rows.map((r) => [r.item.hostPid, r.depth]),
      [
        [1001, 0],
        [1002, 1],
        [1003, 2],
        [1004, 1],
      ],
    );
    assert.deepEqual(rows[1]!.lasts, [true, false], "1002 is not the last child of init");
    assert.deepEqual(rows[3]!.lasts, [true, true]);
    // an orphan whose parent vanished becomes a root; a self-parented entry does not loop
    const odd = processTree([proc(5, 99), proc(6, 6)]);
    assert.deepEqual(odd.map((r) => r.item.hostPid), [5, 6]);
  });

  test("types in which a process left the lab's namespaces", () => {
    const s = lab();
    const roots = labRoots(s.namespaces);
    assert.equal(roots.uts, 103);
    assert.deepEqual(differingTypes(s.processes[2]!, roots), ["uts"]);
    assert.deepEqual(differingTypes(s.processes[1]!, roots), []);
  });
});
