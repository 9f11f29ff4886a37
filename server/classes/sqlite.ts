import "server-only";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { CheckRecord, ClassPatch, ClassRecord, ClassStore, HelpRecord, LearnerPatch, LearnerRecord, PassRecord } from "./store.ts";
import { CLASS_COLUMNS, LEARNER_COLUMNS } from "./store.ts";

/**
 * The single-node class store: one SQLite file (better-sqlite3, embedded, no server to run) under
 * the data directory, in WAL mode so a crash loses at most the last transaction. The schema is
 * versioned with PRAGMA user_version; add a step to MIGRATIONS for every change.
 */
const MIGRATIONS: string[] = [
  `CREATE TABLE classes (
     id TEXT PRIMARY KEY,
     code TEXT NOT NULL UNIQUE,
     title TEXT NOT NULL,
     lessons TEXT NOT NULL,            -- JSON array of lesson ids
     starts_at INTEGER NOT NULL,
     ends_at INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('open', 'ending', 'ended')),
     locked INTEGER NOT NULL DEFAULT 0,
     max_learners INTEGER NOT NULL,
     instructor_key_hash TEXT NOT NULL,
     labs_end_at INTEGER,
     ended_at INTEGER,
     follow TEXT                       -- JSON {lesson, step, at} or NULL
   ) STRICT;
   CREATE TABLE learners (
     class_id TEXT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
     id TEXT NOT NULL,
     name TEXT NOT NULL,
     key_hash TEXT NOT NULL,
     joined_at INTEGER NOT NULL,
     last_seen_at INTEGER NOT NULL,
     lesson TEXT,
     step TEXT,
     step_since INTEGER,
     lab_id TEXT,
     PRIMARY KEY (class_id, id)
   ) STRICT;
   CREATE TABLE passes (
     class_id TEXT NOT NULL,
     learner_id TEXT NOT NULL,
     lesson TEXT NOT NULL,
     step TEXT NOT NULL,
     at INTEGER NOT NULL,
     via TEXT NOT NULL CHECK (via IN ('check', 'solve', 'manual')),
     PRIMARY KEY (class_id, learner_id, lesson, step),
     FOREIGN KEY (class_id, learner_id) REFERENCES learners(class_id, id) ON DELETE CASCADE
   ) STRICT;
   CREATE TABLE checks (
     class_id TEXT NOT NULL,
     learner_id TEXT NOT NULL,
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     lesson TEXT NOT NULL,
     step TEXT NOT NULL,
     at INTEGER NOT NULL,
     passed INTEGER NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('check', 'solve')),
     feedback TEXT NOT NULL,
     FOREIGN KEY (class_id, learner_id) REFERENCES learners(class_id, id) ON DELETE CASCADE
   ) STRICT;
   CREATE INDEX checks_by_class ON checks (class_id, learner_id);
   CREATE TABLE help (
     class_id TEXT NOT NULL,
     id TEXT NOT NULL,
     learner_id TEXT NOT NULL,
     message TEXT NOT NULL,
     raised_at INTEGER NOT NULL,
     resolved_at INTEGER,
     PRIMARY KEY (class_id, id),
     FOREIGN KEY (class_id, learner_id) REFERENCES learners(class_id, id) ON DELETE CASCADE
   ) STRICT;`,
];

interface ClassRow {
  id: string;
  code: string;
  title: string;
  lessons: string;
  starts_at: number;
  ends_at: number;
  created_at: number;
  state: ClassRecord["state"];
  locked: number;
  max_learners: number;
  instructor_key_hash: string;
  labs_end_at: number | null;
  ended_at: number | null;
  follow: string | null;
}
interface LearnerRow {
  class_id: string;
  id: string;
  name: string;
  key_hash: string;
  joined_at: number;
  last_seen_at: number;
  lesson: string | null;
  step: string | null;
  step_since: number | null;
  lab_id: string | null;
}

const toClass = (r: ClassRow): ClassRecord => ({
  id: r.id,
  code: r.code,
  title: r.title,
  lessons: JSON.parse(r.lessons) as string[],
  startsAt: r.starts_at,
  endsAt: r.ends_at,
  createdAt: r.created_at,
  state: r.state,
  locked: r.locked === 1,
  maxLearners: r.max_learners,
  instructorKeyHash: r.instructor_key_hash,
  labsEndAt: r.labs_end_at,
  endedAt: r.ended_at,
  follow: r.follow ? (JSON.parse(r.follow) as ClassRecord["follow"]) : null,
});
const toLearner = (r: LearnerRow): LearnerRecord => ({
  id: r.id,
  classId: r.class_id,
  name: r.name,
  keyHash: r.key_hash,
  joinedAt: r.joined_at,
  lastSeenAt: r.last_seen_at,
  lesson: r.lesson,
  step: r.step,
  stepSince: r.step_since,
  labId: r.lab_id,
});

export class SqliteClassStore implements ClassStore {
  private db: Database.Database;
  private stmts = new Map<string, Database.Statement>();

  /** Opens (creating if needed) `<dataDir>/classes.db`; `:memory:` for a throwaway store. */
  constructor(file: string) {
    if (file !== ":memory:") fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.db = new Database(file);
    if (file !== ":memory:") {
      fs.chmodSync(file, 0o600); // names of learners: not for other users of the host
      this.db.pragma("journal_mode = WAL");
    }
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("busy_timeout = 5000");
    this.migrate();
  }

  /** A prepared statement, compiled once per SQL text. */
  private q(sql: string): Database.Statement {
    let st = this.stmts.get(sql);
    if (!st) this.stmts.set(sql, (st = this.db.prepare(sql)));
    return st;
  }

  static open(dataDir: string): SqliteClassStore {
    return new SqliteClassStore(path.join(dataDir, "classes.db"));
  }

  private migrate(): void {
    const version = this.db.pragma("user_version", { simple: true }) as number;
    if (version > MIGRATIONS.length)
      throw new Error(`the class database was written by a newer nslab (schema ${version}; this one knows ${MIGRATIONS.length})`);
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  async createClass(c: ClassRecord): Promise<void> {
    this.q(
        `INSERT INTO classes (id, code, title, lessons, starts_at, ends_at, created_at, state, locked, max_learners, instructor_key_hash, labs_end_at, ended_at, follow)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        c.id,
        c.code,
        c.title,
        JSON.stringify(c.lessons),
        c.startsAt,
        c.endsAt,
        c.createdAt,
        c.state,
        c.locked ? 1 : 0,
        c.maxLearners,
        c.instructorKeyHash,
        c.labsEndAt,
        c.endedAt,
        c.follow ? JSON.stringify(c.follow) : null,
      );
  }

  async getClass(id: string): Promise<ClassRecord | null> {
    const r = this.q("SELECT * FROM classes WHERE id = ?").get(id) as ClassRow | undefined;
    return r ? toClass(r) : null;
  }

  async classByCode(code: string): Promise<ClassRecord | null> {
    const r = this.q("SELECT * FROM classes WHERE code = ?").get(code) as ClassRow | undefined;
    return r ? toClass(r) : null;
  }

  async updateClass(id: string, patch: ClassPatch): Promise<void> {
    const keys = Object.keys(patch) as (keyof ClassPatch)[];
    if (!keys.length) return;
    const values = keys.map((k) => {
      const v = patch[k];
      if (k === "locked") return v ? 1 : 0;
      if (k === "follow") return v ? JSON.stringify(v) : null;
      return v as string | number | null;
    });
    this.q(`UPDATE classes SET ${keys.map((k) => `${CLASS_COLUMNS[k]} = ?`).join(", ")} WHERE id = ?`).run(...values, id);
  }

  async unfinishedClasses(): Promise<ClassRecord[]> {
    return (this.q("SELECT * FROM classes WHERE state != 'ended' ORDER BY created_at").all() as ClassRow[]).map(toClass);
  }

  async purgeEnded(before: number): Promise<number> {
    return this.q("DELETE FROM classes WHERE state = 'ended' AND ended_at < ?").run(before).changes;
  }

  async addLearner(l: LearnerRecord): Promise<void> {
    this.q(
        `INSERT INTO learners (class_id, id, name, key_hash, joined_at, last_seen_at, lesson, step, step_since, lab_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(l.classId, l.id, l.name, l.keyHash, l.joinedAt, l.lastSeenAt, l.lesson, l.step, l.stepSince, l.labId);
  }

  async getLearner(classId: string, learnerId: string): Promise<LearnerRecord | null> {
    const r = this.q("SELECT * FROM learners WHERE class_id = ? AND id = ?").get(classId, learnerId) as LearnerRow | undefined;
    return r ? toLearner(r) : null;
  }

  async learners(classId: string): Promise<LearnerRecord[]> {
    return (this.q("SELECT * FROM learners WHERE class_id = ? ORDER BY joined_at, id").all(classId) as LearnerRow[]).map(toLearner);
  }

  async updateLearner(classId: string, learnerId: string, patch: LearnerPatch): Promise<void> {
    const keys = Object.keys(patch) as (keyof LearnerPatch)[];
    if (!keys.length) return;
    this.q(`UPDATE learners SET ${keys.map((k) => `${LEARNER_COLUMNS[k]} = ?`).join(", ")} WHERE class_id = ? AND id = ?`)
      .run(...keys.map((k) => patch[k] as string | number | null), classId, learnerId);
  }

  private readonly insertPass = (classId: string, learnerId: string, p: PassRecord): boolean =>
    this.q("INSERT INTO passes (class_id, learner_id, lesson, step, at, via) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
      .run(classId, learnerId, p.lesson, p.step, p.at, p.via).changes === 1;

  async recordCheck(r: CheckRecord): Promise<{ firstPass: boolean }> {
    return this.db.transaction(() => {
      this.q("INSERT INTO checks (class_id, learner_id, lesson, step, at, passed, kind, feedback) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .run(r.classId, r.learnerId, r.lesson, r.step, r.at, r.passed ? 1 : 0, r.kind, r.feedback);
      const firstPass = r.passed ? this.insertPass(r.classId, r.learnerId, { lesson: r.lesson, step: r.step, at: r.at, via: r.kind }) : false;
      return { firstPass };
    })();
  }

  async recordPass(classId: string, learnerId: string, pass: PassRecord): Promise<{ firstPass: boolean }> {
    return { firstPass: this.insertPass(classId, learnerId, pass) };
  }

  async passes(classId: string): Promise<(PassRecord & { learnerId: string })[]> {
    return this.q("SELECT learner_id AS learnerId, lesson, step, at, via FROM passes WHERE class_id = ? ORDER BY at, learner_id")
      .all(classId) as (PassRecord & { learnerId: string })[];
  }

  async checkCounts(classId: string): Promise<{ learnerId: string; checks: number; failed: number; lastAt: number | null }[]> {
    return this.q(
        "SELECT learner_id AS learnerId, COUNT(*) AS checks, SUM(passed = 0) AS failed, MAX(at) AS lastAt FROM checks WHERE class_id = ? GROUP BY learner_id",
      )
      .all(classId) as { learnerId: string; checks: number; failed: number; lastAt: number | null }[];
  }

  async checks(classId: string): Promise<CheckRecord[]> {
    const rows = this.q(
        "SELECT class_id AS classId, learner_id AS learnerId, lesson, step, at, passed, kind, feedback FROM checks WHERE class_id = ? ORDER BY seq",
      )
      .all(classId) as (Omit<CheckRecord, "passed"> & { passed: number })[];
    return rows.map((r) => ({ ...r, passed: r.passed === 1 }));
  }

  async addHelp(h: HelpRecord): Promise<void> {
    this.q("INSERT INTO help (class_id, id, learner_id, message, raised_at, resolved_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(h.classId, h.id, h.learnerId, h.message, h.raisedAt, h.resolvedAt);
  }

  async resolveHelp(classId: string, helpId: string, at: number): Promise<boolean> {
    return this.q("UPDATE help SET resolved_at = ? WHERE class_id = ? AND id = ? AND resolved_at IS NULL").run(at, classId, helpId).changes === 1;
  }

  private helpRows(sql: string, classId: string): HelpRecord[] {
    return this.q(sql).all(classId) as HelpRecord[];
  }

  async openHelp(classId: string): Promise<HelpRecord[]> {
    return this.helpRows(
      "SELECT id, class_id AS classId, learner_id AS learnerId, message, raised_at AS raisedAt, resolved_at AS resolvedAt FROM help WHERE class_id = ? AND resolved_at IS NULL ORDER BY raised_at, id",
      classId,
    );
  }

  async allHelp(classId: string): Promise<HelpRecord[]> {
    return this.helpRows(
      "SELECT id, class_id AS classId, learner_id AS learnerId, message, raised_at AS raisedAt, resolved_at AS resolvedAt FROM help WHERE class_id = ? ORDER BY raised_at, id",
      classId,
    );
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
