/**
 * The classroom contract, shared by the browser and the server: join codes, limits, the class API's
 * shapes and the messages of the class WebSockets (dashboard, learner control, terminal streams).
 * Pure types and pure functions only. Documented in docs/api.md, docs/protocol.md and
 * docs/classroom.md.
 */
import { isLessonId, isStepId, isTerminalId } from "./ids.ts";
import { parseFrameObject, type QueuedResponse } from "./protocol.ts";

/* ------------------------------------------------------------------ join codes and names */

/**
 * Join codes use 24 characters with no look-alike among them, so a code read off a projector or
 * typed on a phone cannot be mistaken: no 0/O/Q/D pairs (only D), no 1/I/L/7 (only 7), no 2/Z,
 * 5/S, 8/B, U/V. 24^6 ≈ 1.9·10^8 codes; with join attempts rate-limited, guessing one is hopeless.
 */
export const CODE_ALPHABET = "2345679ACDEFGHJKMNPRTWXY";
export const CODE_LENGTH = 6;

/** What a person typed as a code, made canonical: upper case, spaces and dashes gone, look-alikes mapped. */
export function normalizeCode(input: string): string {
  const twin: Record<string, string> = { O: "D", "0": "D", Q: "D", I: "7", L: "7", "1": "7", Z: "2", S: "5", U: "W", V: "W" };
  let out = "";
  for (const c of input.toUpperCase().slice(0, 64)) {
    if (c === " " || c === "-" || c === "\t") continue;
    out += twin[c] ?? c;
  }
  return out.slice(0, 16);
}

export function isCode(code: string): boolean {
  if (code.length !== CODE_LENGTH) return false;
  for (const c of code) if (!CODE_ALPHABET.includes(c)) return false;
  return true;
}

/** A code as shown to people: ABC-DEF. */
export function displayCode(code: string): string {
  return code.length === 6 ? `${code.slice(0, 3)}-${code.slice(3)}` : code;
}

export const NAME_MAX = 40;
export const TITLE_MAX = 120;
export const MESSAGE_MAX = 280;
export const CLASS_LESSONS_MAX = 20;

/**
 * A display name or other short text from a person, made safe to store and to show anywhere: no
 * control characters (a name must not carry terminal escapes into a title bar or a log), no
 * bidirectional overrides (which can make a name read as something else), whitespace collapsed,
 * at most `max` characters. HTML escaping is the renderer's job (React does it).
 */
export function cleanText(input: unknown, max: number): string {
  if (typeof input !== "string") return "";
  return [...input
    .normalize("NFC")
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g, " ")
    .replace(/\s+/g, " ")
    .trim()]
    .slice(0, max)
    .join("")
    .trim();
}

/* ------------------------------------------------------------------ HTTP API */

export type ClassState = "open" | "ending" | "ended";

export interface CreateClassRequest {
  title: string;
  lessons: string[];
  startsAt?: string | number; // ISO time or ms; default now
  endsAt?: string | number; // default startsAt + 3 h
  maxLearners?: number;
  /** access mode "code": the workshop access code (or send the operator key as Bearer instead) */
  accessCode?: string;
}
export interface CreateClassResponse {
  id: string;
  code: string;
  instructorKey: string;
  /** the page learners open (the QR code points here) */
  joinUrl: string;
  /** the instructor's secret link: the key is in the fragment, which browsers never send to a server */
  instructorUrl: string;
}

export interface JoinRequest {
  code: string;
  name: string;
  /** the learner's own key, from an earlier join in this browser: rejoin as the same learner */
  key?: string;
}
export interface ClassLabCredentials {
  id: string;
  token: string;
  mode: "root" | "rootless";
  hostname: string;
}
export interface JoinResponse {
  classId: string;
  learnerId: string;
  /** the learner's secret: keep it (localStorage) to rejoin; never shown to anyone else */
  key: string;
  name: string;
  lab: ClassLabCredentials;
  /** true when this join created a fresh lab (first join, or the old one is gone) */
  freshLab: boolean;
}

/**
 * POST /api/classes/join answers 202 with this when the server is full: the learner is in the
 * class, and waits in the server's queue for their lab (GET /api/queue with the ticket gives the
 * lab when it is theirs; so does POST /api/classes/:id/me/lab, or the same place again).
 */
export interface JoinQueuedResponse extends Omit<JoinResponse, "lab" | "freshLab"> {
  lab: null;
  freshLab: false;
  queued: QueuedResponse;
}

/** What a learner may know of their class. */
export interface ClassPublicView {
  id: string;
  title: string;
  lessons: string[];
  startsAt: string;
  endsAt: string;
  state: ClassState;
  locked: boolean;
  /** when state is "ending": the moment every class lab is destroyed */
  labsEndAt: string | null;
  follow: FollowTarget | null;
}

/** The instructor's view of the class. */
export interface ClassView extends ClassPublicView {
  code: string;
  createdAt: string;
  maxLearners: number;
  learners: number;
  stage: StageInfo;
}

export interface FollowTarget {
  lesson: string;
  step: string | null;
  at: string;
}

export interface StepPass {
  lesson: string;
  step: string;
  at: string;
  /** "check": the step's check passed; "solve": its solution was run; "manual": a step without a check, marked done */
  via: "check" | "solve" | "manual";
}

export interface LabHealth {
  alive: boolean;
  memoryBytes: number | null;
  memoryMax: number;
  pids: number | null;
  pidsMax: number;
}

export interface HelpRequest {
  id: string;
  learnerId: string;
  name: string;
  message: string;
  at: string;
}

/** One learner, as the dashboard shows them. Times are ISO strings; durations are derived by the page. */
export interface LearnerView {
  id: string;
  name: string;
  joinedAt: string;
  online: boolean;
  lesson: string | null;
  step: string | null;
  /** when the learner reached the current step (their previous pass, or when they opened the lesson) */
  stepSince: string | null;
  passed: StepPass[];
  checks: number;
  failedChecks: number;
  lastCheckAt: string | null;
  lastActivity: string | null;
  hand: { message: string; at: string } | null;
  lab: (LabHealth & { id: string }) | null;
  watchers: number;
  /** consents the learner gave and has not revoked */
  grants: { takeover: boolean; broadcast: boolean };
  /** asks the learner has not answered */
  pending: { takeover: boolean; broadcast: boolean };
}

export interface RosterResponse {
  class: ClassView;
  learners: LearnerView[];
  help: HelpRequest[];
  now: string;
}

/** The learner's own view: the class, themselves, their progress. */
export interface LearnerSelfResponse {
  class: ClassPublicView;
  learnerId: string;
  name: string;
  passed: StepPass[];
}

/** What the class broadcast shows: the instructor's terminal, a learner's (with consent), or nothing. */
export interface StageInfo {
  live: boolean;
  source: "instructor" | "learner" | null;
  learnerId: string | null;
  name: string | null;
}

export type ConsentKind = "takeover" | "broadcast";

/* ------------------------------------------------------------------ dashboard WebSocket */

export type DashboardMessage =
  | { type: "roster"; class: ClassView; learners: LearnerView[]; help: HelpRequest[]; now: string }
  | { type: "learners"; learners: LearnerView[]; now: string }
  | { type: "help"; help: HelpRequest[] }
  | { type: "class"; class: ClassView }
  | { type: "answer"; learnerId: string; kind: ConsentKind; allow: boolean }
  | { type: "error"; code: string; message: string };

/* ------------------------------------------------------------------ learner control WebSocket */

export type LearnerServerMessage =
  | { type: "class"; class: ClassPublicView }
  | { type: "follow"; follow: FollowTarget }
  | { type: "watchers"; count: number }
  | { type: "request"; kind: ConsentKind }
  | { type: "grants"; takeover: boolean; broadcast: boolean }
  | { type: "stage"; stage: StageInfo }
  | { type: "hand"; raised: boolean; message: string }
  | { type: "passed"; pass: StepPass }
  | { type: "lab"; lab: ClassLabCredentials }
  | { type: "ending"; labsEndAt: string }
  | { type: "ended" }
  | { type: "pong"; t: number }
  | { type: "error"; code: string; message: string };

export type LearnerClientMessage =
  | { type: "position"; lesson: string; step: string | null; terminal: string | null }
  | { type: "hand"; raised: boolean; message?: string }
  | { type: "answer"; kind: ConsentKind; allow: boolean }
  | { type: "revoke"; kind: ConsentKind }
  | { type: "ping"; t: number };


/** Parses one text frame from a learner's page. Never throws. */
export function parseLearnerMessage(text: string): LearnerClientMessage | { error: string } {
  const frame = parseFrameObject(text, 2048);
  if (!frame.ok) return { error: frame.error };
  const m = frame.value;
  const kind = (k: unknown): k is ConsentKind => k === "takeover" || k === "broadcast";
  switch (m.type) {
    case "position":
      if (!isLessonId(m.lesson)) return { error: "position needs a lesson id" };
      if (m.step !== null && m.step !== undefined && !isStepId(m.step)) return { error: "step must be a step id or null" };
      if (m.terminal !== null && m.terminal !== undefined && !isTerminalId(m.terminal))
        return { error: "terminal must be a terminal id or null" };
      return { type: "position", lesson: m.lesson, step: (m.step as string | undefined) ?? null, terminal: (m.terminal as string | undefined) ?? null };
    case "hand":
      if (typeof m.raised !== "boolean") return { error: "hand needs raised: true or false" };
      return { type: "hand", raised: m.raised, message: cleanText(m.message, MESSAGE_MAX) };
    case "answer":
      if (!kind(m.kind) || typeof m.allow !== "boolean") return { error: "answer needs kind and allow" };
      return { type: "answer", kind: m.kind, allow: m.allow };
    case "revoke":
      if (!kind(m.kind)) return { error: "revoke needs a kind" };
      return { type: "revoke", kind: m.kind };
    case "ping":
      return { type: "ping", t: typeof m.t === "number" ? m.t : 0 };
    default:
      return { error: `unknown message type: ${String(m.type).slice(0, 40)}` };
  }
}

/* ------------------------------------------------------------------ terminal streams (broadcast, watch) */

/**
 * A read-only terminal stream (the class broadcast, or an instructor watching a learner): binary
 * frames are terminal output; text frames are these. A `reset` comes first and whenever the viewer
 * must start over (it fell behind, the source changed): clear the screen, set the size, and the
 * next binary frame is the current screen, serialized. Viewers never send terminal input: a binary
 * frame from a viewer is answered with `error` (read_only) and dropped.
 */
export type StreamMessage =
  | { type: "reset"; cols: number; rows: number; reason: "join" | "behind" | "source" | "rate" }
  | { type: "resize"; cols: number; rows: number }
  | { type: "source"; stage: StageInfo }
  | { type: "control"; granted: boolean }
  | { type: "off"; reason: "off-air" | "lab-gone" | "terminal-gone" | "class-ended" | "revoked" }
  | { type: "error"; code: string; message: string }
  | { type: "pong"; t: number };

/** Largest terminal a stream models; a bigger source is shown cut to this size. */
export const STREAM_MAX = { cols: 200, rows: 60 };

/* ------------------------------------------------------------------ close codes */

export const CLASS_CLOSE = {
  /** the class ended */
  ended: 4100,
  /** this learner's page was opened elsewhere (a newer control socket replaced this one) */
  replaced: 4101,
  /** take-over consent was revoked or never given */
  noConsent: 4403,
} as const;
