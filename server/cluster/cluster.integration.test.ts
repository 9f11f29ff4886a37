/**
 * Issue 15's "done when", on this one machine: 3 agents, each its own process in its own network
 * namespace with its own address (made here with ip netns and veth pairs), 2 web replicas sharing
 * the lab directory in Redis. Labs spread over the agents; terminals and the Explorer through the
 * web tier; the second replica serves the first one's labs; draining an agent; killing an agent
 * (SIGKILL): its learners are told (410 agent-lost on both replicas, their sockets close), new labs
 * go elsewhere, and the other labs are untouched.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { api, createLab, TermClient } from "../testing/harness.ts";
import { clusterSecret, explorerSnapshot, testWeb } from "../testing/cluster.ts";
import { agentEnv, makeNetns, startAgentIn, type AgentProcess, type Netns } from "../testing/netns.ts";
import { startRedis, type TestRedis } from "../testing/redis.ts";

const secret = clusterSecret();
const operatorKey = "operator-key-for-the-cluster-test";
const nets: Netns[] = [];
const agents: AgentProcess[] = [];
const envs: Record<string, string>[] = [];
let redis: TestRedis;
let webA: Awaited<ReturnType<typeof testWeb>>;
let webB: Awaited<ReturnType<typeof testWeb>>;
type Lab = Awaited<ReturnType<typeof createLab>>;
const open: TermClient[] = [];

before(async () => {
  redis = await startRedis();
  for (let n = 1; n <= 3; n++) {
    const ns = makeNetns(n);
    nets.push(ns);
    envs.push({ ...agentEnv(n), NSLAB_POOL: "1", NSLAB_MAX_LABS: "12" });
    agents.push(await startAgentIn(ns, `agent${n}`, secret, envs[n - 1]!));
  }
  const list = agents.map((a) => ({ name: a.name, url: a.url }));
  const env = { NSLAB_REDIS_URL: redis.url, NSLAB_OPERATOR_KEY: operatorKey, NSLAB_LABS_PER_MINUTE: "1000", NSLAB_LABS_PER_CLIENT: "100" };
  webA = await testWeb(secret, list, env);
  webB = await testWeb(secret, list, env);
});

after(async () => {
  for (const t of open) t.close();
  await webA?.close();
  await webB?.close();
  await Promise.all(agents.map((a) => a.stop()));
  for (const ns of nets) ns.remove();
  await redis?.stop();
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
