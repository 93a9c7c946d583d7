/**
 * WHAT-IF EXPERIMENTS, never part of a normal `npm run bench`: BENCH_WHATIF=name,name applies
 * runtime changes to a running Sekisho (in this benchmark process only) that prototype the
 * optimisations proposed in docs/benchmarks.md, so each proposal comes with a measured effect.
 * Results of such a run are labelled with the experiments applied. Nothing here is a fix: the
 * real changes belong in packages/server/src.
 */
import { CompiledQuery, sql } from 'kysely';
import pg from 'pg';
import type { Sekisho } from '../../packages/server/src/app.ts';

export const WHAT_IFS = ['account-cache', 'precompiled-reads', 'replay-unlogged', 'async-commit'] as const;
export type WhatIf = (typeof WHAT_IFS)[number];

export function whatIfsFromEnv(env: NodeJS.ProcessEnv = process.env): WhatIf[] {
  const names = (env.BENCH_WHATIF ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!WHAT_IFS.includes(n as WhatIf)) throw new Error(`BENCH_WHATIF: unknown experiment ${n} (known: ${WHAT_IFS.join(', ')})`);
  return names as WhatIf[];
}

/** Before Sekisho connects: settings that live in the database. */
export async function prepareDatabase(whatIfs: WhatIf[], databaseUrl: string | undefined): Promise<void> {
  if (!databaseUrl || !whatIfs.includes('async-commit')) return;
  // Commits return before the WAL is flushed (a crash loses at most ~3 × wal_writer_delay of them).
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    await c.query(`/* bench */ ALTER DATABASE "${new URL(databaseUrl).pathname.slice(1)}" SET synchronous_commit = off`);
  } finally {
    await c.end();
  }
}

/** After createSekisho: changes to the running instance. */
export async function applyWhatIfs(app: Sekisho, whatIfs: WhatIf[]): Promise<void> {
  if (whatIfs.includes('account-cache')) {
    // findAccount runs twice per code flow (authorize, token); claims reused for 5 s.
    app.accounts.findById = memoise(app.accounts.findById.bind(app.accounts), 5_000);
  }
  if (whatIfs.includes('precompiled-reads')) precompiledReads(app);
  if (whatIfs.includes('replay-unlogged')) {
    // Replay ids without WAL (and without its fsync); lost, with the whole table, after a crash.
    await sql`ALTER TABLE "replay_jtis" SET UNLOGGED`.execute(app.storage.db);
  }
}

type Row = { payload: Record<string, unknown>; consumed_at: Date | null };
interface ModelAdapter { find(id: string): Promise<unknown>; findByUid(uid: string): Promise<unknown>; consume(id: string): Promise<void> }

const LIVE = `("expires_at" is null or "expires_at" > now())`;
const FIND = `select "payload", "consumed_at" from "oidc_models" where "model" = $1 and "id" = $2 and ${LIVE}`;
const FIND_BY_UID = `select "payload", "consumed_at" from "oidc_models" where "model" = $1 and "uid" = $2 and ${LIVE}`;
const CONSUME = `update "oidc_models" set "consumed_at" = now() where "model" = $1 and "id" = $2 and "consumed_at" is null returning "id"`;

/**
 * The adapter's reads and its consume as SQL written once (the same statements Kysely builds),
 * instead of building and compiling a query object on every call. A lost consume race falls
 * back to the adapter's own consume, which then reports the conflict as before.
 */
function precompiledReads(app: Sekisho): void {
  const db = app.storage.db;
  const toPayload = (row: Row | undefined) => row && (row.consumed_at ? { ...row.payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : row.payload);
  for (const model of ['Session', 'Grant', 'Interaction', 'PushedAuthorizationRequest', 'AuthorizationCode', 'AccessToken', 'RefreshToken', 'ClientCredentials']) {
    const adapter = (app.provider as unknown as Record<string, { adapter: ModelAdapter }>)[model]!.adapter;
    const consume = adapter.consume.bind(adapter);
    adapter.find = async (id) => toPayload((await db.executeQuery(CompiledQuery.raw(FIND, [model, id]))).rows[0] as Row | undefined);
    adapter.findByUid = async (uid) => toPayload((await db.executeQuery(CompiledQuery.raw(FIND_BY_UID, [model, uid]))).rows[0] as Row | undefined);
    adapter.consume = async (id) => {
      if ((await db.executeQuery(CompiledQuery.raw(CONSUME, [model, id]))).rows.length === 0) await consume(id);
    };
  }
}

function memoise<A, R>(fn: (key: A) => Promise<R>, ttlMs: number): (key: A) => Promise<R> {
  const cache = new Map<A, { at: number; value: Promise<R> }>();
  return (key) => {
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < ttlMs) return hit.value;
    const value = fn(key);
    cache.set(key, { at: Date.now(), value });
    return value;
  };
}
