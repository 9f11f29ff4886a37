import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { SqliteClassStore } from "./sqlite.ts";
import { classStoreContract } from "./store.contract.ts";

classStoreContract("sqlite", async () => new SqliteClassStore(":memory:"));

test("sqlite: the file is private to the server's user and keeps its data when reopened", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nslab-classes-"));
  try {
    const a = SqliteClassStore.open(dir);
    await a.createClass({
      id: "c0ffee0000000001", code: "ACDEFG", title: "t", lessons: ["x"], startsAt: 1, endsAt: 2, createdAt: 1, state: "open",
      locked: false, maxLearners: 10, instructorKeyHash: "aa".repeat(32), labsEndAt: null, endedAt: null, follow: null,
    });
    await a.close();
    assert.equal(fs.statSync(path.join(dir, "classes.db")).mode & 0o777, 0o600);
    const b = SqliteClassStore.open(dir);
    assert.equal((await b.getClass("c0ffee0000000001"))?.code, "ACDEFG");
    await b.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
