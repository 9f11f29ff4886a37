/**
 * The one protocol module shared by the browser and the server: HTTP API shapes, the terminal
 * WebSocket protocol, explorer snapshots and trace entries. Pure types and pure functions only:
 * nothing here may touch Node or the DOM. Documented in docs/protocol.md and docs/api.md.
 */

export const PROTOCOL_VERSION = 1;

/* ------------------------------------------------------------------ HTTP API */

export type LabMode = "root" | "rootless";

export interface CreateLabRequest {
  lesson?: string;
}
export interface CreateLabResponse {
  id: string;
  token: string;
  mode: LabMode;
  hostname: string;
}
export type LabState = "running" | "exited" | "destroyed";
export interface LabStatus {
  id: string;
  state: LabState;
  mode: LabMode;
  hostname: string;
  lesson: string | null;
  createdAt: string;
  terminals: { id: string; attached: boolean; exited: boolean; exitCode: number | null }[];
  limits: { pids: number; memoryBytes: number; cpuPercent: number; scratchBytes: number };
}
export interface ApiError {
  error: string; // stable machine code, e.g. "not_found", "rate_limited", "bad_request"
  message: string; // for people
}

export interface CheckRequest {
  lesson: string;
  step: string;
}
export interface CheckResponse {
  passed: boolean;
  feedback: string;
}

/* ------------------------------------------------------------------ terminal WebSocket */
// Binary frames carry terminal bytes both ways. Text frames carry JSON control messages.

export const FLOW_HIGH_WATER = 100_000; // server stops reading the pty above this many unacked bytes
export const FLOW_LOW_WATER = 5_000; // ...and resumes below this
export const ACK_EVERY = 16_384; // the client acks at least every this many bytes processed

export type ClientControl =
  | { type: "resize"; cols: number; rows: number }
  | { type: "ack"; bytes: number } // bytes processed since the previous ack
  | { type: "ping"; t: number };

export type ServerControl =
  | {
      type: "ready";
      terminal: string; // terminal id, to reattach with ?terminal=
      offset: number; // stream offset of the first byte that follows this message
      replayed: number; // how many of the following bytes are replayed scrollback
      reset: boolean; // true when the client must clear its screen before writing
    }
  | { type: "exit"; code: number | null; signal: string | null }
  | { type: "closed"; reason: "grace-expired" | "lab-destroyed" | "terminal-closed"; message: string }
  | { type: "error"; code: string; message: string }
  | { type: "command"; exitCode: number } // the shell finished a command (prompt returned)
  | { type: "pong"; t: number };

export const TERMINAL_MIN = { cols: 2, rows: 1 };
export const TERMINAL_MAX = { cols: 1000, rows: 1000 };

/** Parses and validates one client text frame. Never throws. */
export function parseClientControl(text: string): ClientControl | { error: string } {
  if (text.length > 4096) return { error: "control message too long" };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { error: "control message is not valid JSON" };
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return { error: "control message must be an object" };
  const m = v as Record<string, unknown>;
  const int = (x: unknown) => typeof x === "number" && Number.isInteger(x);
  switch (m.type) {
    case "resize":
      if (!int(m.cols) || !int(m.rows)) return { error: "resize needs integer cols and rows" };
      if ((m.cols as number) < TERMINAL_MIN.cols || (m.cols as number) > TERMINAL_MAX.cols ||
          (m.rows as number) < TERMINAL_MIN.rows || (m.rows as number) > TERMINAL_MAX.rows)
        return { error: `resize out of range: cols ${TERMINAL_MIN.cols}-${TERMINAL_MAX.cols}, rows ${TERMINAL_MIN.rows}-${TERMINAL_MAX.rows}` };
      return { type: "resize", cols: m.cols as number, rows: m.rows as number };
    case "ack":
      if (!int(m.bytes) || (m.bytes as number) < 0 || (m.bytes as number) > 1 << 30) return { error: "ack needs a byte count" };
      return { type: "ack", bytes: m.bytes as number };
    case "ping":
      return { type: "ping", t: typeof m.t === "number" ? m.t : 0 };
    default:
      return { error: `unknown message type: ${String(m.type).slice(0, 40)}` };
  }
}

/* ------------------------------------------------------------------ syscall trace */

export interface TraceEntry {
  seq: number;
  at: string; // ISO time the call started
  scope: string; // "lab" or "terminal:<id>" or "exec"
  who: "server" | "child" | "shell";
  sys: string;
  args: string;
  ret: number;
  errno: number;
  durNs: number;
}

/* ------------------------------------------------------------------ explorer */

export const NS_TYPES = ["user", "pid", "mnt", "uts", "ipc", "net", "cgroup", "time"] as const;
export type NsType = (typeof NS_TYPES)[number];

export interface ProcessInfo {
  hostPid: number;
  nspid: number[]; // NSpid as the host sees it: [host, lab, nested...]
  ppid: number; // host pid of the parent
  comm: string;
  cmdline: string;
  uidInside: number; // uid in the process's own user namespace
  uidHost: number; // uid on the host
  ns: Partial<Record<NsType, number>>; // namespace inode by type
  state?: string; // one letter from /proc/PID/status: R S D Z T t X I (Z: exited, not yet reaped)
}

export interface NamespaceInfo {
  ino: number;
  type: NsType;
  parent: number | null; // pid and user namespaces
  owner: number | null; // owning user namespace
  processes: number[]; // host pids
  isLabRoot: boolean; // the lab's own namespace of this type (created by nslab)
  host?: boolean; // the server's own namespace of this type (the host's, not one made for the lab)
}

export interface IdMapLine {
  inside: number;
  outside: number; // in the parent user namespace's terms (what a process there reads in the file)
  count: number;
  outsideHost?: number; // the same first id as the host (the server) sees it
}
export interface UserNamespaceMaps {
  ino: number;
  uidMap: IdMapLine[];
  gidMap: IdMapLine[];
  setgroups: "allow" | "deny" | null;
  ownerUid?: number | null; // effective uid (host terms) of the process that created it (NS_GET_OWNER_UID)
}

export type Propagation =
  | { kind: "shared"; peerGroup: number; master?: number }
  | { kind: "slave"; master: number; propagateFrom?: number }
  | { kind: "private" }
  | { kind: "unbindable" };

export interface MountEntry {
  id: number;
  parentId: number;
  devMajorMinor: string;
  root: string;
  mountPoint: string;
  options: string;
  propagation: Propagation;
  shared: number | null;
  master: number | null;
  propagateFrom: number | null;
  unbindable: boolean;
  fsType: string;
  source: string;
  superOptions: string;
}

export interface LabSnapshot {
  at: number; // ms since epoch
  processes: ProcessInfo[];
  namespaces: NamespaceInfo[];
  userMaps: UserNamespaceMaps[];
}

export type ExplorerServerMessage =
  | { type: "snapshot"; snapshot: LabSnapshot }
  | { type: "mounts"; pid: number; mounts: MountEntry[] }
  | { type: "trace"; entries: TraceEntry[] }
  | { type: "error"; code: string; message: string };

export type ExplorerClientMessage =
  | { type: "mounts"; pid: number }
  | { type: "mounts"; pid: null }
  | { type: "mounts"; pids: number[] }; // watch the mounts of several processes (side by side), at most 4
