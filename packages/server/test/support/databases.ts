import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const POSTGRES_ENV = 'SEKISHO_TEST_DATABASE_URL';

/** The PostgreSQL server tests may use, or undefined (tests then skip and say why). */
export function postgresUrl(): string | undefined {
  return process.env[POSTGRES_ENV] || undefined;
}

export const POSTGRES_SKIP = postgresUrl() ? false : `PostgreSQL tests skipped: set ${POSTGRES_ENV} (e.g. postgres://postgres@127.0.0.1:5432/test) to run them`;

/** A fresh, empty database on the test server; drop() removes it. */
export async function createTempDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = postgresUrl();
  if (!base) throw new Error(`${POSTGRES_ENV} is not set`);
  const name = `sekisho_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
