import "server-only";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { LabMode } from "../lib/protocol.ts";

/**
 * Everything the server is told or finds out about its host, read and checked once by
 * loadConfig(). No other module reads the environment or works out these facts again: each gets
 * the Config (or the part it needs). Most fields come from a variable (docs/operations.md lists
 * them); a few are detected (mode, uid, gid, root and the paths below it) and one is fixed
 * (idsPerLab).
 */
export interface Config {
  port: number;
  host: string;
  /** NODE_ENV=development: Next in dev mode, lessons reloaded when their files change */
  dev: boolean;
  /** detected: "root" when the server runs as root (each lab its own host uid range and cgroup limits), else "rootless" */
  mode: LabMode;
  /** detected: the server's own uid and gid (a rootless lab maps its root to them) */
  uid: number;
  gid: number;
  /** detected: the repository root (where native/, lessons/ and the Next app live) */
  root: string;
  /** root/native/build: libnslab.so, nslab-helper, nslab-init */
  nativeDir: string;
  /** NSLAB_LESSONS_DIR, else root/lessons */
  lessonsDir: string;
  /** runtime state: the lab /etc template and the staging mount point */
  stateDir: string;
  /** the cgroup (in each hierarchy) under which labs' cgroups are made */
  cgroupParent: string;
  maxLabs: number;
  labsPerClient: number;
  terminalsPerLab: number;
  /** labs kept ready (each with a shell at its first prompt), so a learner never waits for one */
  poolSize: number;
  limits: {
    pids: number;
    memoryBytes: number;
    cpuPercent: number;
    scratchBytes: number;
    shmBytes: number;
    /** cgroup v1: the lab's TCP buffer memory (v2 counts sockets in memory.max already) */
    tcpBytes: number;
    /** cgroup v2: how many cgroups the lab may make below its own (cgroup.max.descendants) */
    cgroups: number;
  };
  /** root mode: the host's fs.mount-max is lowered to this (mounts per mount namespace); 0 leaves it */
  mountMax: number;
  /** show the namespace calls of learners' commands in the trace (seccomp user notification) */
  traceSyscalls: boolean;
  /** no new lab while the host's MemAvailable is below this (the host and the server need it) */
  memoryReserveBytes: number;
  /** root mode: lab N's uid 0 is host uid uidBase + N * idsPerLab */
  uidBase: number;
  /** fixed: how many uids (and gids) each lab's user namespace maps in root mode */
  idsPerLab: number;
  /** how long a disconnected terminal's shell is kept; 0: as long as its lab */
  graceMs: number;
  /** lesson scripts (checks, solutions, setup) may take this many times their usual limit */
  scriptTimeScale: number;
  /** how long the server waits for nslab-helper (making a lab, starting a process) before killing it */
  helperTimeoutMs: number;
  /** lab lifetime: a lab is put away this long after its last input, output or API call */
  idleTimeoutMs: number;
  /** ...and this long after it was handed out, whatever happens (0: never) */
  maxLifetimeMs: number;
  /** the page warns this long before a lab is put away */
  expiryWarningMs: number;
  /** admission: who may create labs, and the limits (server/admission, server/access) */
  access: { mode: "open" | "code"; codes: string[]; operatorKey: string | null };
  labsPerMinute: number;
  scrollbackBytes: number;
  maxFrameBytes: number;
  inputBytesPerSec: number;
  inputBurstBytes: number;
  /** trust X-Forwarded-For for client addresses (only behind a proxy you run) */
  trustProxy: boolean;
  /** connections (server/http/connections.ts): open TCP connections per client address (0: no cap) and request timeouts */
  connections: { perAddress: number; headersTimeoutMs: number; requestTimeoutMs: number };
  /** lab WebSockets (server/http/socket-limits.ts): per client address, explorers per lab; a socket that does not read is closed after stallMs */
  sockets: { perAddress: number; explorersPerLab: number; stallMs: number };
  /** extra allowed WebSocket origins besides the site's own */
  allowedOrigins: string[];
  /** lasting data (the classroom's SQLite database); unlike stateDir it must survive a reboot */
  dataDir: string;
  /** the site's address as learners reach it (join links, QR codes); default: from the request */
  publicUrl: string | null;
  /**
   * NSLAB_DATABASE_URL: class data in this PostgreSQL database (postgres://…), shared by several web
   * replicas (docs/scaling.md); null: the embedded SQLite file under dataDir, no service to run
   */
  databaseUrl: string | null;
  classes: {
    /** learners are warned this long before a class's labs are destroyed */
    endWarningMs: number;
    /** ended classes and their progress are deleted after this many days */
    retentionDays: number;
    /** the most learners one class may have */
    maxLearners: number;
  };
  /**
   * NSLAB_ROLE: "all" (the default: one process does everything, as on a single machine), "web"
   * (pages, API, routing to agents; no labs) or "agent" (labs, terminals, explorer, checks; only
   * reachable with the internal secret). docs/scaling.md.
   */
  role: "all" | "web" | "agent";
  /** NSLAB_REDIS_URL: redis://, rediss:// or unix:/path; what web replicas share (the lab directory, rate-limit windows); null: kept in the process */
  redisUrl: string | null;
  cluster: {
    /** NSLAB_INTERNAL_SECRET: what web sends and agents require on every internal request */
    secret: string | null;
    /** NSLAB_AGENTS (web): name=http://host:port, comma-separated */
    agents: { name: string; url: string }[];
    /** NSLAB_AGENTS_DNS (web): host:port whose A records are the agents (a headless Service), read every health interval */
    agentsDns: { host: string; port: number } | null;
    /** NSLAB_AGENT_HEALTH_MS (web): how often each agent's health is read */
    healthIntervalMs: number;
    /** NSLAB_AGENT_DOWN_AFTER (web): failed health reads in a row before an agent counts as dead */
    downAfter: number;
    /** NSLAB_WEB_URL (web): this replica's URL as the other replicas reach it (class requests go to the class's owner); null: where it listens */
    selfUrl: string | null;
    /** NSLAB_CLASS_LEASE_MS (web): a class's owner renews its lease every third of this; a dead owner's classes move after it */
    classLeaseMs: number;
  };
}

/** This file is server/config.ts (or, bundled, a file one level below the root): the root is one level up. */
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const IDS_PER_LAB = 65536;

export class ConfigError extends Error {}

function int(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return def;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const v = Number(raw.trim());
  if (v < min || v > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${v}`);
  return v;
}

function bytes(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return def;
  const m = /^(\d+)\s*([kmg]i?b?)?$/i.exec(raw.trim());
  if (!m) throw new ConfigError(`${name} must be a size like 64M or 1048576, got "${raw}"`);
  const unit = (m[2] ?? "").toLowerCase()[0];
  const v = Number(m[1]) * (unit === "k" ? 1024 : unit === "m" ? 1024 ** 2 : unit === "g" ? 1024 ** 3 : 1);
  if (v < min || v > max) throw new ConfigError(`${name} must be between ${min} and ${max} bytes, got ${v}`);
  return v;
}

/** A duration: "30m", "4h", "90s", "1500ms", or a plain number of milliseconds. */
function duration(env: NodeJS.ProcessEnv, key: string, def: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === "") return def;
  const m = /^(\d+)\s*(ms|s|m|min|h|d)?$/i.exec(raw.trim());
  if (!m) throw new ConfigError(`${key} must be a duration like 30m, 4h, 90s or 1500ms, got "${raw}"`);
  const unit = (m[2] ?? "ms").toLowerCase();
  const v = Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3600_000, d: 86400_000 } as Record<string, number>)[unit]!;
  if (v !== 0 && (v < min || v > max)) throw new ConfigError(`${key} must be 0 or between ${min} ms and ${max} ms, got ${v} ms`);
  return v;
}

function secret(env: NodeJS.ProcessEnv, key: string, minLength: number): string | null {
  const v = env[key];
  if (v === undefined || v === "") return null;
  if (v.length < minLength) throw new ConfigError(`${key} must be at least ${minLength} characters (make one with: openssl rand -base64 32)`);
  return v;
}

/** a service's address; never echoed back in an error (it may hold a password) */
function serviceUrl(env: NodeJS.ProcessEnv, key: string, shape: RegExp, example: string): string | null {
  const v = env[key]?.trim();
  if (!v) return null;
  if (!shape.test(v)) throw new ConfigError(`${key} must look like ${example}`);
  return v;
}

function name(env: NodeJS.ProcessEnv, key: string, def: string): string {
  const v = env[key];
  if (v === undefined || v === "") return def;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(v) || v.startsWith(".")) throw new ConfigError(`${key} must be a plain directory name, got "${v}"`);
  return v;
}

/**
 * Reads and checks the configuration, once per process (main, doctor) or per test instance
 * (server/testing/instance.ts, testConfig). `env` is the environment to read; `overrides` replace
 * fields afterwards, as given (nothing derived from an overridden field is recomputed).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const mode: LabMode = uid === 0 ? "root" : "rootless";
  const isRoot = mode === "root";
  const uidBase = int(env, "NSLAB_UID_BASE", 1_000_000_000, 100_000, 4_000_000_000);
  const maxLabs = int(env, "NSLAB_MAX_LABS", 200, 1, 10_000);
  if (uidBase + maxLabs * IDS_PER_LAB > 4_294_967_294)
    throw new ConfigError("NSLAB_UID_BASE + NSLAB_MAX_LABS * 65536 exceeds the 32-bit uid space");
  const stateDefault = isRoot ? "/run/nslab" : path.join(os.tmpdir(), `nslab-${uid}`);
  const dataDefault = isRoot ? "/var/lib/nslab" : path.join(env.XDG_DATA_HOME || path.join(os.homedir(), ".local", "share"), "nslab");
  const publicUrl = env.NSLAB_PUBLIC_URL?.trim() || null;
  if (publicUrl && !/^https?:\/\/[^/\s]+\/?$/.test(publicUrl)) throw new ConfigError(`NSLAB_PUBLIC_URL must be like https://nslab.example.org, got "${publicUrl}"`);
  const config: Config = {
    port: int(env, "PORT", 3000, 1, 65535),
    host: env.HOST || "0.0.0.0",
    dev: env.NODE_ENV === "development",
    mode,
    uid,
    gid,
    root: REPO_ROOT,
    nativeDir: path.join(REPO_ROOT, "native", "build"),
    lessonsDir: env.NSLAB_LESSONS_DIR ? path.resolve(env.NSLAB_LESSONS_DIR) : path.join(REPO_ROOT, "lessons"),
    stateDir: env.NSLAB_STATE_DIR || stateDefault,
    cgroupParent: name(env, "NSLAB_CGROUP_PARENT", "nslab"),
    maxLabs,
    labsPerClient: int(env, "NSLAB_LABS_PER_CLIENT", 60, 1, 10_000),
    terminalsPerLab: int(env, "NSLAB_TERMINALS_PER_LAB", 8, 1, 64),
    poolSize: int(env, "NSLAB_POOL", 2, 0, 100),
    limits: {
      pids: int(env, "NSLAB_PIDS_MAX", 256, 16, 100_000),
      memoryBytes: bytes(env, "NSLAB_MEMORY_MAX", 512 * 1024 ** 2, 32 * 1024 ** 2, 64 * 1024 ** 3),
      cpuPercent: int(env, "NSLAB_CPU_PERCENT", 50, 1, 100 * os.cpus().length),
      scratchBytes: bytes(env, "NSLAB_SCRATCH_SIZE", 64 * 1024 ** 2, 4 * 1024 ** 2, 16 * 1024 ** 3),
      shmBytes: bytes(env, "NSLAB_SHM_SIZE", 16 * 1024 ** 2, 1024 ** 2, 4 * 1024 ** 3),
      tcpBytes: bytes(env, "NSLAB_TCP_MEMORY", 64 * 1024 ** 2, 1024 ** 2, 64 * 1024 ** 3),
      cgroups: int(env, "NSLAB_CGROUPS_MAX", 64, 1, 100_000),
    },
    mountMax: int(env, "NSLAB_MOUNT_MAX", 10_000, 0, 1_000_000),
    traceSyscalls: env.NSLAB_TRACE_SYSCALLS !== "0",
    memoryReserveBytes: bytes(env, "NSLAB_MEMORY_RESERVE", 512 * 1024 ** 2, 0, 1024 ** 4),
    uidBase,
    idsPerLab: IDS_PER_LAB,
    scriptTimeScale: int(env, "NSLAB_SCRIPT_TIME_SCALE", 1, 1, 20),
    helperTimeoutMs: int(env, "NSLAB_HELPER_TIMEOUT_MS", 20_000, 1_000, 600_000),
    graceMs: duration(env, "NSLAB_GRACE_MS", 0, 1_000, 7 * 86400_000),
    idleTimeoutMs: duration(env, "NSLAB_IDLE_TIMEOUT", 30 * 60_000, 1_000, 7 * 86400_000),
    maxLifetimeMs: duration(env, "NSLAB_MAX_LIFETIME", 4 * 3600_000, 1_000, 30 * 86400_000),
    expiryWarningMs: duration(env, "NSLAB_EXPIRY_WARNING", 2 * 60_000, 1_000, 3600_000),
    access: accessConfig(env),
    labsPerMinute: int(env, "NSLAB_LABS_PER_MINUTE", 20, 1, 100_000),
    scrollbackBytes: bytes(env, "NSLAB_SCROLLBACK", 256 * 1024, 16 * 1024, 16 * 1024 ** 2),
    maxFrameBytes: bytes(env, "NSLAB_MAX_FRAME", 64 * 1024, 1024, 16 * 1024 ** 2),
    inputBytesPerSec: bytes(env, "NSLAB_INPUT_RATE", 64 * 1024, 1024, 1024 ** 3),
    inputBurstBytes: bytes(env, "NSLAB_INPUT_BURST", 512 * 1024, 1024, 1024 ** 3),
    trustProxy: env.NSLAB_TRUST_PROXY === "1",
    connections: {
      // behind a proxy every connection has the proxy's address: the proxy limits clients
      perAddress: int(env, "NSLAB_CONNECTIONS_PER_ADDRESS", env.NSLAB_TRUST_PROXY === "1" ? 0 : 512, 0, 1_000_000),
      headersTimeoutMs: duration(env, "NSLAB_HEADERS_TIMEOUT", 10_000, 1_000, 600_000),
      requestTimeoutMs: duration(env, "NSLAB_REQUEST_TIMEOUT", 30_000, 1_000, 3600_000),
    },
    sockets: {
      perAddress: int(env, "NSLAB_SOCKETS_PER_ADDRESS", 256, 1, 1_000_000),
      explorersPerLab: int(env, "NSLAB_EXPLORERS_PER_LAB", 8, 1, 10_000),
      stallMs: duration(env, "NSLAB_SOCKET_STALL", 15_000, 1_000, 600_000),
    },
    allowedOrigins: (env.NSLAB_ALLOWED_ORIGINS ?? "").split(",").map((s) => s.trim()).filter(Boolean),
    dataDir: path.resolve(env.NSLAB_DATA_DIR || dataDefault),
    publicUrl: publicUrl ? publicUrl.replace(/\/$/, "") : null,
    databaseUrl: serviceUrl(env, "NSLAB_DATABASE_URL", /^postgres(ql)?:\/\/\S+$/, "postgres://user:password@host:5432/nslab"),
    classes: {
      endWarningMs: int(env, "NSLAB_CLASS_END_WARNING_MS", 60_000, 0, 3600_000),
      retentionDays: int(env, "NSLAB_CLASS_RETENTION_DAYS", 30, 1, 3650),
      maxLearners: int(env, "NSLAB_CLASS_MAX_LEARNERS", 200, 1, 10_000),
    },
    ...clusterConfig(env),
  };
  if (config.connections.headersTimeoutMs > config.connections.requestTimeoutMs)
    throw new ConfigError("NSLAB_HEADERS_TIMEOUT must not be longer than NSLAB_REQUEST_TIMEOUT");
  return { ...config, ...overrides };
}

function accessConfig(env: NodeJS.ProcessEnv): Config["access"] {
  const mode = env.NSLAB_ACCESS || "open";
  if (mode !== "open" && mode !== "code") throw new ConfigError(`NSLAB_ACCESS must be open or code, got "${mode}"`);
  const codes = (env.NSLAB_ACCESS_CODES ?? "").split(",").map((c) => c.trim()).filter(Boolean);
  for (const c of codes) if (c.length < 6 || c.length > 200) throw new ConfigError("each of NSLAB_ACCESS_CODES must be 6 to 200 characters");
  if (mode === "code" && !codes.length) throw new ConfigError("NSLAB_ACCESS=code needs NSLAB_ACCESS_CODES (comma-separated workshop codes)");
  return { mode, codes, operatorKey: secret(env, "NSLAB_OPERATOR_KEY", 16) };
}

function clusterConfig(env: NodeJS.ProcessEnv): Pick<Config, "role" | "cluster" | "redisUrl"> {
  const role = env.NSLAB_ROLE || "all";
  if (role !== "all" && role !== "web" && role !== "agent") throw new ConfigError(`NSLAB_ROLE must be all, web or agent, got "${role}"`);
  const secretValue = secret(env, "NSLAB_INTERNAL_SECRET", 32);
  if (role !== "all" && !secretValue) throw new ConfigError(`NSLAB_ROLE=${role} needs NSLAB_INTERNAL_SECRET (32 characters or more, the same on web and agents: openssl rand -base64 32)`);
  const agents: { name: string; url: string }[] = [];
  for (const item of (env.NSLAB_AGENTS ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z0-9][a-z0-9.-]{0,62})=(https?:\/\/[^/\s]+)\/?$/i.exec(item);
    if (!m) throw new ConfigError(`NSLAB_AGENTS must be name=http://host:port entries, comma-separated; got "${item}"`);
    if (agents.some((a) => a.name === m[1])) throw new ConfigError(`NSLAB_AGENTS names agent "${m[1]}" twice`);
    agents.push({ name: m[1]!, url: m[2]! });
  }
  const dnsRaw = env.NSLAB_AGENTS_DNS?.trim() || "";
  const dm = /^([a-z0-9][a-z0-9.-]{0,252}):(\d{1,5})$/i.exec(dnsRaw);
  if (dnsRaw && (!dm || Number(dm[2]) < 1 || Number(dm[2]) > 65535)) throw new ConfigError(`NSLAB_AGENTS_DNS must be host:port (a headless Service's name), got "${dnsRaw}"`);
  const agentsDns = dm ? { host: dm[1]!, port: Number(dm[2]) } : null;
  if (role === "web" && !agents.length && !agentsDns)
    throw new ConfigError("NSLAB_ROLE=web needs NSLAB_AGENTS (name=http://host:port, comma-separated) or NSLAB_AGENTS_DNS (host:port of a headless Service)");
  const redisUrl = env.NSLAB_REDIS_URL?.trim() || null;
  if (redisUrl && !/^(rediss?:\/\/\S+|unix:\/\S+)$/.test(redisUrl)) throw new ConfigError(`NSLAB_REDIS_URL must be like redis://host:6379, got "${redisUrl}"`);
  const selfUrl = env.NSLAB_WEB_URL?.trim().replace(/\/$/, "") || null;
  if (selfUrl && !/^http:\/\/[^/\s]+$/.test(selfUrl)) throw new ConfigError(`NSLAB_WEB_URL must be http://host:port (plain HTTP inside the cluster: this replica's address for the others), got "${selfUrl}"`);
  return {
    role,
    redisUrl,
    cluster: {
      secret: secretValue,
      agents,
      agentsDns,
      healthIntervalMs: duration(env, "NSLAB_AGENT_HEALTH_MS", 1000, 100, 60_000),
      downAfter: int(env, "NSLAB_AGENT_DOWN_AFTER", 3, 1, 100),
      selfUrl,
      classLeaseMs: duration(env, "NSLAB_CLASS_LEASE_MS", 15_000, 1000, 600_000),
    },
  };
}
