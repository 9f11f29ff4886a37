/**
 * Access mode "code" with classes (issue 9 "Access modes", issue 11): making a class needs the
 * workshop access code (or the operator key); a learner who joins a class with its join code gets a
 * lab without any workshop code (the class join is their admission), rejoining as often as a
 * classroom behind one address needs; wrong class codes count against the address with wrong
 * workshop codes, and /metrics counts the refusals by kind.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { JoinResponse } from "../../lib/classes.ts";
import { api, TermClient, testServer } from "../testing/harness.ts";

const CODE = "workshop-2026-access";
const KEY = "operator-key-5d1e0c9b7a2f4e11";
let s: Awaited<ReturnType<typeof testServer>>;
before(async () => {
  s = await testServer({ NSLAB_ACCESS: "code", NSLAB_ACCESS_CODES: CODE, NSLAB_OPERATOR_KEY: KEY });
});
after(async () => s?.close());

const newClass = (extra: Record<string, unknown> = {}, token?: string) => api(s.url, "POST", "/api/classes", token, { title: "Workshop", lessons: ["uts-namespaces"], ...extra });

test("code mode: a class needs the workshop code to be made, and its join code is a learner's admission", async () => {
  assert.equal((await api(s.url, "POST", "/api/labs", undefined, {})).json.error, "code_required", "a lab of one's own needs the workshop code");
  assert.deepEqual([(await newClass()).status, (await newClass()).json.error], [401, "code_required"], "so does a class");
  assert.deepEqual([(await newClass({ accessCode: "not-the-code" })).status, (await newClass({ accessCode: "not-the-code" })).json.error], [403, "wrong_code"]);
  assert.equal((await newClass({}, KEY)).status, 201, "the operator key makes a class too");
  const made = await newClass({ accessCode: CODE });
  assert.equal(made.status, 201, JSON.stringify(made.json));
  const c = made.json as { id: string; code: string; instructorKey: string };

  // the learner has only the class's code: they join and get a working lab
  const joined = await api(s.url, "POST", "/api/classes/join", undefined, { code: c.code, name: "Ada" });
  assert.equal(joined.status, 201, JSON.stringify(joined.json));
  const ada = joined.json as JoinResponse;
  const term = new TermClient(s.url, ada.lab);
  await term.opened;
  await term.until((t) => /# $/m.test(t.output), "a prompt in the class lab");
  await term.run("echo admitted-by-$((40+2))");
  assert.match(term.output, /admitted-by-42/);
  term.close();

  // a classroom behind one address: more joins than the guess limit (10) are no guesses at all
  for (let i = 0; i < 12; i++) {
    const again = await api(s.url, "POST", "/api/classes/join", undefined, { code: c.code, name: "Ada", key: ada.key });
    assert.equal(again.status, 200, `rejoin ${i}: ${JSON.stringify(again.json)}`);
    assert.equal(again.json.lab.id, ada.lab.id);
  }
  const own = await api(s.url, "POST", "/api/labs", undefined, { code: CODE });
  assert.equal(own.status, 201, `the address is not locked out by its learners: ${JSON.stringify(own.json)}`);
  await api(s.url, "DELETE", `/api/labs/${own.json.id}`, own.json.token);

  // wrong class codes are guesses like wrong workshop codes: after the limit, the address waits for both
  let last = 0;
  for (let i = 0; i < 11; i++) last = (await api(s.url, "POST", "/api/classes/join", undefined, { code: "222222", name: "guess" })).status;
  assert.equal(last, 429);
  const locked = await api(s.url, "POST", "/api/labs", undefined, { code: CODE });
  assert.deepEqual([locked.status, locked.json.error], [429, "locked_out"], "wrong class codes lock the workshop code out too");

  const metrics = await (await fetch(`${s.url}/metrics`)).text();
  const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, "\\$&")} (\\S+)$`, "m").exec(metrics)?.[1] ?? 0);
  assert.ok(value('nslab_access_denied_total{what="code",why="missing"}') >= 3, "refusals by kind and reason");
  assert.ok(value('nslab_access_denied_total{what="code",why="wrong"}') >= 2);
  // 2 wrong workshop codes + 8 wrong class codes reach the limit of 10; the rest were locked out
  assert.equal(value('nslab_access_denied_total{what="class",why="wrong"}'), 8);
  assert.ok(value('nslab_access_denied_total{what="class",why="locked"}') >= 1);
  assert.ok(value('nslab_access_denied_total{what="code",why="locked"}') >= 1);
  assert.equal(value('nslab_class_joins_total{kind="new"}'), 1);
  assert.equal(value('nslab_class_joins_total{kind="rejoin"}'), 12);
  await api(s.url, "DELETE", `/api/classes/${c.id}?now=1`, c.instructorKey);
});
