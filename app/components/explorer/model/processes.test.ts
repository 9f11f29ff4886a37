/** The explorer model: processes. No browser, no server. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { differingTypes, labRoots } from "./namespaces.ts";
import { liveMountPids, pidLabel, processTree } from "./processes.ts";
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

describe("whose mounts to show first (issue 12, finding 13: shells by what the server knows)", () => {
  test("a process merely named bash is never taken for the learner's shell", () => {
    const init = proc(10, 1, { nspid: [10, 1], comm: "nslab-init" });
    const fake = proc(30, 10, { nspid: [30, 3], comm: "bash" });
    const shell = proc(20, 10, { nspid: [20, 2], comm: "sh", terminal: "t1", shell: true });
    const snap = { ...lab(), processes: [init, shell, fake] };
    assert.deepEqual(liveMountPids(snap, [], ["t2"]), [20], "the shell the server started, whatever its name");
    assert.deepEqual(liveMountPids({ ...snap, processes: [init, fake] }, [], []), [10], "no shell: the lab's init, not the fake bash");
    const fg = proc(40, 20, { nspid: [40, 4], comm: "bash", terminal: "t1", foreground: true });
    assert.deepEqual(liveMountPids({ ...snap, processes: [init, shell, fake, fg] }, [], ["t1"]), [40], "in front in terminal 1");
    assert.deepEqual(liveMountPids(snap, [30, 99], ["t1"]), [30], "a chosen process that still lives is kept");
  });
});
