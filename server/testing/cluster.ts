import "server-only";
import crypto from "node:crypto";
import { WebSocket } from "ws";
import type { ExplorerServerMessage } from "../../lib/protocol.ts";
import { startServer } from "../server.ts";
import { startWeb } from "../web.ts";
import { testConfig } from "./instance.ts";

/** A fresh internal secret for one test's cluster. */
export function clusterSecret(): string {
  return crypto.randomBytes(32).toString("base64url");
}

/** An agent in this process (NSLAB_ROLE=agent), with its own uid range, cgroup parent and state dir. */
export async function testAgent(secret: string, env: Record<string, string> = {}) {
  const config = testConfig({ tag: "agent", env: { NSLAB_ROLE: "agent", NSLAB_INTERNAL_SECRET: secret, ...env } });
  return startServer(config, { pages: false });
}

/** A web replica in this process (NSLAB_ROLE=web, no pages) in front of `agents`. */
export async function testWeb(secret: string, agents: { name: string; url: string }[], env: Record<string, string> = {}) {
  const config = testConfig({
    env: {
      NSLAB_ROLE: "web",
      NSLAB_INTERNAL_SECRET: secret,
      NSLAB_AGENTS: agents.map((a) => `${a.name}=${a.url}`).join(","),
      NSLAB_AGENT_HEALTH_MS: "200",
      ...env,
    },
  });
  return startWeb(config, { pages: false });
}

/** An Explorer socket: waits for its first snapshot. */
export async function explorerSnapshot(base: string, lab: { id: string; token: string }, ms = 15_000): Promise<ExplorerServerMessage & { type: "snapshot" }> {
  const ws = new WebSocket(`${base.replace("http", "ws")}/api/labs/${lab.id}/explorer?token=${lab.token}`);
  try {
    return await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("no explorer snapshot")), ms);
      ws.on("message", (d) => {
        const m = JSON.parse(d.toString()) as ExplorerServerMessage;
        if (m.type === "snapshot") {
          clearTimeout(t);
          resolve(m);
        }
      });
      ws.once("unexpected-response", (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once("error", reject);
    });
  } finally {
    ws.close();
  }
}
