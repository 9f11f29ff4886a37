import "server-only";
import type { ClassState, StepPass } from "../../lib/classes.ts";

/**
 * Where class data lives: classes, learners, progress (every step passed, every check run) and
 * help requests. A small interface so a deployment with several web nodes can put PostgreSQL
 * behind it (issue 15); the single-node default is SQLite (sqlite.ts). Every method is async for
 * that reason, although SQLite answers synchronously. Times are milliseconds since the epoch.
 * Secrets are stored only as SHA-256 hashes (hex).
 *
 * store.contract.ts is the behaviour every implementation must show; run it against a new one.
 */
export interface ClassStore {
  createClass(c: ClassRecord): Promise<void>;
  getClass(id: string): Promise<ClassRecord | null>;
  /** the class with this join code (codes are unique among all stored classes) */
  classByCode(code: string): Promise<ClassRecord | null>;
  updateClass(id: string, patch: ClassPatch): Promise<void>;
  /** classes not yet ended, to resume after a restart */
  unfinishedClasses(): Promise<ClassRecord[]>;
  /** removes ended classes (and all their data) that ended before `before` */
  purgeEnded(before: number): Promise<number>;

  addLearner(l: LearnerRecord): Promise<void>;
  getLearner(classId: string, learnerId: string): Promise<LearnerRecord | null>;
  learners(classId: string): Promise<LearnerRecord[]>;
  updateLearner(classId: string, learnerId: string, patch: LearnerPatch): Promise<void>;

  /** Records one check run; and, if it passed, the step's first pass (a later pass changes nothing). */
  recordCheck(r: CheckRecord): Promise<{ firstPass: boolean }>;
  /** Records a pass without a check run (a step without a check, marked done). First pass wins. */
  recordPass(classId: string, learnerId: string, pass: PassRecord): Promise<{ firstPass: boolean }>;
  passes(classId: string): Promise<(PassRecord & { learnerId: string })[]>;
  checkCounts(classId: string): Promise<{ learnerId: string; checks: number; failed: number; lastAt: number | null }[]>;
  checks(classId: string): Promise<CheckRecord[]>;

  addHelp(h: HelpRecord): Promise<void>;
  resolveHelp(classId: string, helpId: string, at: number): Promise<boolean>;
  /** unresolved requests, oldest first */
  openHelp(classId: string): Promise<HelpRecord[]>;
  allHelp(classId: string): Promise<HelpRecord[]>;

  close(): Promise<void>;
}

export interface ClassRecord {
  id: string;
  code: string;
  title: string;
  lessons: string[];
  startsAt: number;
  endsAt: number;
  createdAt: number;
  state: ClassState;
  locked: boolean;
  maxLearners: number;
  instructorKeyHash: string;
  /** while ending: when the labs are destroyed */
  labsEndAt: number | null;
  endedAt: number | null;
  follow: { lesson: string; step: string | null; at: number } | null;
}
export type ClassPatch = Partial<Pick<ClassRecord, "title" | "endsAt" | "state" | "locked" | "labsEndAt" | "endedAt" | "follow">>;

export interface LearnerRecord {
  id: string;
  classId: string;
  name: string;
  keyHash: string;
  joinedAt: number;
  lastSeenAt: number;
  /** where the learner is: lesson and step, and since when they are on that step */
  lesson: string | null;
  step: string | null;
  stepSince: number | null;
  /** the learner's lab when it was last made; labs do not survive a restart, so this may be stale */
  labId: string | null;
}
export type LearnerPatch = Partial<Pick<LearnerRecord, "name" | "lastSeenAt" | "lesson" | "step" | "stepSince" | "labId">>;

export interface PassRecord {
  lesson: string;
  step: string;
  at: number;
  via: StepPass["via"];
}

export interface CheckRecord {
  classId: string;
  learnerId: string;
  lesson: string;
  step: string;
  at: number;
  passed: boolean;
  kind: "check" | "solve";
  feedback: string;
}

export interface HelpRecord {
  id: string;
  classId: string;
  learnerId: string;
  message: string;
  raisedAt: number;
  resolvedAt: number | null;
}

/** The SQL stores' column for each patchable field (sqlite.ts and postgres.ts share the schema's names). */
export const CLASS_COLUMNS: Record<keyof ClassPatch, string> = {
  title: "title",
  endsAt: "ends_at",
  state: "state",
  locked: "locked",
  labsEndAt: "labs_end_at",
  endedAt: "ended_at",
  follow: "follow",
};
export const LEARNER_COLUMNS: Record<keyof LearnerPatch, string> = {
  name: "name",
  lastSeenAt: "last_seen_at",
  lesson: "lesson",
  step: "step",
  stepSince: "step_since",
  labId: "lab_id",
};
