/**
 * What the page knows about its labs' lifetime, from the terminal sockets ("lab-expiring",
 * "lab-extended", and the reason a lab ended), kept outside React so the socket code can report it
 * and any component can show it (useSyncExternalStore).
 */
import type { ExpiryReason, LabEndReason } from "@/lib/protocol";

export interface LifetimeState {
  /** the lab will be put away at `at` (ms since the epoch) unless something happens */
  expiring: { at: number; reason: ExpiryReason } | null;
  /** why it ended, once the server said so */
  ended: LabEndReason | null;
}

const EMPTY: LifetimeState = { expiring: null, ended: null };
const states = new Map<string, LifetimeState>();
const listeners = new Set<() => void>();

function set(labId: string, patch: Partial<LifetimeState>): void {
  states.set(labId, { ...(states.get(labId) ?? EMPTY), ...patch });
  for (const l of [...listeners]) l();
}

export const labLifetime = {
  expiring(labId: string, at: string, reason: ExpiryReason): void {
    set(labId, { expiring: { at: Date.parse(at), reason } });
  },
  extended(labId: string): void {
    set(labId, { expiring: null });
  },
  ended(labId: string, reason: LabEndReason): void {
    set(labId, { expiring: null, ended: reason });
  },
  get(labId: string): LifetimeState {
    return states.get(labId) ?? EMPTY;
  },
  subscribe(fn: () => void): () => void {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};
