/**
 * The PostgreSQL class store against a real PostgreSQL (a throwaway cluster, server/testing/postgres.ts):
 * the same contract as the SQLite store (store.contract.ts), each test in a fresh database; plus
 * what only a shared database shows: two web replicas starting at once migrate it once, and what
 * one replica writes the other reads.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { RosterResponse } from "../../lib/classes.ts";
import { api, testServer } from "../testing/harness.ts";
import { after, before, describe, test } from "node:test";
import { PostgresClassStore } from "./postgres.ts";
import { classStoreContract } from "./store.contract.ts";
import { postgresMissing, startPostgres, type TestPostgres } from "../testing/postgres.ts";

describe("postgres class store", { skip: postgresMissing() }, () => {
  let pg: TestPostgres;
  before(() => {
    pg = startPostgres();
  });
  after(() => pg?.stop());

  classStoreContract("postgres", () => PostgresClassStore.connect(pg.createDatabase()));

  test("postgres: replicas starting together migrate once; one replica's writes are the other's reads", async () => {
    const url = pg.createDatabase();
    const [a, b, c] = await Promise.all([PostgresClassStore.connect(url), PostgresClassStore.connect(url), PostgresClassStore.connect(url)]);
    try {
      const db = url.split("/").pop()!.split("?")[0]!;
      assert.equal(pg.psql("SELECT version FROM nslab_schema", db).trim(), "1");
      assert.equal(pg.psql("SELECT count(*) FROM nslab_schema", db).trim(), "1");
      await a.createClass({
        id: "c0ffee0000000001", code: "ACDEFG", title: "t", lessons: ["x"], startsAt: 1, endsAt: 2, createdAt: 1, state: "open",
        locked: false, maxLearners: 10, instructorKeyHash: "aa".repeat(32), labsEndAt: null, endedAt: null, follow: null,
      });
      assert.equal((await b.classByCode("ACDEFG"))?.id, "c0ffee0000000001");
      await c.updateClass("c0ffee0000000001", { locked: true });
      assert.equal((await a.getClass("c0ffee0000000001"))?.locked, true);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  test("postgres: a database written by a newer nslab is refused, not changed", async () => {
    const url = pg.createDatabase();
    const db = url.split("/").pop()!.split("?")[0]!;
    await (await PostgresClassStore.connect(url)).close();
    pg.psql("UPDATE nslab_schema SET version = 99", db);
    await assert.rejects(PostgresClassStore.connect(url), /newer nslab \(schema 99/);
    assert.equal(pg.psql("SELECT version FROM nslab_schema", db).trim(), "99");
  });

  test("a server with NSLAB_DATABASE_URL keeps class data in PostgreSQL: a restart with an empty data directory still has it", async () => {
    const url = pg.createDatabase();
    const a = await testServer({ NSLAB_DATABASE_URL: url });
    let c: { id: string; code: string; instructorKey: string };
    let ada: Awaited<ReturnType<typeof a.classes.join>>;
    try {
      const r = await api(a.url, "POST", "/api/classes", undefined, { title: "Shared", lessons: ["uts-namespaces"] });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      c = r.json;
      ada = await a.classes.join({ code: c.code, name: "Ada" }, "10.0.0.2");
      const solved = await api(a.url, "POST", `/api/labs/${ada.lab.id}/solve`, ada.lab.token, { lesson: "uts-namespaces", step: "read-the-names" });
      assert.equal(solved.status, 200, JSON.stringify(solved.json));
      assert.equal(fs.existsSync(path.join(a.config.dataDir, "classes.db")), false, "no SQLite file beside PostgreSQL");
    } finally {
      await a.close();
    }
    // another server (each test server has a data directory of its own): only the database is shared
    const b = await testServer({ NSLAB_DATABASE_URL: url });
    try {
      assert.notEqual(b.config.dataDir, a.config.dataDir);
      const roster = (await api(b.url, "GET", `/api/classes/${c.id}`, c.instructorKey)).json as RosterResponse;
      assert.equal(roster.learners[0]?.name, "Ada");
      assert.deepEqual(roster.learners[0]?.passed.map((p) => [p.step, p.via]), [["read-the-names", "solve"]]);
      const back = await b.classes.join({ code: c.code, name: "x", key: ada.key }, "10.0.0.2");
      assert.equal(back.learnerId, ada.learnerId);
    } finally {
      await b.close();
    }
  });
});
