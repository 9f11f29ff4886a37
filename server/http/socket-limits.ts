import "server-only";
import type { Duplex } from "node:stream";
import { addressKey } from "./connections.ts";

/**
 * How many lab WebSockets may be open at once (issue 12, finding 7: 1,500 explorer sockets on one
 * lab's token took the server from 175 MB to 1.97 GB). Each socket costs the server a send buffer
 * and, for the explorer, an inspection share, so they are capped:
 *
 * - per client address (IPv6 by /64), terminal and explorer sockets together: a classroom behind
 *   one NAT address has one or two per learner;
 * - per lab: `explorersPerLab` explorers (a learner's tabs and a trainer looking over a shoulder),
 *   and twice the lab's terminals in terminal sockets (a reconnect overlaps the socket it replaces).
 *
 * A socket counts from its upgrade until it closes.
 */
export type LabSocketKind = "terminal" | "explorer";
export type SocketRefusal = "sockets_per_address" | "sockets_per_lab";

export interface SocketLimitOptions {
  perAddress: number;
  explorersPerLab: number;
  terminalSocketsPerLab: number;
}

export class SocketLimits {
  private readonly byAddress = new Map<string, number>();
  private readonly byLab = new Map<string, number>(); // `${kind}:${labId}`

  constructor(private readonly o: SocketLimitOptions) {}

  /** Counts `socket` in (until it closes) and returns null, or says which cap it would pass. */
  admit(kind: LabSocketKind, labId: string, ip: string, socket: Duplex): SocketRefusal | null {
    const addr = addressKey(ip);
    const lab = `${kind}:${labId}`;
    if ((this.byAddress.get(addr) ?? 0) >= this.o.perAddress) return "sockets_per_address";
    if ((this.byLab.get(lab) ?? 0) >= (kind === "explorer" ? this.o.explorersPerLab : this.o.terminalSocketsPerLab)) return "sockets_per_lab";
    bump(this.byAddress, addr, 1);
    bump(this.byLab, lab, 1);
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      bump(this.byAddress, addr, -1);
      bump(this.byLab, lab, -1);
    };
    socket.once("close", release);
    if (socket.destroyed) release();
    return null;
  }
}

function bump(m: Map<string, number>, key: string, by: number): void {
  const n = (m.get(key) ?? 0) + by;
  if (n > 0) m.set(key, n);
  else m.delete(key);
}
