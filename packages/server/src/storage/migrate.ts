import { readdirSync, readFileSync } from 'node:fs';
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
// Any constant works; it only has to be the same in every Sekisho process.
const MIGRATION_LOCK = 727_274_001;

/**
 * Applies migrations/NNNN_name.sql in order, each in its own transaction, once. Several processes
 * starting together on one PostgreSQL serialise on an advisory lock.
 */
export async function migrate(db: Kysely<Database>): Promise<string[]> {
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort();
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(trx);
    await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
      version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`.execute(trx);
    const done = new Set((await trx.selectFrom('schema_migrations').select('version').execute()).map((r) => r.version));
    const applied: string[] = [];
    for (const file of files) {
      const version = file.replace(/\.sql$/, '');
      if (done.has(version)) continue;
      await sql.raw(readFileSync(new URL(file, MIGRATIONS_DIR), 'utf8')).execute(trx);
      await trx.insertInto('schema_migrations').values({ version }).execute();
      applied.push(version);
    }
    return applied;
  });
}
