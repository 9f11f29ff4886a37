/**
 * What ships in deploy/ works with the tools that read it:
 *  - nslab.service passes `systemd-analyze verify`, and says what a root-mode server needs;
 *  - the Caddyfile adapts (caddy.integration.test.ts puts a real Caddy in front of a real server);
 *  - the AppArmor profile compiles (apparmor_parser), and holds the rule Ubuntu 24.04 needs.
 * CI installs systemd, caddy and apparmor (.ci/run); where one is missing here, its test says so
 * and is skipped.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { caddyHome, missing } from "./test-tools.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

describe("deploy/nslab.service", { skip: missing("systemd-analyze", "systemd") }, () => {
  const unit = fs.readFileSync(path.join(here, "nslab.service"), "utf8");
  const directives = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].map((m) => m[1]!);

  test("systemd-analyze verify accepts it", () => {
    const r = spawnSync("systemd-analyze", ["verify", path.join(here, "nslab.service")], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), "", "no warnings either");
  });

  test("root, Delegate=yes, the server itself as the main process, a clean stop", () => {
    assert.deepEqual(directives("User"), ["root"]);
    assert.deepEqual(directives("Delegate"), ["yes"]);
    assert.deepEqual(directives("KillMode"), ["mixed"]);
    assert.deepEqual(directives("TasksMax"), ["infinity"]);
    assert.match(directives("ExecStart")[0]!, /server\/main\.ts$/);
    assert.match(directives("ExecStartPre")[0]!, /scripts\/start\.mjs --build-only$/);
    assert.match(directives("Environment")[0]!, /HOST=127\.0\.0\.1/, "only the proxy reaches it");
    assert.match(directives("Environment")[0]!, /NSLAB_TRUST_PROXY=1/);
    for (const k of ["ProtectSystem", "PrivateTmp", "PrivateDevices", "ProtectKernelTunables", "NoNewPrivileges"])
      assert.deepEqual(directives(k), [], `${k} would give the server a namespace or limit of its own`);
  });

  test("--build-only builds when needed and starts nothing", () => {
    const src = fs.readFileSync(path.resolve(here, "../scripts/start.mjs"), "utf8");
    assert.ok(src.indexOf('includes("--build-only")') > src.indexOf("npm\", [\"run\", \"build\"]"), "the build comes first");
  });
});

describe("deploy/Caddyfile", { skip: missing("caddy", "caddy") }, () => {
  const home = caddyHome();
  after(() => home.remove());
  const caddyEnv = home.env;

  test("adapts: one site, a reverse proxy to nslab that flushes at once, request timeouts", () => {
    const r = spawnSync("caddy", ["adapt", "--config", path.join(here, "Caddyfile")], { encoding: "utf8", env: caddyEnv({ NSLAB_DOMAIN: "labs.example.org" }) });
    assert.equal(r.status, 0, r.stderr);
    const cfg = JSON.parse(r.stdout);
    const srv = cfg.apps.http.servers.srv0;
    assert.deepEqual(srv.listen, [":443"]);
    assert.equal(srv.read_header_timeout, 10e9);
    assert.equal(cfg.apps.tls?.automation?.policies?.[0]?.issuers, undefined, "certificates from the default issuers (ACME)");
    assert.equal(cfg.apps.pki.certificate_authorities.local.install_trust, false, "the trust store is never touched");
    const text = JSON.stringify(srv.routes);
    assert.match(text, /"host":\["labs\.example\.org"\]/);
    assert.match(text, /"handler":"reverse_proxy"/);
    assert.match(text, /"flush_interval":-1/);
    assert.match(text, /"dial":"127\.0\.0\.1:3000"/);
    assert.equal(cfg.apps.http.servers.srv0.automatic_https?.disable, undefined, "HTTPS stays on");
  });
});

describe("deploy/apparmor/nslab", { skip: missing("apparmor_parser", "apparmor") }, () => {
  const file = path.join(here, "apparmor", "nslab");
  const profile = fs.readFileSync(file, "utf8");

  test("attaches to the helper, confines nothing, allows user namespaces (AppArmor 4 ABI)", () => {
    assert.match(profile, /^abi <abi\/4\.0>,$/m);
    assert.match(profile, /^@\{nslab_root\} = \/opt\/nslab$/m);
    assert.match(profile, /^profile nslab-helper @\{nslab_root\}\/native\/build\/nslab-helper flags=\(unconfined\) \{$/m);
    assert.match(profile, /^ {2}userns,$/m);
  });

  test("apparmor_parser compiles it", () => {
    // The userns rule and ABI 4.0 are AppArmor 4 (Ubuntu 23.10+). An older parser (Debian 12 has
    // 3.0) compiles the rest of the profile, so its syntax is still checked here.
    const v4 = fs.existsSync("/etc/apparmor.d/abi/4.0");
    const text = v4 ? profile : profile.replace("abi <abi/4.0>,", "abi <abi/3.0>,").replace(/^ {2}userns,$/m, "");
    const tmp = path.join(os.tmpdir(), `nslab-apparmor-${process.pid}`);
    fs.writeFileSync(tmp, text);
    try {
      const r = spawnSync("apparmor_parser", ["--skip-kernel-load", "--skip-cache", "--debug", tmp], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^Name:\s+nslab-helper$/m);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  });
});
