/**
 * A class join on a full server (issue 9): the learner joins the class and takes a place in the
 * server's queue for a lab, in the same line as learners asking POST /api/labs, instead of a 503.
 * Asking again (POST /me/lab) gives the same place; the lab becomes the learner's when their turn
 * comes (GET /api/queue hands it over, and /me/lab then answers with it), and it works.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { JoinQueuedResponse } from "../../lib/classes.ts";
import type { CreateLabResponse, QueuedResponse, QueueView } from "../../lib/protocol.ts";
import { api, createLab, TermClient, testServer } from "../testing/harness.ts";

let s: Awaited<ReturnType<typeof testServer>>;
before(async () => {
  // two labs fill the server; no pool, so a free slot is what the queue waits for
  s = await testServer({ NSLAB_MAX_LABS: "2", NSLAB_POOL: "0", NSLAB_LABS_PER_CLIENT: "10", NSLAB_LABS_PER_MINUTE: "1000" });
});
after(async () => s?.close());

const poll = async (ticket: string, seen: number | null): Promise<QueueView> =>
  (await api(s.url, "GET", `/api/queue${seen === null ? "" : `?seen=${seen}&wait=20`}`, ticket)).json;

/** Long-polls a ticket until its lab is ready (generous deadline: labs are made for real). */
async function waitReady(ticket: string, first: QueueView): Promise<CreateLabResponse> {
  let v = first;
  const end = Date.now() + 60_000;
  while (v.state !== "ready") {
    assert.ok(v.state === "waiting" || v.state === "starting", `ticket went ${v.state}: ${v.message ?? ""}`);
    if (Date.now() > end) throw new Error(`timed out in the queue at ${JSON.stringify(v)}`);
    v = await poll(ticket, v.version);
  }
  return v.lab!;
}

test("a class join on a full server takes a place in the queue, served in order with other learners, and the lab is the learner's", async () => {
  const c = (await api(s.url, "POST", "/api/classes", undefined, { title: "Full house", lessons: ["uts-namespaces"] })).json;
  const first = await createLab(s.url);
  const second = await createLab(s.url);

  // the server is full: the join still makes a learner, with a place in the queue instead of a lab
  const j = await api(s.url, "POST", "/api/classes/join", undefined, { code: c.code, name: "Ada" });
  assert.equal(j.status, 202, JSON.stringify(j.json));
  const ada = j.json as JoinQueuedResponse;
  assert.equal(ada.lab, null);
  assert.equal(ada.queued.view.state, "waiting");
  assert.equal(ada.queued.view.position, 1);

  // asking again (the class page loads) gives the same place, not a second one
  const again = await api(s.url, "POST", `/api/classes/${ada.classId}/me/lab`, ada.key, {});
  assert.equal(again.status, 202, JSON.stringify(again.json));
  assert.equal((again.json as QueuedResponse).ticket, ada.queued.ticket);

  // a learner asking for a plain lab now waits behind her
  const bob = await api(s.url, "POST", "/api/labs", undefined, {});
  assert.equal(bob.status, 202, JSON.stringify(bob.json));
  assert.equal((bob.json as QueuedResponse).view.position, 2);

  // a slot frees: Ada (first in line) gets a lab, and it is her class lab
  await api(s.url, "DELETE", `/api/labs/${first.id}`, first.token);
  const adaLab = await waitReady(ada.queued.ticket, ada.queued.view);
  const bobView = await poll((bob.json as QueuedResponse).ticket, null);
  assert.equal(bobView.state, "waiting", "Bob is still in line");
  assert.equal(bobView.position, 1);
  const mine = await api(s.url, "POST", `/api/classes/${ada.classId}/me/lab`, ada.key, {});
  assert.equal(mine.status, 200, JSON.stringify(mine.json));
  assert.equal(mine.json.lab.id, adaLab.id, "the lab from the queue is her class lab");
  const roster = (await api(s.url, "GET", `/api/classes/${c.id}`, c.instructorKey)).json;
  assert.equal(roster.learners.find((l: { id: string }) => l.id === ada.learnerId)?.lab?.id, adaLab.id, "the dashboard shows it as hers");

  const term = new TermClient(s.url, adaLab);
  await term.opened;
  await term.until((t) => /# $/m.test(t.output), "a prompt in Ada's lab");
  assert.equal((await term.run("hostname")).trim(), adaLab.hostname);
  term.close();

  // the next slot goes to Bob
  await api(s.url, "DELETE", `/api/labs/${second.id}`, second.token);
  const bobLab = await waitReady((bob.json as QueuedResponse).ticket, bobView);
  assert.notEqual(bobLab.id, adaLab.id);
  await api(s.url, "DELETE", `/api/labs/${bobLab.id}`, bobLab.token);
  await api(s.url, "DELETE", `/api/classes/${c.id}?now=1`, c.instructorKey);
});
