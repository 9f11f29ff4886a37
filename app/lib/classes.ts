/**
 * The class API from the browser, and what this browser remembers of its classes: a learner's own
 * key (to rejoin as the same learner) and an instructor's key (the dashboard). The two never mix:
 * a learner's page reads only `nslab:class:*`, an instructor's only `nslab:instructor:*`.
 */
import type {
  ClassLabCredentials,
  ClassView,
  CreateClassResponse,
  HelpRequest,
  JoinQueuedResponse,
  JoinResponse,
  LearnerSelfResponse,
  LearnerView,
  RosterResponse,
  StageInfo,
  StepPass,
} from "@/lib/classes";
import type { ApiError, QueuedResponse } from "@/lib/protocol";
import { ApiCallError } from "./api";
import { readJson, writeJson } from "./storage";

export interface StoredMembership {
  classId: string;
  learnerId: string;
  key: string;
  name: string;
  code: string;
}

const memberKey = (classId: string) => `nslab:class:${classId}`;
const codeKey = (code: string) => `nslab:class-code:${code}`;
const instructorKey = (classId: string) => `nslab:instructor:${classId}`;

export function membership(classId: string): StoredMembership | null {
  const m = readJson<StoredMembership>(memberKey(classId));
  return m && typeof m.key === "string" && typeof m.learnerId === "string" ? m : null;
}
export function membershipByCode(code: string): StoredMembership | null {
  const id = readJson<string>(codeKey(code));
  return typeof id === "string" ? membership(id) : null;
}
export function remember(m: StoredMembership): void {
  writeJson(memberKey(m.classId), m);
  writeJson(codeKey(m.code), m.classId);
}
export function forget(classId: string): void {
  const m = membership(classId);
  if (m) writeJson(codeKey(m.code), null);
  writeJson(memberKey(classId), null);
}

export function storedInstructorKey(classId: string): string | null {
  const k = readJson<string>(instructorKey(classId));
  return typeof k === "string" ? k : null;
}
export function rememberInstructor(classId: string, key: string): void {
  writeJson(instructorKey(classId), key);
}

/** The instructor key of the page: from the link's #key=… (then kept in this browser), or kept before. */
export function instructorKeyFromPage(classId: string): string | null {
  const m = /(?:^#|&)key=([A-Za-z0-9_-]{16,128})/.exec(window.location.hash);
  if (m) {
    rememberInstructor(classId, m[1]!);
    return m[1]!;
  }
  return storedInstructorKey(classId);
}

async function call<T>(method: string, path: string, opts: { key?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), cache: "no-store" });
  } catch {
    throw new ApiCallError(0, "network", "The server could not be reached.");
  }
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => null)) as unknown;
  if (!res.ok) {
    const e = (data ?? {}) as Partial<ApiError>;
    throw new ApiCallError(res.status, e.error ?? `http_${res.status}`, e.message ?? `${res.status} ${res.statusText}`);
  }
  return data as T;
}

const c = (id: string) => `/api/classes/${encodeURIComponent(id)}`;

export const classApi = {
  create: (body: { title: string; lessons: string[]; startsAt?: string; endsAt?: string; maxLearners?: number; accessCode?: string }) =>
    call<CreateClassResponse>("POST", "/api/classes", { body }),
  join: (code: string, name: string, key?: string) => call<JoinResponse | JoinQueuedResponse>("POST", "/api/classes/join", { body: { code, name, ...(key ? { key } : {}) } }),

  // a learner's own
  me: (m: StoredMembership) => call<LearnerSelfResponse>("GET", `${c(m.classId)}/me`, { key: m.key }),
  myLab: (m: StoredMembership, fresh = false) =>
    // 202: the server is full, the learner's place in its queue (obtainClassLab waits it out)
    call<{ lab: ClassLabCredentials; freshLab: boolean } | QueuedResponse>("POST", `${c(m.classId)}/me/lab`, { key: m.key, body: fresh ? { fresh: true } : {} }),
  markDone: (m: StoredMembership, lesson: string, step: string) =>
    call<{ passed: StepPass[] }>("POST", `${c(m.classId)}/me/steps`, { key: m.key, body: { lesson, step } }),

  // the instructor's
  roster: (id: string, key: string) => call<RosterResponse>("GET", c(id), { key }),
  update: (id: string, key: string, body: { locked?: boolean; endsAt?: string; title?: string }) => call<ClassView>("PATCH", c(id), { key, body }),
  end: (id: string, key: string) => call<ClassView>("DELETE", c(id), { key }),
  follow: (id: string, key: string, lesson: string, step: string | null) => call<ClassView>("POST", `${c(id)}/follow`, { key, body: { lesson, step } }),
  stage: (id: string, key: string, body: { source: "instructor" | "learner" | null; terminal?: string | null; learnerId?: string }) =>
    call<StageInfo>("POST", `${c(id)}/stage`, { key, body }),
  instructorLab: (id: string, key: string, lesson: string | null) =>
    call<{ lab: ClassLabCredentials }>("POST", `${c(id)}/instructor-lab`, { key, body: lesson ? { lesson } : {} }),
  resolveHelp: (id: string, key: string, helpId: string) => call<{ help: HelpRequest[] }>("POST", `${c(id)}/help/${encodeURIComponent(helpId)}/resolve`, { key, body: {} }),
  ask: (id: string, key: string, learnerId: string, kind: "takeover" | "broadcast") =>
    call<LearnerView>("POST", `${c(id)}/learners/${encodeURIComponent(learnerId)}/ask`, { key, body: { kind } }),
  revoke: (id: string, key: string, learnerId: string, kind: "takeover" | "broadcast") =>
    call<LearnerView>("DELETE", `${c(id)}/learners/${encodeURIComponent(learnerId)}/grants/${kind}`, { key }),
  /** Downloads the progress export (the key goes in a header, so not a plain link). */
  async download(id: string, key: string, format: "csv" | "json"): Promise<void> {
    const res = await fetch(`${c(id)}/export?format=${format}`, { headers: { authorization: `Bearer ${key}` }, cache: "no-store" });
    if (!res.ok) throw new ApiCallError(res.status, "export_failed", "The export failed.");
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = `nslab-class-${id}.${format}`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  },
};

/** ws(s)://…/api/classes/ID/PATH?token=KEY on the page's own origin. */
export function classSocketUrl(classId: string, path: string, key: string): string {
  const u = new URL(`${c(classId)}/${path}`, window.location.href);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  u.searchParams.set("token", key);
  return u.toString();
}

/** The page learners open to join (the QR code holds it). */
export function joinUrl(code: string): string {
  return new URL(`/join?code=${encodeURIComponent(code)}`, window.location.href).toString();
}
