import "server-only";
import type { IncomingMessage } from "node:http";
import { isLabId } from "../../lib/ids.ts";
import type { LabEndReason } from "../../lib/protocol.ts";
import type { Lab } from "../labs/lab.ts";
import type { LabManager } from "../labs/manager.ts";
import { bearerToken } from "./client.ts";

/**
 * The one token → lab lookup, for routes and sockets alike: the lab a request names, if it
 * carries that lab's token. An unknown lab and a wrong token give the same answer, so a guesser
 * cannot tell which.
 */
export type LabLookup = { lab: Lab } | { refused: "no-token" | "no-lab" } | { refused: "ended"; reason: LabEndReason; at: number };

/** A lab its token names; for a lab the server put away, its own token learns why ("ended"). */
export function lookUpLab(mgr: LabManager, id: string, req: IncomingMessage, query: URLSearchParams): LabLookup {
  const token = bearerToken(req, query);
  if (!token) return { refused: "no-token" };
  const lab = isLabId(id) ? mgr.authenticate(id, token) : undefined;
  if (lab) return { lab };
  const ended = isLabId(id) ? mgr.ended(id, token) : undefined;
  return ended ? { refused: "ended", ...ended } : { refused: "no-lab" };
}
