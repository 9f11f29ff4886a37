import "server-only";
import pg from "pg";
import type { CheckRecord, ClassPatch, ClassRecord, ClassStore, HelpRecord, LearnerPatch, LearnerRecord, PassRecord } from "./store.ts";
import { CLASS_COLUMNS, LEARNER_COLUMNS } from "./store.ts";

/**
 * The shared class store for a deployment with several web replicas (issue 15): the same data and
 * behaviour as the SQLite store (store.contract.ts runs against both), in PostgreSQL through `pg`.
 * Chosen by NSLAB_DATABASE_URL; without it the server keeps its embedded SQLite file.
 *
 * Tables are prefixed `nslab_` so the store can share a database with other applications; the
 * user needs to create tables in it the first time (then only to read and write them). The schema
 * is versioned in `nslab_schema`; each web replica that starts migrates under a transaction-level
 * advisory lock, so replicas started together do not race (the first migrates, the others find
 * the schema current). Times are BIGINT milliseconds, returned as numbers (they fit in 2^53).
 */
const MIGRATIONS: string[] = [
  `CREATE TABLE nslab_classes (
     id TEXT PRIMARY KEY,
     code TEXT NOT NULL UNIQUE,
     title TEXT NOT NULL,
     lessons JSONB NOT NULL,
     starts_at BIGINT NOT NULL,
     ends_at BIGINT NOT NULL,
     created_at BIGINT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('open', 'ending', 'ended')),
     locked BOOLEAN NOT NULL DEFAULT false,
     max_learners INTEGER NOT NULL,
     instructor_key_hash TEXT NOT NULL,
     labs_end_at BIGINT,
     ended_at BIGINT,
     follow JSONB
   );
   CREATE TABLE nslab_learners (
     class_id TEXT NOT NULL REFERENCES nslab_classes(id) ON DELETE CASCADE,
     id TEXT NOT NULL,
     name TEXT NOT NULL,
     key_hash TEXT NOT NULL,
     joined_at BIGINT NOT NULL,
     last_seen_at BIGINT NOT NULL,
     lesson TEXT,
     step TEXT,
     step_since BIGINT,
     lab_id TEXT,
     PRIMARY KEY (class_id, id)
   );
   CREATE TABLE nslab_passes (
     class_id TEXT NOT NULL,
     learner_id TEXT NOT NULL,
     lesson TEXT NOT NULL,
     step TEXT NOT NULL,
     at BIGINT NOT NULL,
     via TEXT NOT NULL CHECK (via IN ('check', 'solve', 'manual')),
     PRIMARY KEY (class_id, learner_id, lesson, step),
     FOREIGN KEY (class_id, learner_id) REFERENCES nslab_learners(class_id, id) ON DELETE CASCADE
   );
   CREATE TABLE nslab_checks (
     seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     class_id TEXT NOT NULL,
     learner_id TEXT NOT NULL,
     lesson TEXT NOT NULL,
     step TEXT NOT NULL,
     at BIGINT NOT NULL,
     passed BOOLEAN NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('check', 'solve')),
     feedback TEXT NOT NULL,
     FOREIGN KEY (class_id, learner_id) REFERENCES nslab_learners(class_id, id) ON DELETE CASCADE
   );
   CREATE INDEX nslab_checks_by_class ON nslab_checks (class_id, learner_id);
   CREATE TABLE nslab_help (
     class_id TEXT NOT NULL,
     id TEXT NOT NULL,
     learner_id TEXT NOT NULL,
     message TEXT NOT NULL,
     raised_at BIGINT NOT NULL,
     resolved_at BIGINT,
     PRIMARY KEY (class_id, id),
     FOREIGN KEY (class_id, learner_id) REFERENCES nslab_learners(class_id, id) ON DELETE CASCADE
   );`,
];

/** one lock id for "migrating nslab's class schema" (any constant; all replicas use the same) */
const MIGRATION_LOCK = 0x6e736c6162; // "nslab"

const CLASS_SELECT = `SELECT id, code, title, lessons, starts_at AS "startsAt", ends_at AS "endsAt", created_at AS "createdAt", state, locked,
  max_learners AS "maxLearners", instructor_key_hash AS "instructorKeyHash", labs_end_at AS "labsEndAt", ended_at AS "endedAt", follow FROM nslab_classes`;
const LEARNER_SELECT = `SELECT id, class_id AS "classId", name, key_hash AS "keyHash", joined_at AS "joinedAt", last_seen_at AS "lastSeenAt", lesson, step,
  step_since AS "stepSince", lab_id AS "labId" FROM nslab_learners`;
const HELP_SELECT = `SELECT id, class_id AS "classId", learner_id AS "learnerId", message, raised_at AS "raisedAt", resolved_at AS "resolvedAt" FROM nslab_help`;

/** BIGINT (int8, oid 20) as a number: times in ms and counts, all far below 2^53 */
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

export interface PostgresOptions {
  /** connections per web replica (default 10) */
  maxConnections?: number;
  /** a connection that fails while idle in the pool (the server restarted, the network dropped) */
  onError?: (e: Error) => void;
}

export class PostgresClassStore implements ClassStore {
  private constructor(private readonly pool: pg.Pool) {}

  /** Connects to `url` (postgres://user:password@host:port/db?sslmode=...), then brings the schema up to date. */
  static async connect(url: string, o: PostgresOptions = {}): Promise<PostgresClassStore> {
    const pool = new pg.Pool({
      connectionString: url,
      max: o.maxConnections ?? 10,
      types,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      // a request must not hang on a stuck database: the statement is cancelled and the call fails
      statement_timeout: 15_000,
      application_name: "nslab",
    });
    // without a listener, an idle connection's error would be thrown out of the event loop
    pool.on("error", (e) => o.onError?.(e));
    const store = new PostgresClassStore(pool);
    try {
      await store.migrate();
    } catch (e) {
      await pool.end();
      throw e;
    }
    return store;
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query("BEGIN");
      const out = await fn(c);
      await c.query("COMMIT");
      return out;
    } catch (e) {
      await c.query("ROLLBACK").catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  private async migrate(): Promise<void> {
    await this.tx(async (c) => {
      await c.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
      await c.query("CREATE TABLE IF NOT EXISTS nslab_schema (version INTEGER NOT NULL)");
      const r = await c.query<{ version: number }>("SELECT version FROM nslab_schema");
      if (!r.rows.length) await c.query("INSERT INTO nslab_schema (version) VALUES (0)");
      const version = r.rows[0]?.version ?? 0;
      if (version > MIGRATIONS.length)
        throw new Error(`the class database was written by a newer nslab (schema ${version}; this one knows ${MIGRATIONS.length})`);
      for (let v = version; v < MIGRATIONS.length; v++) await c.query(MIGRATIONS[v]!);
      if (version < MIGRATIONS.length) await c.query("UPDATE nslab_schema SET version = $1", [MIGRATIONS.length]);
    });
  }

  private async rows<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.pool.query<T>(sql, params)).rows;
  }

  async createClass(c: ClassRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO nslab_classes (id, code, title, lessons, starts_at, ends_at, created_at, state, locked, max_learners, instructor_key_hash, labs_end_at, ended_at, follow)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [c.id, c.code, c.title, JSON.stringify(c.lessons), c.startsAt, c.endsAt, c.createdAt, c.state, c.locked, c.maxLearners, c.instructorKeyHash, c.labsEndAt, c.endedAt, c.follow ? JSON.stringify(c.follow) : null],
    );
  }

  async getClass(id: string): Promise<ClassRecord | null> {
    return (await this.rows<ClassRecord>(`${CLASS_SELECT} WHERE id = $1`, [id]))[0] ?? null;
  }

  async classByCode(code: string): Promise<ClassRecord | null> {
    return (await this.rows<ClassRecord>(`${CLASS_SELECT} WHERE code = $1`, [code]))[0] ?? null;
  }

  async updateClass(id: string, patch: ClassPatch): Promise<void> {
    const keys = Object.keys(patch) as (keyof ClassPatch)[];
    if (!keys.length) return;
    const values = keys.map((k) => (k === "follow" ? (patch.follow ? JSON.stringify(patch.follow) : null) : patch[k]));
    await this.pool.query(`UPDATE nslab_classes SET ${keys.map((k, i) => `${CLASS_COLUMNS[k]} = $${i + 1}`).join(", ")} WHERE id = $${keys.length + 1}`, [...values, id]);
  }

  async unfinishedClasses(): Promise<ClassRecord[]> {
    return this.rows<ClassRecord>(`${CLASS_SELECT} WHERE state != 'ended' ORDER BY created_at, id`);
  }

  async purgeEnded(before: number): Promise<number> {
    return (await this.pool.query("DELETE FROM nslab_classes WHERE state = 'ended' AND ended_at < $1", [before])).rowCount ?? 0;
  }

  async addLearner(l: LearnerRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO nslab_learners (class_id, id, name, key_hash, joined_at, last_seen_at, lesson, step, step_since, lab_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [l.classId, l.id, l.name, l.keyHash, l.joinedAt, l.lastSeenAt, l.lesson, l.step, l.stepSince, l.labId],
    );
  }

  async getLearner(classId: string, learnerId: string): Promise<LearnerRecord | null> {
    return (await this.rows<LearnerRecord>(`${LEARNER_SELECT} WHERE class_id = $1 AND id = $2`, [classId, learnerId]))[0] ?? null;
  }

  async learners(classId: string): Promise<LearnerRecord[]> {
    return this.rows<LearnerRecord>(`${LEARNER_SELECT} WHERE class_id = $1 ORDER BY joined_at, id COLLATE "C"`, [classId]);
  }

  async updateLearner(classId: string, learnerId: string, patch: LearnerPatch): Promise<void> {
    const keys = Object.keys(patch) as (keyof LearnerPatch)[];
    if (!keys.length) return;
    const n = keys.length;
    await this.pool.query(`UPDATE nslab_learners SET ${keys.map((k, i) => `${LEARNER_COLUMNS[k]} = $${i + 1}`).join(", ")} WHERE class_id = $${n + 1} AND id = $${n + 2}`, [
      ...keys.map((k) => patch[k]),
      classId,
      learnerId,
    ]);
  }

  private static async insertPass(q: pg.Pool | pg.PoolClient, classId: string, learnerId: string, p: PassRecord): Promise<boolean> {
    const r = await q.query("INSERT INTO nslab_passes (class_id, learner_id, lesson, step, at, via) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING", [
      classId,
      learnerId,
      p.lesson,
      p.step,
      p.at,
      p.via,
    ]);
    return r.rowCount === 1;
  }

  async recordCheck(r: CheckRecord): Promise<{ firstPass: boolean }> {
    return this.tx(async (c) => {
      await c.query("INSERT INTO nslab_checks (class_id, learner_id, lesson, step, at, passed, kind, feedback) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", [
        r.classId,
        r.learnerId,
        r.lesson,
        r.step,
        r.at,
        r.passed,
        r.kind,
        r.feedback,
      ]);
      const firstPass = r.passed ? await PostgresClassStore.insertPass(c, r.classId, r.learnerId, { lesson: r.lesson, step: r.step, at: r.at, via: r.kind }) : false;
      return { firstPass };
    });
  }

  async recordPass(classId: string, learnerId: string, pass: PassRecord): Promise<{ firstPass: boolean }> {
    return { firstPass: await PostgresClassStore.insertPass(this.pool, classId, learnerId, pass) };
  }

  async passes(classId: string): Promise<(PassRecord & { learnerId: string })[]> {
    return this.rows(`SELECT learner_id AS "learnerId", lesson, step, at, via FROM nslab_passes WHERE class_id = $1 ORDER BY at, learner_id COLLATE "C"`, [classId]);
  }

  async checkCounts(classId: string): Promise<{ learnerId: string; checks: number; failed: number; lastAt: number | null }[]> {
    return this.rows(
      `SELECT learner_id AS "learnerId", COUNT(*)::int AS checks, (COUNT(*) FILTER (WHERE NOT passed))::int AS failed, MAX(at) AS "lastAt"
       FROM nslab_checks WHERE class_id = $1 GROUP BY learner_id ORDER BY learner_id COLLATE "C"`,
      [classId],
    );
  }

  async checks(classId: string): Promise<CheckRecord[]> {
    return this.rows(`SELECT class_id AS "classId", learner_id AS "learnerId", lesson, step, at, passed, kind, feedback FROM nslab_checks WHERE class_id = $1 ORDER BY seq`, [classId]);
  }

  async addHelp(h: HelpRecord): Promise<void> {
    await this.pool.query("INSERT INTO nslab_help (class_id, id, learner_id, message, raised_at, resolved_at) VALUES ($1, $2, $3, $4, $5, $6)", [
      h.classId,
      h.id,
      h.learnerId,
      h.message,
      h.raisedAt,
      h.resolvedAt,
    ]);
  }

  async resolveHelp(classId: string, helpId: string, at: number): Promise<boolean> {
    return (await this.pool.query("UPDATE nslab_help SET resolved_at = $1 WHERE class_id = $2 AND id = $3 AND resolved_at IS NULL", [at, classId, helpId])).rowCount === 1;
  }

  async openHelp(classId: string): Promise<HelpRecord[]> {
    return this.rows<HelpRecord>(`${HELP_SELECT} WHERE class_id = $1 AND resolved_at IS NULL ORDER BY raised_at, id COLLATE "C"`, [classId]);
  }

  async allHelp(classId: string): Promise<HelpRecord[]> {
    return this.rows<HelpRecord>(`${HELP_SELECT} WHERE class_id = $1 ORDER BY raised_at, id COLLATE "C"`, [classId]);
  }

  private closed = false;
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
