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

/**
 * The Sekisho engines a benchmark measures: BENCH_TARGETS (default pglite,postgres), PostgreSQL
 * only with a database URL (else it is listed in `skipped`). Shared by the identity and consent
 * benchmarks so both choose and name their engines alike.
 */
export function sekishoEngines(env: NodeJS.ProcessEnv = process.env) {
  const databaseUrl = benchDatabaseUrl(env);
  const wanted = (env.BENCH_TARGETS ?? 'pglite,postgres').split(',').map((s) => s.trim()).filter(Boolean);
  const skipped: string[] = [];
  if (wanted.includes('postgres') && !databaseUrl) skipped.push('Sekisho on PostgreSQL — set BENCH_DATABASE_URL or SEKISHO_TEST_DATABASE_URL');
  const engines = (['pglite', 'postgres'] as const).filter((e) => wanted.includes(e) && (e !== 'postgres' || databaseUrl));
  return { databaseUrl, engines, skipped };
}

/**
 * Runs `run` for each target in turn, `postgres` on a fresh database of `databaseUrl`'s server
 * (dropped afterwards whatever happens), the others with no URL. One home for that loop, used by
 * every benchmark; also returns the PostgreSQL server's version when it ran.
 */
export async function runOnFreshDatabases<T extends string, R>(
  targets: readonly T[],
  databaseUrl: string | undefined,
  run: (target: T, url: string | undefined) => Promise<R>,
): Promise<{ results: R[]; postgresVersion: string | undefined }> {
  const results: R[] = [];
  let postgresVersion: string | undefined;
  for (const target of targets) {
    const database: TempDatabase | undefined = target === 'postgres' ? await createTempDatabase(databaseUrl!) : undefined;
    try {
      postgresVersion ??= database?.serverVersion;
      results.push(await run(target, database?.url));
    } finally {
      await database?.drop();
    }
  }
  return { results, postgresVersion };
}
