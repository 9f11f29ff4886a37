import "server-only";
import type { IncomingMessage } from "node:http";
import { isLabId } from "../../lib/ids.ts";
import type { Lab } from "../labs/lab.ts";
import type { LabManager } from "../labs/manager.ts";
import { bearerToken } from "./client.ts";

/**
 * The one token → lab lookup, for routes and sockets alike: the lab a request names, if it
 * carries that lab's token. An unknown lab and a wrong token give the same answer, so a guesser
 * cannot tell which.
 */
export type LabLookup = { lab: Lab } | { refused: "no-token" | "no-lab" };

export function lookUpLab(mgr: LabManager, id: string, req: IncomingMessage, query: URLSearchParams): LabLookup {
  const token = bearerToken(req, query);
  if (!token) return { refused: "no-token" };
  const lab = isLabId(id) ? mgr.authenticate(id, token) : undefined;
  return lab ? { lab } : { refused: "no-lab" };
}
