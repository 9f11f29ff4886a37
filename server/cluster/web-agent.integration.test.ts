/**
 * NSLAB_ROLE=web in front of NSLAB_ROLE=agent servers, in one process on loopback (the
 * multi-machine test with network namespaces is cluster.integration.test.ts): the internal
 * secret, routing of the lab API and sockets through web, the directory, agent loss.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { api, createLab, TermClient } from "../testing/harness.ts";
import { clusterSecret, explorerSnapshot, testAgent, testWeb } from "../testing/cluster.ts";
import { INTERNAL_HEADER } from "./secret.ts";

const secret = clusterSecret();
let a1: Awaited<ReturnType<typeof testAgent>>;
let a2: Awaited<ReturnType<typeof testAgent>>;
let web: Awaited<ReturnType<typeof testWeb>>;

before(async () => {
  a1 = await testAgent(secret);
  a2 = await testAgent(secret);
  web = await testWeb(secret, [
    { name: "a1", url: a1.url },
    { name: "a2", url: a2.url },
  ]);
});
after(async () => {
  await web?.close();
  await a1?.close();
  await a2?.close();
});

test("an agent answers nothing without the internal secret (but the kubelet's probes)", async () => {
  const tries: Record<string, string>[] = [{}, { [INTERNAL_HEADER]: "wrong" }, { [INTERNAL_HEADER]: secret.slice(0, -1) }];
  for (const headers of tries) {
    for (const path of ["/api/health", "/internal/health", "/api/labs"]) {
      const r = await fetch(a1.url + path, { method: path === "/api/labs" ? "POST" : "GET", headers });
      assert.equal(r.status, 401, `${path} with ${JSON.stringify(headers)}`);
      await r.body?.cancel();
    }
  }
  const ok = await fetch(a1.url + "/internal/health", { headers: { [INTERNAL_HEADER]: secret } });
  assert.equal(ok.status, 200);
  const h = await ok.json();
  assert.equal(h.labs, a1.mgr.count);
  assert.equal((await fetch(a1.url + "/healthz")).status, 200);
  // a WebSocket upgrade without the secret is refused before any lab lookup
  const lab = await createLab(web.url);
  const t = new TermClient(a1.url, lab);
  await assert.rejects(t.opened, /401/);
  await api(web.url, "DELETE", `/api/labs/${lab.id}`, lab.token);
});

test("an address's lab cap holds across agents (each agent alone sees only its share)", async () => {
  const capped = await testWeb(
    secret,
    [
      { name: "a1", url: a1.url },
      { name: "a2", url: a2.url },
    ],
    { NSLAB_LABS_PER_CLIENT: "2", NSLAB_TRUST_PROXY: "1" },
  );
  const make = () => fetch(`${capped.url}/api/labs`, { method: "POST", headers: { "content-type": "application/json", "x-forwarded-for": "10.77.0.9" }, body: "{}" });
  try {
    const labs: { id: string; token: string }[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await make();
      assert.equal(r.status, 201);
      labs.push(await r.json());
    }
    const where = await Promise.all(labs.map(async (l) => (await capped.routes.get(l.id))!.agent));
    // (no other lab is left on either agent here: the two spread, one each)
    assert.deepEqual(new Set(where), new Set(["a1", "a2"]), `one on each agent: ${where}`);
    const third = await make();
    assert.equal(third.status, 429);
    assert.equal((await third.json()).error, "too_many_labs");
    // one closed: room for one more
    await api(capped.url, "DELETE", `/api/labs/${labs[0]!.id}`, labs[0]!.token);
    const again = await make();
    assert.equal(again.status, 201);
    for (const l of [labs[1]!, await again.json()]) await api(capped.url, "DELETE", `/api/labs/${l.id}`, l.token);
  } finally {
    await capped.close();
  }
});

test("labs made through web land on agents; their API, terminal and Explorer go through web", async () => {
  const labs = [];
  for (let i = 0; i < 4; i++) labs.push(await createLab(web.url));
  const where = await Promise.all(labs.map(async (l) => (await web.routes.get(l.id))!.agent));
  assert.deepEqual(new Set(where), new Set(["a1", "a2"]), `spread over both agents: ${where}`);
  for (const [i, l] of labs.entries()) {
    const agent = where[i] === "a1" ? a1 : a2;
    assert.ok(agent.mgr.get(l.id), "the lab is on the agent the directory names");
    assert.ok(!(where[i] === "a1" ? a2 : a1).mgr.get(l.id));
  }
  const lab = labs[0]!;
  const st = await api(web.url, "GET", `/api/labs/${lab.id}`, lab.token);
  assert.equal(st.status, 200);
  assert.equal(st.json.id, lab.id);
  assert.equal((await api(web.url, "GET", `/api/labs/${lab.id}`, labs[1]!.token)).status, 404, "another lab's token");
  assert.equal((await api(web.url, "GET", `/api/labs/${lab.id}`)).status, 401);
  const t = new TermClient(web.url, lab);
  await t.opened;
  await t.until((c) => /[#$] $/.test(c.output), "prompt");
  assert.equal((await t.run("hostname")).trim(), lab.hostname);
  const check = await api(web.url, "GET", `/api/labs/${lab.id}/processes`, lab.token);
  assert.equal(check.status, 200);
  const snap = await explorerSnapshot(web.url, lab);
  assert.ok(snap.snapshot.processes.some((p) => p.comm === "bash"), "the Explorer through web sees the shell");
  t.close();
  for (const l of labs) assert.equal((await api(web.url, "DELETE", `/api/labs/${l.id}`, l.token)).status, 204);
  assert.equal(await web.routes.get(lab.id), null, "a deleted lab leaves the directory");
});

test("a draining agent gets no new labs; its labs run on", async () => {
  const before = await createLab(web.url);
  const home = (await web.routes.get(before.id))!.agent;
  const other = home === "a1" ? "a2" : "a1";
  const key = { [INTERNAL_HEADER]: secret };
  const target = home === "a1" ? a1 : a2;
  assert.equal((await fetch(`${target.url}/internal/drain`, { method: "POST", headers: key })).status, 200);
  await new Promise((r) => setTimeout(r, 600));
  const made = [];
  for (let i = 0; i < 3; i++) made.push(await createLab(web.url));
  for (const l of made) assert.equal((await web.routes.get(l.id))!.agent, other);
  assert.equal((await api(web.url, "GET", `/api/labs/${before.id}`, before.token)).status, 200, "the drained agent's lab runs on");
  await fetch(`${target.url}/internal/drain`, { method: "DELETE", headers: key });
  // web takes it back once its next health report says so
  for (let i = 0; i < 200 && web.pool.get(home)!.health?.draining !== false; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(web.pool.get(home)!.health?.draining, false);
  for (const l of [before, ...made]) await api(web.url, "DELETE", `/api/labs/${l.id}`, l.token);
});

test("an agent that dies: its labs answer 410 agent-lost (its open terminal closes), new labs go elsewhere, the others run on", async () => {
  const labs = [];
  for (let i = 0; i < 4; i++) labs.push(await createLab(web.url));
  const where = await Promise.all(labs.map(async (l) => (await web.routes.get(l.id))!.agent));
  const lost = labs.filter((_, i) => where[i] === "a2");
  const kept = labs.filter((_, i) => where[i] === "a1");
  assert.ok(lost.length && kept.length, `both agents hold labs: ${where}`);
  const t = new TermClient(web.url, lost[0]!);
  await t.opened;
  await t.until((c) => /[#$] $/.test(c.output), "prompt");
  const closed = new Promise<void>((r) => t.ws.once("close", () => r()));
  await a2.close(); // the agent is gone (its port closes): web's reads of its health fail
  await closed;
  let st = await api(web.url, "GET", `/api/labs/${lost[0]!.id}`, lost[0]!.token);
  for (let i = 0; i < 100 && st.status !== 410; i++) {
    await new Promise((r) => setTimeout(r, 100));
    st = await api(web.url, "GET", `/api/labs/${lost[0]!.id}`, lost[0]!.token);
  }
  assert.equal(st.status, 410);
  assert.equal(st.json.reason, "agent-lost");
  for (const l of lost) assert.equal((await api(web.url, "GET", `/api/labs/${l.id}`, l.token)).json.reason, "agent-lost");
  assert.equal((await api(web.url, "GET", `/api/labs/${lost[0]!.id}`, kept[0]!.token)).status, 404, "only the lab's own token learns why");
  for (const l of kept) assert.equal((await api(web.url, "GET", `/api/labs/${l.id}`, l.token)).status, 200, "labs on the other agent run on");
  const fresh = await createLab(web.url);
  assert.equal((await web.routes.get(fresh.id))!.agent, "a1", "a fresh lab starts on a live agent");
  for (const l of [...kept, fresh]) await api(web.url, "DELETE", `/api/labs/${l.id}`, l.token);
});

test("web's /metrics: labs, headroom and health per agent", async () => {
  const lab = await createLab(web.url);
  const where = (await web.routes.get(lab.id))!.agent;
  const agent = where === "a1" ? a1 : a2;
  await new Promise((r) => setTimeout(r, 500)); // a health read after the lab (every 200 ms here)
  const text = await (await fetch(`${web.url}/metrics`)).text();
  const value = (name: string, a: string) => Number(new RegExp(`^${name}\\{agent="${a}"\\} (\\S+)$`, "m").exec(text)?.[1]);
  // the test above killed one agent: it shows as down, with no room
  const states = web.pool.list().map((a) => [a.name, a.up] as const);
  assert.ok(states.some(([, up]) => up) && states.some(([, up]) => !up), JSON.stringify(states));
  for (const [a, up] of states) {
    assert.equal(value("nslab_agent_up", a), up ? 1 : 0, text);
    assert.equal(value("nslab_agent_draining", a), 0);
    assert.ok(value("nslab_agent_max_labs", a) > 0);
    assert.ok(value("nslab_agent_memory_available_bytes", a) > 0);
    if (up) assert.ok(value("nslab_agent_headroom", a) > 0 && value("nslab_agent_headroom", a) <= 1);
    else assert.equal(value("nslab_agent_headroom", a), 0);
  }
  assert.equal(value("nslab_agent_labs", where), agent.mgr.count);
  await api(web.url, "DELETE", `/api/labs/${lab.id}`, lab.token);
});
