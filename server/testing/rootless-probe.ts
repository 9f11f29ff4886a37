import "server-only";
/**
 * Run by rootless.integration.test.ts as an unprivileged user: creates a lab with the real core
 * and prints what it saw as one JSON line.
 */
import { startServices } from "../services.ts";
import { testConfig } from "./instance.ts";

const { mgr, terminals, close } = await startServices(testConfig());
const { lab } = await mgr.create({});
const r = await lab.exec("id -u; cat /proc/self/uid_map; cat /proc/self/setgroups; cat /proc/1/comm; hostname; ps -e -o comm= | sort | tr '\\n' ' '");
const term = await terminals.of(lab).open(80, 24);
const shellPid = term.pid;
const status = lab.status();
await mgr.destroy(lab.id);
await close();
console.log(JSON.stringify({ mode: mgr.mode, cgroup: mgr.cgroups.version, hostname: lab.hostname, out: r.stdout, err: r.stderr, shellPid, limits: status.limits }));
