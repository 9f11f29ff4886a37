/**
 * Issue 15's "done when", on this one machine: 3 agents, each its own process in its own network
 * namespace with its own address (made here with ip netns and veth pairs), 2 web replicas sharing
 * the lab directory in Redis. Labs spread over the agents; terminals and the Explorer through the
 * web tier; the second replica serves the first one's labs; draining an agent; killing an agent
 * (SIGKILL): its learners are told (410 agent-lost on both replicas, their sockets close), new labs
 * go elsewhere, and the other labs are untouched. And a class across the replicas, its data in
 * PostgreSQL: made on replica A, joined through B, its learners' labs on several agents, progress
 * from a real check on A's dashboard, the broadcast and looking over a shoulder through either
 * replica; when A goes, B takes the class over with its learners' labs. An agent cut off by a
 * network split is declared dead, and the labs given up for end there once it answers again.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { api, createLab, TermClient } from "../testing/harness.ts";
import { clusterSecret, explorerSnapshot, testWeb } from "../testing/cluster.ts";
import { agentEnv, makeNetns, startAgentIn, type AgentProcess, type Netns } from "../testing/netns.ts";
import { startRedis, type TestRedis } from "../testing/redis.ts";
import { startPostgres, type TestPostgres } from "../testing/postgres.ts";
import { ClassSock } from "../testing/classes.ts";
import { startServerProcess } from "../testing/server-process.ts";
import type { JoinResponse, RosterResponse } from "../../lib/classes.ts";

const secret = clusterSecret();
const operatorKey = "operator-key-for-the-cluster-test";
const nets: Netns[] = [];
const agents: AgentProcess[] = [];
const envs: Record<string, string>[] = [];
let redis: TestRedis;
let pg: TestPostgres;
let dbUrl = "";
let webA: Awaited<ReturnType<typeof testWeb>>;
let webB: Awaited<ReturnType<typeof testWeb>>;
type Lab = Awaited<ReturnType<typeof createLab>>;
const open: TermClient[] = [];
const socks: ClassSock[] = [];

before(async () => {
  redis = await startRedis();
  pg = startPostgres();
  dbUrl = pg.createDatabase();
  for (let n = 1; n <= 3; n++) {
    const ns = makeNetns(n);
    nets.push(ns);
    envs.push({ ...agentEnv(n), NSLAB_POOL: "1", NSLAB_MAX_LABS: "12" });
    agents.push(await startAgentIn(ns, `agent${n}`, secret, envs[n - 1]!));
  }
  const list = agents.map((a) => ({ name: a.name, url: a.url }));
  const env = {
    NSLAB_REDIS_URL: redis.url,
    NSLAB_DATABASE_URL: dbUrl,
    NSLAB_CLASS_LEASE_MS: "3000",
    NSLAB_OPERATOR_KEY: operatorKey,
    NSLAB_LABS_PER_MINUTE: "1000",
    NSLAB_LABS_PER_CLIENT: "100",
  };
  webA = await testWeb(secret, list, env);
  webB = await testWeb(secret, list, env);
});

after(async () => {
  for (const t of open) t.close();
  for (const c of socks) c.close();
  await webA?.close();
  await webB?.close();
  await Promise.all(agents.map((a) => a.stop()));
  for (const ns of nets) ns.remove();
  await redis?.stop();
  pg?.stop();
});

const agentOf = async (lab: Lab) => (await webA.routes.get(lab.id))!.agent;
const prompt = (t: TermClient) => t.until((c) => /[#$] $/.test(c.output), "prompt", 20_000);
async function terminal(base: string, lab: Lab): Promise<TermClient> {
  const t = new TermClient(base, lab);
  open.push(t);
  await t.opened;
  await prompt(t);
  return t;
}
async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const labs: Lab[] = [];

test("labs made through web spread over the three agents, each on its own address", async () => {
  for (let i = 0; i < 6; i++) labs.push(await createLab(webA.url));
  const where = await Promise.all(labs.map(agentOf));
  for (const a of agents) assert.ok(where.filter((w) => w === a.name).length >= 1, `${a.name} got a lab: ${where}`);
  assert.deepEqual(new Set(agents.map((a) => new URL(a.url).hostname)).size, 3, "three addresses");
});

test("terminals and the Explorer work through the web tier, on every agent", async () => {
  const where = await Promise.all(labs.map(agentOf));
  for (const a of agents) {
    const lab = labs[where.indexOf(a.name)]!;
    const t = await terminal(webA.url, lab);
    assert.equal((await t.run("hostname")).trim(), lab.hostname);
    const snap = await explorerSnapshot(webA.url, lab);
    assert.ok(snap.snapshot.processes.some((p) => p.comm === "bash"), `the Explorer of a lab on ${a.name} sees its shell`);
    const check = await api(webA.url, "GET", `/api/labs/${lab.id}/processes`, lab.token);
    assert.equal(check.status, 200);
  }
});

test("a second web replica serves the same labs (directory in Redis)", async () => {
  for (const lab of labs) {
    const st = await api(webB.url, "GET", `/api/labs/${lab.id}`, lab.token);
    assert.equal(st.status, 200, lab.id);
  }
  const t = await terminal(webB.url, labs[1]!);
  assert.equal((await t.run("echo $((6*7))")).trim(), "42");
  // and a lab made through B is known to A
  const viaB = await createLab(webB.url);
  labs.push(viaB);
  assert.equal((await api(webA.url, "GET", `/api/labs/${viaB.id}`, viaB.token)).status, 200);
});

test("a drained agent gets no new labs, and its labs run on", async () => {
  const drained = agents[2]!;
  const auth = `Bearer ${operatorKey}`;
  const r = await fetch(`${webA.url}/api/admin/agents/${drained.name}/drain`, { method: "POST", headers: { authorization: auth } });
  assert.equal(r.status, 200);
  assert.equal((await r.json()).health.draining, true);
  // web B learns it from the agent's own health report
  await until(async () => webB.pool.get(drained.name)!.health?.draining, (v) => v === true, "B sees the drain");
  const fresh: Lab[] = [];
  for (let i = 0; i < 4; i++) fresh.push(await createLab(i % 2 ? webA.url : webB.url));
  for (const l of fresh) assert.notEqual(await agentOf(l), drained.name);
  labs.push(...fresh);
  const where = await Promise.all(labs.map(agentOf));
  const onDrained = labs.filter((_, i) => where[i] === drained.name);
  assert.ok(onDrained.length);
  for (const l of onDrained) assert.equal((await api(webB.url, "GET", `/api/labs/${l.id}`, l.token)).status, 200);
  assert.equal((await fetch(`${webA.url}/api/admin/agents/${drained.name}/drain`, { method: "DELETE", headers: { authorization: auth } })).status, 200);
});

test("killing an agent: its learners are told, new labs go elsewhere, the other labs are untouched", async () => {
  const dead = agents[0]!;
  const where = await Promise.all(labs.map(agentOf));
  const lost = labs.filter((_, i) => where[i] === dead.name);
  const kept = labs.filter((_, i) => where[i] !== dead.name);
  assert.ok(lost.length && kept.length);
  const lostTerm = await terminal(webB.url, lost[0]!);
  const keptTerm = await terminal(webA.url, kept[0]!);
  const closed = new Promise<void>((r) => lostTerm.ws.once("close", () => r()));
  dead.child.kill("SIGKILL");
  await closed;
  for (const web of [webA, webB])
    for (const l of lost) {
      const st = await until(() => api(web.url, "GET", `/api/labs/${l.id}`, l.token), (r) => r.status === 410, `410 for ${l.id}`);
      assert.equal(st.json.reason, "agent-lost");
      assert.match(st.json.message, /stopped answering/);
    }
  // the other agents' labs: the open terminal goes on, every lab answers
  assert.equal((await keptTerm.run("echo still-$((2+3))")).trim(), "still-5");
  for (const l of kept) assert.equal((await api(webB.url, "GET", `/api/labs/${l.id}`, l.token)).status, 200);
  // the learner's "start a fresh lab" lands on a live agent
  for (let i = 0; i < 3; i++) {
    const fresh = await createLab(webB.url);
    assert.notEqual(await agentOf(fresh), dead.name);
    labs.push(fresh);
  }
  for (const l of labs.filter((l) => !lost.includes(l))) await api(webA.url, "DELETE", `/api/labs/${l.id}`, l.token);
  // the dead agent's node cleans up after it when it starts again (state dir lock, cgroups, processes)
  agents[0] = await startAgentIn(nets[0]!, dead.name, secret, envs[0]!);
  await until(async () => webA.pool.get(dead.name)!.up, (v) => v, "agent1 back in rotation");
});

test("an address's labs per minute hold across the replicas (the window in Redis)", async () => {
  const list = agents.map((a) => ({ name: a.name, url: a.url }));
  const env = { NSLAB_REDIS_URL: redis.url, NSLAB_LABS_PER_MINUTE: "2", NSLAB_TRUST_PROXY: "1" };
  const [c, d] = [await testWeb(secret, list, env), await testWeb(secret, list, env)];
  const make = (web: typeof c) => fetch(`${web.url}/api/labs`, { method: "POST", headers: { "content-type": "application/json", "x-forwarded-for": "10.66.0.7" }, body: "{}" });
  try {
    const made: Lab[] = [];
    for (const web of [c, d]) {
      const r = await make(web);
      assert.equal(r.status, 201);
      made.push(await r.json());
    }
    const third = await make(c);
    assert.equal(third.status, 429);
    assert.equal((await third.json()).error, "rate_limited");
    for (const l of made) await api(c.url, "DELETE", `/api/labs/${l.id}`, l.token);
  } finally {
    await c.close();
    await d.close();
  }
});

test("an agent cut off by the network is declared dead; when it answers again, the labs given up for end there", async () => {
  const cut = agents[1]!;
  const mine: Lab[] = [];
  for (let i = 0; i < 12 && mine.length < 2; i++) {
    const l = await createLab(webB.url);
    if ((await agentOf(l)) === cut.name) mine.push(l);
    else await api(webB.url, "DELETE", `/api/labs/${l.id}`, l.token);
  }
  assert.ok(mine.length, `labs on ${cut.name}`);
  const held = async () => {
    const r = await fetch(`${cut.url}/internal/labs`, { headers: { "x-nslab-internal": secret } });
    return ((await r.json()) as { labs: { id: string }[] }).labs.map((l) => l.id);
  };
  for (const l of mine) assert.ok((await held()).includes(l.id));
  nets[1]!.partition(true);
  try {
    for (const web of [webA, webB]) await until(async () => web.pool.get(cut.name)!.up, (v) => !v, `${cut.name} declared dead`);
    for (const l of mine) assert.equal((await api(webA.url, "GET", `/api/labs/${l.id}`, l.token)).json.reason, "agent-lost");
  } finally {
    nets[1]!.partition(false);
  }
  await until(async () => webA.pool.get(cut.name)!.up && webB.pool.get(cut.name)!.up, (v) => v, `${cut.name} back`);
  // the agent ran on meanwhile: nothing may keep the lost labs alive there
  await until(held, (ids) => !mine.some((l) => ids.includes(l.id)), "the lost labs ended on the agent");
  for (const l of mine) assert.equal((await api(webB.url, "GET", `/api/labs/${l.id}`, l.token)).json.reason, "agent-lost");
});

test("a class across the replicas: made on A, joined through B, labs on several agents, progress, broadcast and watching through either", async () => {
  const sock = async (base: string, path: string, token: string) => {
    const c = new ClassSock(base, path, token);
    socks.push(c);
    await c.opened;
    return c;
  };
  const made = await api(webA.url, "POST", "/api/classes", undefined, { title: "Across replicas", lessons: ["uts-namespaces"] });
  assert.equal(made.status, 201, JSON.stringify(made.json));
  const c = made.json as { id: string; code: string; instructorKey: string };
  const dash = await sock(webA.url, `/api/classes/${c.id}/dashboard`, c.instructorKey);

  // four learners join through B (A owns the class: B routes the join to it by the code's class)
  const learners: JoinResponse[] = [];
  for (const name of ["Ada", "Bo", "Cy", "Di"]) {
    const r = await api(webB.url, "POST", "/api/classes/join", undefined, { code: c.code, name });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    learners.push(r.json as JoinResponse);
  }
  const [ada, bo] = learners as [JoinResponse, JoinResponse];
  const where = await Promise.all(learners.map((l) => webB.routes.get(l.lab.id).then((r) => r!.agent)));
  assert.ok(new Set(where).size >= 2, `the class's labs spread over agents: ${where}`);
  await dash.until(() => dash.msgs.some((m) => m.type === "class" && (m.class as { learners: number }).learners === 4), "A's dashboard counts the four");

  // learners' control sockets on both replicas; Ada's terminal through B, her check through B
  const adaCtl = await sock(webB.url, `/api/classes/${c.id}/learner`, ada.key);
  const boCtl = await sock(webA.url, `/api/classes/${c.id}/learner`, bo.key);
  const adaTerm = await terminal(webB.url, { id: ada.lab.id, token: ada.lab.token } as Lab);
  adaCtl.json({ type: "position", lesson: "uts-namespaces", step: null, terminal: adaTerm.ready!.terminal });
  const release = /^Linux \S+ (\S+) /m.exec(await adaTerm.run("uname -a"))?.[1];
  assert.ok(release);
  const check = await api(webB.url, "POST", `/api/labs/${ada.lab.id}/check`, ada.lab.token, { lesson: "uts-namespaces", step: "read-the-names", answer: release });
  assert.equal(check.json.passed, true, JSON.stringify(check.json));
  const passedOn = (m: Record<string, unknown>) =>
    (m.learners as { id: string; passed: { step: string }[] }[]).some((l) => l.id === ada.learnerId && l.passed.some((p) => p.step === "read-the-names"));
  await dash.until(() => dash.has("learners", passedOn), "Ada's pass on A's dashboard");
  await adaCtl.until(() => adaCtl.has("passed"), "Ada's page hears of her pass (through B)");

  // looking over Ada's shoulder, from B; her shell is on an agent, the class on A
  const watch = await sock(webB.url, `/api/classes/${c.id}/learners/${ada.learnerId}/watch`, c.instructorKey);
  await watch.until(() => watch.text.includes("Linux"), "Ada's screen, at once");
  adaTerm.send("echo watched-$((6*7))\r");
  await watch.until(() => watch.text.includes("watched-42"), "Ada's live output");

  // the broadcast: the instructor's demo lab (made through B), on air; learners watch through A and B
  const demo = await api(webB.url, "POST", `/api/classes/${c.id}/instructor-lab`, c.instructorKey, {});
  assert.equal(demo.status, 200, JSON.stringify(demo.json));
  const demoLab = (demo.json as { lab: Lab }).lab;
  const demoTerm = await terminal(webA.url, demoLab);
  await until(
    () => api(webB.url, "POST", `/api/classes/${c.id}/stage`, c.instructorKey, { source: "instructor" }),
    (r) => r.status === 200 && (r.json as { live: boolean }).live,
    "the stage is live once the owner knows the demo terminal",
  );
  const onB = await sock(webB.url, `/api/classes/${c.id}/broadcast`, ada.key);
  const onA = await sock(webA.url, `/api/classes/${c.id}/broadcast`, bo.key);
  demoTerm.send("echo on-air-$((40+2))\r");
  await onB.until(() => onB.text.includes("on-air-42"), "the broadcast through B");
  await onA.until(() => onA.text.includes("on-air-42"), "the broadcast through A");

  // A goes (a rolling update): B takes the class over from the store, with the learners' labs
  await webA.close();
  await adaCtl.until(() => adaCtl.closedWith !== null, "sockets through A's class close (the page reconnects)");
  const roster = await until(
    () => api(webB.url, "GET", `/api/classes/${c.id}`, c.instructorKey),
    (r) => r.status === 200,
    "B serves the class",
  );
  const rows = (roster.json as RosterResponse).learners;
  assert.equal(rows.length, 4);
  const adaRow = rows.find((l) => l.id === ada.learnerId)!;
  assert.ok(adaRow.passed.some((p) => p.step === "read-the-names"), "her progress, from PostgreSQL");
  assert.equal(adaRow.lab?.id, ada.lab.id, "her running lab is hers again");
  const back = await api(webB.url, "POST", "/api/classes/join", undefined, { code: c.code, name: "x", key: ada.key });
  assert.equal(back.status, 200, JSON.stringify(back.json));
  assert.equal((back.json as JoinResponse).lab.id, ada.lab.id);
  assert.equal((await adaTerm.run("echo same-lab")).trim(), "same-lab");
  assert.equal((await api(webB.url, "DELETE", `/api/classes/${c.id}?now=1`, c.instructorKey)).status, 202);
  await until(() => api(webB.url, "GET", `/api/labs/${bo.lab.id}`, bo.lab.token), (r) => r.status === 410, "the class's end puts its labs away");
});

test("a class owner killed outright: its lease lapses and another replica takes the class over", async () => {
  const owner = await startServerProcess({
    NSLAB_ROLE: "web",
    NSLAB_INTERNAL_SECRET: secret,
    NSLAB_AGENTS: agents.map((a) => `${a.name}=${a.url}`).join(","),
    NSLAB_AGENT_HEALTH_MS: "200",
    NSLAB_REDIS_URL: redis.url,
    NSLAB_DATABASE_URL: dbUrl,
    NSLAB_CLASS_LEASE_MS: "3000",
  });
  let killed = false;
  try {
    const made = await api(owner.url, "POST", "/api/classes", undefined, { title: "Owner dies", lessons: ["uts-namespaces"] });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    const c = made.json as { id: string; code: string; instructorKey: string };
    const joined = await api(webB.url, "POST", "/api/classes/join", undefined, { code: c.code, name: "Eve" });
    assert.equal(joined.status, 201, JSON.stringify(joined.json));
    const eve = joined.json as JoinResponse;
    owner.proc.kill("SIGKILL");
    killed = true;
    await owner.exited;
    // until the lease lapses B answers 503 class_moving; then B owns the class, with Eve and her lab
    const seen = new Set<number>();
    const roster = await until(
      async () => {
        const r = await api(webB.url, "GET", `/api/classes/${c.id}`, c.instructorKey);
        seen.add(r.status);
        return r;
      },
      (r) => r.status === 200,
      "B takes the class over",
    );
    assert.deepEqual([...seen].filter((s) => s !== 200 && s !== 503), [], `only 503 class_moving before: ${[...seen]}`);
    const row = (roster.json as RosterResponse).learners.find((l) => l.id === eve.learnerId);
    assert.equal(row?.lab?.id, eve.lab.id, "her lab, still running on its agent, is hers again");
    assert.equal((await api(webB.url, "DELETE", `/api/classes/${c.id}?now=1`, c.instructorKey)).status, 202);
  } finally {
    if (!killed) await owner.stop();
  }
});
