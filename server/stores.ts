import "server-only";
import { SqliteClassStore } from "./classes/sqlite.ts";
import type { ClassStore } from "./classes/store.ts";
import type { Config } from "./config.ts";
import { log } from "./log/log.ts";

/**
 * Where class data lives: PostgreSQL when NSLAB_DATABASE_URL is set (several web replicas share
 * it; `pg` is loaded only then), else the embedded SQLite file under the data directory.
 */
export async function openClassStore(config: Config): Promise<ClassStore> {
  if (!config.databaseUrl) return SqliteClassStore.open(config.dataDir);
  const { PostgresClassStore } = await import("./classes/postgres.ts");
  return PostgresClassStore.connect(config.databaseUrl, { onError: (e) => log.warn({ err: e }, "class database connection failed (the pool reconnects)") });
}
