import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL server to benchmark on: BENCH_DATABASE_URL, else the test suite's SEKISHO_TEST_DATABASE_URL. */
export function benchDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.BENCH_DATABASE_URL || env.SEKISHO_TEST_DATABASE_URL || undefined;
}

export interface TempDatabase { url: string; serverVersion: string; drop(): Promise<void> }

/** A fresh, empty database for one run (Sekisho migrates it at start); drop() removes it. */
export async function createTempDatabase(baseUrl: string): Promise<TempDatabase> {
  const name = `sekisho_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  let serverVersion: string;
  try {
    serverVersion = String((await admin.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    serverVersion,
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
