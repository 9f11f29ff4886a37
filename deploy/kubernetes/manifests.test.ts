/**
 * deploy/kubernetes/ against the Kubernetes schemas (schema.ts: kubernetes-models' validators and
 * types), and against what the issue asks of it: a web Deployment of at least two replicas behind a
 * Service and an Ingress with WebSocket timeouts, an agent DaemonSet with its privileges spelled
 * out (no hostPID, replaced only by hand), Redis and PostgreSQL, a NetworkPolicy that lets only web
 * reach agents, and resource requests on every container. The validator is shown to refuse broken
 * manifests first, so a green run means the files were checked.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { readManifests, schemaErrors, type Manifest } from "./schema.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const files = fs.readdirSync(here).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml").map((f) => path.join(here, f));
const all = readManifests(files);
const find = (kind: string, name: string) => {
  const m = all.find((x) => x.kind === kind && x.name === name);
  assert.ok(m, `${kind}/${name} is in deploy/kubernetes/`);
  return m.object;
};

describe("the schema check itself", () => {
  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "x" },
    spec: { selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "i" }] } } },
  };
  const as = (object: object, name = "x", kind = "Deployment", apiVersion = "apps/v1"): Manifest => ({ file: "t.yaml", index: 0, apiVersion, kind, name, namespace: null, object });

  test("accepts a valid object; refuses a wrong type, a missing field, a bad quantity, an unknown field and an unknown kind", () => {
    assert.deepEqual(schemaErrors([as(deployment)]), []);
    const errors = schemaErrors([
      as({ ...deployment, spec: { ...deployment.spec, replicas: "two" } }, "type"),
      as({ ...deployment, spec: { selector: deployment.spec.selector } }, "missing"),
      as({ ...deployment, spec: { ...deployment.spec, template: { spec: { containers: [{ name: "c", image: "i", resources: { requests: { memory: "lots" } } }] } } } }, "quantity"),
      as({ ...deployment, spec: { ...deployment.spec, replica: 2 } }, "unknown"),
      as({ ...deployment, kind: "Deploymnet" }, "kind", "Deploymnet"),
    ]);
    const of = (name: string) => errors.filter((e) => e.includes(`/${name}:`)).join("\n");
    assert.match(of("type"), /replicas must be integer/);
    assert.match(of("missing"), /must have required property '?template/);
    assert.match(of("quantity"), /memory must match format "quantity"/);
    assert.match(of("unknown"), /'"?replica"?' does not exist/);
    assert.match(of("kind"), /no such kind in the Kubernetes API/);
  });
});

describe("deploy/kubernetes", () => {
  test("every object is valid against the Kubernetes schemas, with no field the API does not have", () => {
    assert.ok(all.length >= 15, `${all.length} objects`);
    assert.deepEqual(schemaErrors(all), []);
  });

  test("kustomization.yaml lists every manifest, and every manifest is in a namespace of ours", () => {
    const k = parse(fs.readFileSync(path.join(here, "kustomization.yaml"), "utf8"));
    assert.equal(k.kind, "Kustomization");
    assert.deepEqual([...k.resources].sort(), files.map((f) => path.basename(f)).sort());
    for (const m of all) if (m.kind !== "Namespace") assert.ok(["nslab", "nslab-agents"].includes(m.namespace!), `${m.kind}/${m.name} namespace ${m.namespace}`);
  });

  test("each workload's selector picks its own pods, and each Service selects a workload", () => {
    const workloads = all.filter((m) => ["Deployment", "DaemonSet", "StatefulSet"].includes(m.kind));
    const matches = (sel: Record<string, string>, labels: Record<string, string>) => Object.entries(sel).every(([k, v]) => labels?.[k] === v);
    for (const w of workloads) assert.ok(matches(w.object.spec.selector.matchLabels, w.object.spec.template.metadata.labels), `${w.kind}/${w.name}`);
    for (const s of all.filter((m) => m.kind === "Service"))
      assert.ok(workloads.some((w) => w.namespace === s.namespace && matches(s.object.spec.selector, w.object.spec.template.metadata.labels)), `Service/${s.name} selects nothing`);
  });

  test("web: a Deployment of two or more replicas that upgrades without dropping capacity, a Service, an Ingress with WebSocket timeouts", () => {
    const web = find("Deployment", "nslab-web");
    assert.ok(web.spec.replicas >= 2);
    assert.deepEqual(web.spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 });
    const c = web.spec.template.spec.containers[0];
    assert.ok(c.env.some((e: { name: string; value?: string }) => e.name === "NSLAB_ROLE" && e.value === "web"));
    assert.equal(c.readinessProbe.httpGet.path, "/readyz");
    assert.equal(web.spec.template.spec.securityContext.runAsNonRoot, true, "web needs no root");
    const ing = find("Ingress", "nslab");
    assert.equal(ing.spec.rules[0].http.paths[0].backend.service.name, "nslab-web");
    for (const k of ["proxy-read-timeout", "proxy-send-timeout"]) assert.ok(Number(ing.metadata.annotations[`nginx.ingress.kubernetes.io/${k}`]) >= 3600, k);
    assert.ok(!Object.keys(ing.metadata.annotations).some((k) => /affinity|upstream-hash-by/.test(k)), "no hash or cookie affinity");
    assert.equal(find("PodDisruptionBudget", "nslab-web").spec.minAvailable, 1);
  });

  test("agent: a DaemonSet replaced only by hand, without hostPID, hostNetwork or a pod user namespace, its one host path the cgroup tree", () => {
    const agent = find("DaemonSet", "nslab-agent");
    const pod = agent.spec.template.spec;
    assert.equal(agent.spec.updateStrategy.type, "OnDelete", "an upgrade must not kill labs: drain, then delete");
    assert.equal(pod.hostPID, false);
    assert.equal(pod.hostNetwork, false);
    assert.equal(pod.hostIPC, false);
    assert.equal(pod.hostUsers, true, "labs map host uid ranges");
    assert.equal(pod.automountServiceAccountToken, false);
    assert.deepEqual(pod.volumes.filter((v: { hostPath?: unknown }) => v.hostPath).map((v: { hostPath: { path: string } }) => v.hostPath.path), ["/sys/fs/cgroup"]);
    const text = fs.readFileSync(path.join(here, "agent.yaml"), "utf8");
    for (const word of ["hostPID", "hostNetwork", "hostUsers", "privileged", "SYS_ADMIN", "SETUID", "SETFCAP", "cgroup", "mount_too_revealing"])
      assert.match(text, new RegExp(`#.*${word}`), `agent.yaml explains ${word}`);
    assert.equal(find("Service", "nslab-agent").spec.clusterIP, "None", "agents are addressed one by one, never load-balanced");
    assert.ok(!all.some((m) => m.kind === "Ingress" && JSON.stringify(m.object).includes("nslab-agent")), "no Ingress to agents");
  });

  test("NetworkPolicy: agents accept only web pods on the internal port and open nothing; Redis and PostgreSQL only web", () => {
    const deny = all.find((m) => m.kind === "NetworkPolicy" && m.namespace === "nslab-agents" && m.name === "default-deny")!.object;
    assert.deepEqual(deny.spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const policies = all.filter((m) => m.kind === "NetworkPolicy" && m.namespace === "nslab-agents" && m.name !== "default-deny");
    assert.equal(policies.length, 1);
    const p = policies[0]!.object.spec;
    assert.deepEqual(p.policyTypes, ["Ingress"]);
    assert.equal(p.ingress.length, 1);
    assert.deepEqual(p.ingress[0].from, [
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "nslab" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "nslab", "app.kubernetes.io/component": "web" } } },
    ]);
    assert.deepEqual(p.ingress[0].ports, [{ protocol: "TCP", port: 3001 }]);
    const stores = find("NetworkPolicy", "stores-from-web-only");
    assert.deepEqual(stores.spec.ingress[0].from, [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "nslab", "app.kubernetes.io/component": "web" } } }]);
  });

  test("every container asks for CPU and memory; Redis and PostgreSQL are there", () => {
    for (const w of all.filter((m) => ["Deployment", "DaemonSet", "StatefulSet"].includes(m.kind)))
      for (const c of w.object.spec.template.spec.containers) {
        assert.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory, `${w.name}/${c.name} has requests`);
        assert.ok(c.resources?.limits?.memory, `${w.name}/${c.name} has a memory limit`);
      }
    assert.ok(find("Deployment", "nslab-redis"));
    assert.ok(find("StatefulSet", "nslab-postgres"));
  });
});
