/**
 * The one protocol module shared by the browser and the server: HTTP API shapes and error codes,
 * the terminal WebSocket protocol, the explorer's messages, close codes and trace entries. Pure
 * types and pure functions only: nothing here may touch Node or the DOM. Documented in
 * docs/protocol.md and docs/api.md. Id rules are in ids.ts, languages in languages.ts, errno
 * names in errno.ts, lesson shapes in lessons.ts.
 */

/* ------------------------------------------------------------------ HTTP API */

export type LabMode = "root" | "rootless";

export interface CreateLabResponse {
  id: string;
  token: string;
  mode: LabMode;
  hostname: string;
}
export type LabState = "running" | "exited" | "destroyed";
export interface TerminalStatus {
  id: string;
  attached: boolean;
  exited: boolean;
  exitCode: number | null;
}
export interface LabStatus {
  id: string;
  state: LabState;
  mode: LabMode;
  hostname: string;
  lesson: string | null;
  createdAt: string;
  terminals: TerminalStatus[];
  limits: { pids: number; memoryBytes: number; cpuPercent: number; scratchBytes: number };
  /** when the lab will be put away if nothing happens (ISO time), and why; null: never */
  expiresAt: string | null;
  expiryReason: ExpiryReason | null;
}

/** Why a lab will be put away: no input, output or API call for the idle timeout; its maximum
 *  lifetime; or a deadline its owner set (a class's end). */
export type ExpiryReason = "idle" | "max-lifetime" | "deadline";
/** Why a lab ended: an expiry, the operator, the server stopping, its learner deleting it, (several
 *  machines, docs/scaling.md) the machine that ran it stopping answering, or the lab making more
 *  child cgroups than a lab may (cgroup v1, where the kernel has no cap: docs/security.md). */
export type LabEndReason = ExpiryReason | "operator" | "shutdown" | "deleted" | "agent-lost" | "cgroup-limit";

/** The body of a 410 lab_ended answer: a lab that is gone, and why (its token still proves whose it was). */
export interface LabEndedError {
  error: "lab_ended";
  message: string;
  reason: LabEndReason;
  endedAt: string;
}

/* ------------------------------------------------------------------ admission (docs/api.md) */

/** POST /api/labs answers 202 with this when the server is full: a place in the queue. */
export interface QueuedResponse {
  queued: true;
  /** the secret that names this place: GET /api/queue with Authorization: Bearer <ticket> */
  ticket: string;
  view: QueueView;
}

/** A place in the queue, as GET /api/queue answers it (a long poll: ?seen=<version>). */
export interface QueueView {
  /** waiting in line; starting: first in line, the lab is being made; ready: here it is */
  state: "waiting" | "starting" | "ready" | "failed" | "gone";
  /** 1 = next; 0 when not waiting */
  position: number;
  waiting: number;
  waitingFor: "capacity" | "memory";
  version: number;
  /** state "ready": the lab, as POST /api/labs would have answered */
  lab?: CreateLabResponse;
  message?: string;
}

/** Refusals carry how long to wait (also in Retry-After), so a page can count down and retry. */
export interface RetryableError {
  error: "rate_limited" | "too_many_labs" | "draining" | "locked_out";
  message: string;
  retryAfterMs?: number;
}

/** The stable machine codes of API errors (docs/api.md); the status for each is in server/http/errors.ts. */
export const API_ERROR_CODES = [
  "bad_request", // a body or parameter that breaks the rules
  "bad_json", // a body that is not JSON
  "body_too_large",
  "unsupported_media_type",
  "unauthorized", // no token
  "forbidden", // a WebSocket from a foreign origin
  "not_found", // no such endpoint, lab (or wrong token), terminal or process
  "method_not_allowed",
  "unknown_lesson",
  "unknown_step",
  "no_check",
  "no_solution",
  "unknown_widget", // a step has no prediction or explore block with that index
  "rate_limited", // too many labs started from this address in the last minute (retryAfterMs)
  "too_many_labs", // this address holds its maximum of live labs
  "draining", // the server takes no new labs (maintenance); existing labs run on
  "code_required", // access mode "code": creating a lab needs a workshop code ({"code": ...})
  "wrong_code",
  "locked_out", // too many wrong codes or keys from this address (retryAfterMs)
  "lab_ended", // the lab was put away (LabEndedError says why)
  "busy", // a lab's script queue is full
  "lab_gone", // the lab is not running any more
  "lab_create_failed",
  "internal",
  // several machines (docs/scaling.md)
  "overloaded", // an agent takes no new lab now (507, as Play with Docker's nodes say it)
  "agent_unreachable", // the machine holding the lab did not answer; retry (502)
  "not_in_this_role", // this instance's NSLAB_ROLE does not serve this
  "class_moving", // the class is moving to another web replica (its owner went); retry (503, Retry-After)
  // classes (lib/classes.ts)
  "not_started", // the class does not take learners yet
  "class_locked", // the instructor closed joining
  "class_full",
  "class_ended", // the class is ending or ended
  "no_capacity", // no lab could be made for a learner now
  "no_consent", // the learner has not agreed (take-over, showing their terminal)
  "conflict", // the class is not in a state for this (no lab yet, no demo lab)
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export interface ApiError {
  error: ApiErrorCode;
  message: string; // for people
}

export interface CheckResponse {
  passed: boolean;
  feedback: string;
}

/* ------------------------------------------------------------------ WebSocket close codes */

/**
 * How the server ends a lab socket (docs/protocol.md). A client must not reconnect after any of
 * the 4xxx codes: each one means the thing it was attached to is gone or taken.
 */
export const CLOSE = {
  /** the terminal is gone; the `closed` message before it (and the close reason) says why */
  TERMINAL_CLOSED: 4000,
  /** another client attached to the same terminal */
  ATTACHED_ELSEWHERE: 4001,
  /** ?terminal= names no terminal of this lab */
  NO_SUCH_TERMINAL: 4404,
  /** the lab is not running any more */
  LAB_GONE: 4410,
  /** the lab has its maximum of terminals */
  TOO_MANY_TERMINALS: 4429,
  /** a frame over the size limit (sent by the ws library itself) */
  FRAME_TOO_LARGE: 1009,
  /** the server failed */
  SERVER_ERROR: 1011,
} as const;
export type CloseCode = (typeof CLOSE)[keyof typeof CLOSE];

/** Codes of `error` messages on the sockets; the connection stays open unless a close follows. */
export const SOCKET_ERROR_CODES = [
  "bad_message", // unparsable or unknown client message
  "input_rate", // terminal input over the rate limit, dropped
  "resize_failed",
  "too_many_terminals", // followed by CLOSE.TOO_MANY_TERMINALS
  "terminal_failed", // followed by CLOSE.SERVER_ERROR
  "lab_gone", // explorer: followed by CLOSE.LAB_GONE
] as const;
export type SocketErrorCode = (typeof SOCKET_ERROR_CODES)[number];

/* ------------------------------------------------------------------ client frames */

/**
 * The first steps of every parser of what a browser sends on a socket: at most `max` characters,
 * valid JSON, an object. The parsers then check the object's fields. Never throws.
 */
export function parseFrameObject(text: string, max: number, noun = "message"): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
  if (text.length > max) return { ok: false, error: `${noun} too long` };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, error: `${noun} is not valid JSON` };
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return { ok: false, error: `${noun} must be an object` };
  return { ok: true, value: v as Record<string, unknown> };
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

/** Why a terminal ended (the `closed` message, and the reason of a TERMINAL_CLOSED close). */
export type ClosedReason = "grace-expired" | "lab-destroyed" | "terminal-closed";

/** Lab lifetime messages on the terminal socket (every attached terminal of the lab gets them). */
export type LifetimeControl =
  /** the lab will be put away at `at` unless something happens (the page offers "I'm still here") */
  | { type: "lab-expiring"; at: string; reason: ExpiryReason }
  /** activity moved the expiry away again: the warning can go */
  | { type: "lab-extended"; at: string | null };

export type ServerControl =
  | {
      type: "ready";
      terminal: string; // terminal id, to reattach with ?terminal=
      offset: number; // stream offset of the first byte that follows this message
      replayed: number; // how many of the following bytes are replayed scrollback
      reset: boolean; // true when the client must clear its screen before writing
    }
  | { type: "exit"; code: number | null; signal: string | null }
  | { type: "closed"; reason: ClosedReason; message: string; ended?: LabEndReason }
  | LifetimeControl
  | { type: "error"; code: SocketErrorCode; message: string }
  | { type: "command"; exitCode: number } // the shell finished a command (prompt returned)
  | { type: "pong"; t: number }
  | LabCreatedControl;

/**
 * The first message on a socket that makes its lab (NEW_LAB_SOCKET): exactly what POST /api/labs
 * would have answered, its status and JSON body (and Retry-After, in seconds, if it had one). On
 * 201 the socket goes on as the new lab's first terminal ("ready", then the shell); on any other
 * status it closes (1000) and the client goes on as with that answer (the queue, a code, a wait).
 */
export interface LabCreatedControl {
  type: "lab";
  status: number;
  body: CreateLabResponse | QueuedResponse | ApiError;
  retryAfter?: string;
}

/**
 * A terminal socket that makes its lab first (GET with Upgrade: websocket, ?lesson=&cols=&rows=):
 * a page's first visit gets its lab and its prompt in one round trip instead of a POST and then a
 * socket. The same admission as POST /api/labs (no workshop code: a page with one stored POSTs).
 */
export const NEW_LAB_SOCKET = "/api/labs/new/terminals";

export const TERMINAL_MIN = { cols: 2, rows: 1 };
export const TERMINAL_MAX = { cols: 1000, rows: 1000 };

/** Parses and validates one client text frame. Never throws. */
export function parseClientControl(text: string): ClientControl | { error: string } {
  const frame = parseFrameObject(text, 4096, "control message");
  if (!frame.ok) return { error: frame.error };
  const m = frame.value;
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
  /** server, child, shell: nslab building the lab or starting a process; learner: a namespace call of the learner's own commands */
  who: "server" | "child" | "shell" | "learner";
  sys: string;
  args: string;
  ret: number;
  errno: number;
  durNs: number; // -1: not measured (learner calls)
  /** learner calls: the calling process's pid in the lab, and its name */
  pid?: number;
  comm?: string;
  /** learner calls: the result as inferred from the process's namespaces ("" when it cannot be told) */
  result?: string;
  /** learner: not a call the tracer saw but one the lab's state shows was made (the fork after
   *  unshare(CLONE_NEWPID), a write to uid_map): server/inspect/learner-infer.ts */
  inferred?: boolean;
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
  terminal?: string; // the lab terminal ("t1") whose session this process is in
  shell?: boolean; // the shell nslab started for that terminal
  foreground?: boolean; // leads that terminal's foreground process group: what is typed there goes to it
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
  /** truncated: the table is longer than the server reads or sends (MOUNTINFO_MAX_BYTES, MOUNTS_MAX): these are its first mounts */
  | { type: "mounts"; pid: number; mounts: MountEntry[]; truncated?: boolean }
  | { type: "trace"; entries: TraceEntry[] }
  | { type: "error"; code: SocketErrorCode; message: string };

export type ExplorerClientMessage =
  | { type: "mounts"; pid: number }
  | { type: "mounts"; pid: null }
  | { type: "mounts"; pids: number[] }; // watch the mounts of several processes (side by side)

/** An explorer client frame is at most this long (the server's socket refuses longer frames). */
export const EXPLORER_MAX_FRAME = 4096;
/**
 * The most of one process's mount table the server reads (bytes of /proc/PID/mountinfo) and
 * sends (entries). A lab can hold 10,000 mounts per namespace (fs.mount-max) with long paths:
 * megabytes that would stall the server and the browser. Beyond either cap the table is cut
 * after its first mounts and marked `truncated` (docs/security.md).
 */
export const MOUNTINFO_MAX_BYTES = 512 * 1024;
export const MOUNTS_MAX = 2000;

/** How many processes' mount tables one explorer client may follow at once. */
export const EXPLORER_MAX_MOUNT_PIDS = 4;

/** Parses and validates one explorer client frame into the pids to follow ([] = none). Never throws. */
export function parseExplorerClientMessage(text: string): { pids: number[] } | { error: string } {
  const frame = parseFrameObject(text, EXPLORER_MAX_FRAME);
  if (!frame.ok) return { error: frame.error };
  const m = frame.value;
  if (m.type !== "mounts") return { error: `unknown message type: ${String(m.type).slice(0, 40)}` };
  const isPid = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x > 0;
  if ("pids" in m) {
    if (!Array.isArray(m.pids) || m.pids.length > EXPLORER_MAX_MOUNT_PIDS || !m.pids.every(isPid))
      return { error: `pids must be at most ${EXPLORER_MAX_MOUNT_PIDS} process ids` };
    return { pids: m.pids };
  }
  if (m.pid === null) return { pids: [] };
  if (isPid(m.pid)) return { pids: [m.pid] };
  return { error: "pid must be a process id or null" };
}
