import assert from "node:assert/strict";
import { test } from "node:test";
import { Admission, type AdmissionRequest, type GrantedLab } from "./admission.ts";

/** A fake lab pool: `max` slots, labs made on request, freed by `end`. */
function world(o: { maxLabs?: number; perClient?: number; perMinute?: number; mem?: number; reserve?: number } = {}) {
  const labs = new Map<string, string>(); // id -> ip
  let n = 0;
  let clock = 1_000_000;
  const w = {
    mem: o.mem ?? 8 * 1024 ** 3,
    made: [] as string[],
    discarded: [] as string[],
    failNext: null as null | Error,
    tick(ms: number) {
      clock += ms;
    },
    end(id: string) {
      labs.delete(id);
      adm.slotFreed();
    },
    labs,
  };
  const adm = new Admission(
    { maxLabs: o.maxLabs ?? 2, labsPerClient: o.perClient ?? 10, labsPerMinute: o.perMinute ?? 100, reserveBytes: o.reserve ?? 512 * 1024 ** 2 },
    {
      liveLabs: () => labs.size,
      liveForClient: (ip) => [...labs.values()].filter((x) => x === ip).length,
      memAvailable: () => w.mem,
      async create(req: AdmissionRequest): Promise<GrantedLab> {
        await new Promise((r) => setTimeout(r, 5));
        if (w.failNext) {
          const e = w.failNext;
          w.failNext = null;
          throw e;
        }
        const id = `lab${++n}`;
        labs.set(id, req.clientIp);
        w.made.push(`${id}@${req.clientIp}`);
        return { id, token: `tok-${id}` };
      },
      async discard(id) {
        w.discarded.push(id);
        labs.delete(id);
      },
      now: () => clock,
    },
    { abandonMs: 45_000, pickupMs: 60_000 },
  );
  return { adm, w };
}

const req = (ip: string): AdmissionRequest => ({ clientIp: ip, lesson: null });

/** Waits (a real clock, generous) until `pred` holds: the pump runs on timers and promises. */
async function until(pred: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test("made at once while there is room; queued in order when full; each served as a slot frees", async () => {
  const { adm, w } = world({ maxLabs: 2 });
  const a = await adm.request(req("10.0.0.1"));
  const b = await adm.request(req("10.0.0.2"));
  assert.deepEqual([a.kind, b.kind], ["created", "created"]);
  const q: Extract<Awaited<ReturnType<typeof adm.request>>, { kind: "queued" }>[] = [];
  for (const ip of ["10.0.0.3", "10.0.0.4", "10.0.0.5"]) {
    const o = await adm.request(req(ip));
    assert.equal(o.kind, "queued");
    q.push(o as Extract<typeof o, { kind: "queued" }>);
  }
  assert.deepEqual(q.map((x) => x.view.position), [1, 2, 3]);
  assert.equal(adm.queueLength, 3);

  // the third learner long-polls; the first lab ends: everyone moves up, the head gets a lab
  const third = adm.poll(q[2]!.ticket, q[2]!.view.version, 5_000);
  w.end((a as { lab: GrantedLab }).lab.id);
  assert.equal((await third).position, 2, "the poll answered when the position changed");
  await until(async () => (await adm.poll(q[0]!.ticket, null)).state === "ready", "the head served");
  const first = await adm.poll(q[0]!.ticket, null);
  assert.equal(first.state, "ready");
  assert.deepEqual(first.lab, { id: "lab3", token: "tok-lab3" });
  assert.equal(w.made.at(-1), "lab3@10.0.0.3");

  w.end((b as { lab: GrantedLab }).lab.id);
  w.end("lab3");
  await until(() => w.made.length === 5, "everyone served");
  assert.deepEqual(w.made, ["lab1@10.0.0.1", "lab2@10.0.0.2", "lab3@10.0.0.3", "lab4@10.0.0.4", "lab5@10.0.0.5"], "served in order");
  assert.equal((await adm.poll(q[2]!.ticket, null)).lab?.id, "lab5");
  adm.close();
});

test("a new request waits behind those already waiting, even when a slot is free at that moment", async () => {
  const { adm, w } = world({ maxLabs: 1 });
  await adm.request(req("a"));
  const q1 = await adm.request(req("b"));
  assert.equal(q1.kind, "queued");
  w.labs.clear(); // freed, but the pump has not run yet
  const late = await adm.request(req("c"));
  assert.equal(late.kind, "queued");
  assert.equal((late as { view: { position: number } }).view.position, 2);
  adm.close();
});

test("per address: a cap on live and waiting labs, and on labs per minute", async () => {
  const { adm } = world({ maxLabs: 1, perClient: 2, perMinute: 3 });
  assert.equal((await adm.request(req("1.1.1.1"))).kind, "created");
  assert.equal((await adm.request(req("1.1.1.1"))).kind, "queued");
  const capped = await adm.request(req("1.1.1.1"));
  assert.deepEqual([capped.kind, capped.kind === "refused" && capped.reason], ["refused", "too_many_labs"]);
  const { adm: adm2 } = world({ maxLabs: 100, perMinute: 3 });
  for (let i = 0; i < 3; i++) assert.equal((await adm2.request(req("2.2.2.2"))).kind, "created");
  const slow = await adm2.request(req("2.2.2.2"));
  assert.equal(slow.kind, "refused");
  assert.equal(slow.kind === "refused" && slow.reason, "rate_limited");
  assert.ok(slow.kind === "refused" && slow.retryAfterMs! > 0 && slow.retryAfterMs! <= 60_000);
  assert.match(slow.kind === "refused" ? slow.message : "", /starts in \d+ s/);
  assert.equal((await adm2.request(req("3.3.3.3"))).kind, "created", "other addresses are not slowed");
  adm.close();
  adm2.close();
});

test("below the memory reserve new labs wait, and say what for", async () => {
  const { adm, w } = world({ maxLabs: 10, mem: 100 * 1024 ** 2, reserve: 512 * 1024 ** 2 });
  const o = await adm.request(req("a"));
  assert.equal(o.kind, "queued");
  assert.equal((o as { view: { waitingFor: string } }).view.waitingFor, "memory");
  w.mem = 4 * 1024 ** 3;
  adm.slotFreed();
  await until(async () => (await adm.poll((o as { ticket: string }).ticket, null)).state === "ready", "served once memory is back");
  adm.close();
});

test("ghosts hold nothing: a learner who stops polling leaves the queue; a lab nobody picks up is destroyed", async () => {
  const { adm, w } = world({ maxLabs: 1 });
  const a = await adm.request(req("a"));
  const ghost = (await adm.request(req("ghost"))) as { ticket: string };
  const real = (await adm.request(req("real"))) as { ticket: string; view: { position: number } };
  assert.equal(real.view.position, 2);
  w.tick(30_000);
  await adm.poll(real.ticket, null); // real keeps asking
  w.tick(20_000);
  adm.slotFreed();
  await until(async () => (await adm.poll(ghost.ticket, null)).state === "gone", "the ghost dropped");
  assert.equal((await adm.poll(real.ticket, null)).position, 1, "moved up past the ghost");
  // the slot frees; "real" is made a lab but never comes back for it
  w.end((a as { lab: GrantedLab }).lab.id);
  await until(() => w.made.length === 2, "a lab made for the real learner");
  assert.equal(w.labs.size, 1);
  w.tick(61_000);
  adm.slotFreed();
  await until(() => w.discarded.length === 1, "the unpicked lab destroyed");
  assert.deepEqual(w.discarded, ["lab2"]);
  assert.equal(w.labs.size, 0);
  adm.close();
});

test("a failed creation fails that ticket only; a full manager keeps it first in line", async () => {
  const { adm, w } = world({ maxLabs: 1 });
  const a = await adm.request(req("a"));
  const t1 = (await adm.request(req("b"))) as { ticket: string };
  const t2 = (await adm.request(req("c"))) as { ticket: string };
  w.failNext = Object.assign(new Error("full after all"), { capacity: true });
  w.end((a as { lab: GrantedLab }).lab.id);
  await until(() => w.failNext === null && !(adm as unknown as { pumping: boolean }).pumping, "the attempt made");
  assert.deepEqual([(await adm.poll(t1.ticket, null)).position, (await adm.poll(t2.ticket, null)).position], [1, 2], "still first");
  w.failNext = new Error("clone: EPERM");
  adm.slotFreed();
  await until(async () => (await adm.poll(t2.ticket, null)).state === "ready", "the next one served");
  const f = await adm.poll(t1.ticket, null);
  assert.deepEqual([f.state, f.message], ["failed", "The lab could not be created. Try again."]);
  assert.equal((await adm.poll(t2.ticket, null)).state, "ready", "the next one is served");
  adm.close();
});

test("drain: no new labs, the queue is told; undrain takes them again", async () => {
  const { adm } = world({ maxLabs: 1 });
  await adm.request(req("a"));
  const t = (await adm.request(req("b"))) as { ticket: string };
  adm.drain();
  assert.equal(adm.accepting, false);
  const r = await adm.request(req("c"));
  assert.equal(r.kind === "refused" && r.reason, "draining");
  const v = await adm.poll(t.ticket, null);
  assert.equal(v.state, "failed");
  assert.match(v.message!, /not starting new labs/);
  adm.drain(false);
  assert.equal((await adm.request(req("d"))).kind, "queued");
  adm.close();
});

test("cancel leaves the queue; an unknown ticket is gone", async () => {
  const { adm } = world({ maxLabs: 0 });
  const t = (await adm.request(req("a"))) as { ticket: string };
  assert.equal(adm.cancel(t.ticket), true);
  assert.equal(adm.queueLength, 0);
  assert.equal((await adm.poll(t.ticket, null)).state, "gone");
  assert.equal((await adm.poll("nonsense", null)).state, "gone");
  adm.close();
});

test("an admitted request (a class join): no per-address cap or rate, its own maker, but the same line when full", async () => {
  const { adm, w } = world({ maxLabs: 2, perClient: 1, perMinute: 1 });
  const classLab = (name: string) => async (): Promise<GrantedLab> => {
    w.labs.set(name, "class:c1"); // the manager files class labs under their class, not an address
    w.made.push(`${name}@class`);
    return { id: name, token: `tok-${name}` };
  };
  const room = (ip: string, name: string): AdmissionRequest => ({ clientIp: ip, lesson: null, admitted: true, make: classLab(name) });
  // one classroom address: neither the cap of 1 nor the rate of 1 a minute applies to its joins
  assert.equal((await adm.request(room("10.9.9.9", "ada"))).kind, "created");
  assert.equal((await adm.request(room("10.9.9.9", "bob"))).kind, "created");
  // full: the next join waits; a plain request from the classroom's address still gets its place
  const cy = await adm.request(room("10.9.9.9", "cy"));
  assert.equal(cy.kind, "queued");
  const plain = await adm.request(req("10.9.9.9"));
  assert.equal(plain.kind, "queued", "queued class joins are not held against the address");
  assert.equal(plain.kind === "queued" && plain.view.position, 2);
  assert.equal(adm.state((cy as { ticket: string }).ticket), "waiting");
  w.end("ada");
  await until(async () => (await adm.poll((cy as { ticket: string }).ticket, null)).state === "ready", "the join served first, by its own maker");
  assert.deepEqual(w.made, ["ada@class", "bob@class", "cy@class"]);
  assert.deepEqual((await adm.poll((cy as { ticket: string }).ticket, null)).lab, { id: "cy", token: "tok-cy" });
  adm.close();
});
