/** The explorer model: changes. No browser, no server. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ChangeTracker, diffSnapshots, withChanges } from "./changes.ts";
import { nsColumns } from "./namespaces.ts";
import { processTree } from "./processes.ts";
import { L, lab, ns, proc } from "./test-fixtures.ts";

describe("changes", () => {
  test("diff: appeared and disappeared processes and namespaces; exec and unshare count as changes", () => {
    const a = lab();
    assert.deepEqual(diffSnapshots(null, a).addedProcs, [], "the first snapshot highlights nothing");
    const b = lab();
    b.processes = b.processes.filter((p) => p.hostPid !== 1003);
    b.namespaces = b.namespaces.filter((n) => n.ino !== 200).map((n) => ({ ...n, processes: n.processes.filter((p) => p !== 1003) }));
    b.processes.push(proc(1005, 1002, { ns: { ...L, net: 500 } }));
    b.namespaces.push(ns("net", 500, [1005]));
    b.processes[1] = { ...b.processes[1]!, cmdline: "vim" };
    const d = diffSnapshots(a, b);
    assert.deepEqual(d.addedProcs, [1005]);
    assert.deepEqual(d.removedProcs.map((p) => p.hostPid), [1003]);
    assert.deepEqual(d.changedProcs, [1002]);
    assert.deepEqual(d.addedNs, ["net:500"]);
    assert.deepEqual(d.removedNs.map((n) => `${n.type}:${n.ino}`), ["uts:200"]);
  });

  test("the tracker fades highlights after fadeMs and merges departed items back for that long", () => {
    const t = new ChangeTracker(1000);
    const a = lab();
    t.update(a, 0);
    assert.equal(t.nextExpiry(), null);
    const b = { ...lab(), processes: lab().processes.filter((p) => p.hostPid !== 1003), namespaces: lab().namespaces.filter((n) => n.ino !== 200) };
    b.processes.push(proc(1006, 1002));
    t.update(b, 100);
    let v = t.view(500);
    assert.deepEqual([...v.freshProcs], [1006]);
    assert.deepEqual(v.goneProcs.map((p) => p.hostPid), [1003]);
    assert.deepEqual(v.goneNs.map((n) => n.ino), [200]);
    assert.equal(t.nextExpiry(), 1100);
    const shown = withChanges(b, v);
    assert.equal(shown.processes.find((p) => p.hostPid === 1003)!.gone, true);
    assert.equal(shown.processes.find((p) => p.hostPid === 1006)!.fresh, true);
    assert.equal(shown.namespaces.find((n) => n.ino === 200)!.gone, true);
    // the ghost stays in the tree, under its old parent
    assert.ok(processTree(shown.processes).some((r) => r.item.hostPid === 1003 && r.depth === 2));
    // and as a column of the matrix while it fades
    assert.ok(nsColumns(shown.namespaces).find((c) => c.type === "uts")!.namespaces.some((n) => n.ino === 200));
    v = t.view(1100);
    assert.equal(v.freshProcs.size + v.goneProcs.length + v.goneNs.length, 0);
    assert.equal(t.nextExpiry(), null);
    // something that comes back is no longer a ghost
    t.update(b, 2000);
    t.update(a, 2100);
    assert.deepEqual(t.view(2200).goneProcs.map((p) => p.hostPid), [1006]);
    assert.ok(t.view(2200).freshProcs.has(1003));
  });
});
