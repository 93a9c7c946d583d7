import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { createPgliteDialect } from './pglite-dialect.ts';
import type { Database } from './schema.ts';

export type Engine = 'pglite' | 'postgres';

export interface Storage {
  db: Kysely<Database>;
  engine: Engine;
  close(): Promise<void>;
}

export interface StorageOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  poolSize?: number;
}

// int8 (counts, bigserial ids) arrive as strings by default; timestamps stay Date objects.
pg.types.setTypeParser(20, (v: string) => v);

/** Opens PostgreSQL when a URL is given, else the embedded PGlite database in dataDir. */
export async function openStorage(options: StorageOptions): Promise<Storage> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    // A broken idle connection must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, engine: 'postgres', close: () => db.destroy() };
  }
  mkdirSync(options.dataDir, { recursive: true });
  const lite = await PGlite.create(options.dataDir === ':memory:' ? undefined : options.dataDir);
  const db = new Kysely<Database>({ dialect: createPgliteDialect(lite) });
  return {
    db,
    engine: 'pglite',
    close: async () => { await db.destroy(); await lite.close(); },
  };
}
