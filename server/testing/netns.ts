import "server-only";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isolatedEnv } from "./instance.ts";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function ip(...args: string[]): void {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.trim()}`);
}

/**
 * A network namespace with its own address, joined to the host by a veth pair (a /30: the host
 * side .1, the namespace side .2), as a separate machine would be. Named after this process, so
 * parallel test runs do not collide; `remove()` deletes it (and the veth with it).
 */
export interface Netns {
  name: string;
  hostIp: string;
  ip: string;
  /** cuts the namespace off the host's network (the veth's host side down), or joins it again */
  partition(cut: boolean): void;
  remove(): void;
}

export function makeNetns(n: number): Netns {
  const tag = `${process.pid % 100000}-${n}`;
  const name = `nslab-sc-${tag}`;
  const net = `10.${100 + (process.pid % 100)}.${n}`;
  const hostIf = `nsh${tag}`.slice(0, 15);
  const nsIf = `nsa${tag}`.slice(0, 15);
  spawnSync("ip", ["netns", "del", name]);
  ip("netns", "add", name);
  try {
    ip("link", "add", hostIf, "type", "veth", "peer", "name", nsIf, "netns", name);
    ip("addr", "add", `${net}.1/30`, "dev", hostIf);
    ip("link", "set", hostIf, "up");
    ip("-n", name, "addr", "add", `${net}.2/30`, "dev", nsIf);
    ip("-n", name, "link", "set", nsIf, "up");
    ip("-n", name, "link", "set", "lo", "up");
  } catch (e) {
    spawnSync("ip", ["netns", "del", name]);
    throw e;
  }
  return {
    name,
    hostIp: `${net}.1`,
    ip: `${net}.2`,
    partition: (cut) => ip("link", "set", hostIf, cut ? "down" : "up"),
    remove: () => void spawnSync("ip", ["netns", "del", name]),
  };
}

export interface AgentProcess {
  name: string;
  url: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM (its labs are shut down) and wait for it */
  stop(): Promise<void>;
}

/**
 * `npm start`'s server as NSLAB_ROLE=agent in its own process inside `ns` (nsenter joins only the
 * network namespace: the agent sees the host's cgroups and /proc as a node's agent does), with
 * a uid range, cgroup parent and state dir of its own (isolatedEnv: the same `tag` again gives
 * the same ones back only through `env`). Resolves once it answers /healthz.
 */
export async function startAgentIn(ns: Netns, name: string, secret: string, env: Record<string, string>): Promise<AgentProcess> {
  const port = 3001;
  const child = spawn("nsenter", [`--net=/run/netns/${ns.name}`, "--", process.execPath, "--import", "tsx", "--import", "./scripts/hooks.mjs", "server/main.ts"], {
    cwd: repo,
    env: { ...process.env, NSLAB_ROLE: "agent", NSLAB_INTERNAL_SECRET: secret, HOST: ns.ip, PORT: String(port), NSLAB_AGENT_NAME: name, NODE_ENV: "production", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out = (out + d).slice(-20_000)));
  child.stderr!.on("data", (d) => (out = (out + d).slice(-20_000)));
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  child.once("exit", () => process.removeListener("exit", kill));
  const url = `http://${ns.ip}:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`agent ${name} exited (${child.exitCode}):\n${out}`);
    try {
      const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      kill();
      throw new Error(`agent ${name} did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name,
    url,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const t = setTimeout(kill, 30_000);
      await gone;
      clearTimeout(t);
    },
  };
}

/** isolatedEnv for an agent process (re-used when the same agent starts again, so it cleans up after itself). */
export const agentEnv = (n: number) => isolatedEnv(`agent${n}`);
