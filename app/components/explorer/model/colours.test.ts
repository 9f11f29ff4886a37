/** The explorer model: colours. No browser, no server. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { groupSwatch, hueOf, HOST, NEUTRAL, nsSwatch, shortIno } from "./colours.ts";
import { ns } from "./test-fixtures.ts";

describe("colours", () => {
  test("deterministic per inode, distinct for consecutive inodes, neutral for the lab's own", () => {
    const a = nsSwatch({ ino: 4026532252, isLabRoot: false });
    assert.deepEqual(a, nsSwatch({ ino: 4026532252, isLabRoot: false }), "same inode, same colour");
    for (let i = 0; i < 20; i++) {
      const d = Math.abs(hueOf(4026532250 + i) - hueOf(4026532251 + i));
      assert.ok(Math.min(d, 360 - d) > 30, `consecutive inodes ${i} have hues ${d}° apart`);
    }
    assert.equal(nsSwatch({ ino: 1, isLabRoot: true }), NEUTRAL);
    assert.equal(nsSwatch({ ino: 1, isLabRoot: false, host: true }), HOST);
    assert.notDeepEqual(groupSwatch(4), groupSwatch(5));
    assert.match(a.bg, /^hsl\(\d+ /);
    assert.equal(shortIno(4026532252), "…32252");
    assert.equal(shortIno(42), "42");
  });
});
