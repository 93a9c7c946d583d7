/**
 * Counts and times the SQL statements Sekisho sends in this process, by statement shape, without
 * touching src/: the query methods of node-postgres clients and of PGlite are wrapped, and each
 * statement's time is taken from the call to the settling of its promise (the round trip and the
 * database's work; Kysely has already acquired the connection, so no pool wait). Labels are those
 * of bench/query-counter.ts (`select consent_records`, `insert oidc_models[Grant] (upsert)`).
 * It can also capture the statements themselves (text and parameters) to EXPLAIN them afterwards.
 */
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { BENCH_SQL_MARK } from '../cpu-meter.ts';
import { queryDelta } from '../query-counter.ts';

export interface StatementTimes { statement: string; count: number; totalMs: number }
export interface Captured { sql: string; params: unknown[]; ms: number }

const counts = new Map<string, number>();
const micros = new Map<string, number>();
let capture: Captured[] | undefined;

/**
 * The key bench/query-counter.ts labels: the SQL, and for oidc_models the model (the first
 * parameter, when it is a model's name: the token lookup by grant ids starts with an id). The
 * ledger's advisory lock, a bare SELECT, is named as such.
 */
function keyOf(sql: string, params: unknown): string {
  const first = Array.isArray(params) ? params[0] : undefined;
  const model = sql.includes('"oidc_models"') && typeof first === 'string' && /^[A-Z][A-Za-z]+$/.test(first) ? first : '';
  return `${sql}\u0000${sql.includes('pg_advisory_xact_lock') ? 'pg_advisory_xact_lock' : model}`;
}

type QueryFn = (this: unknown, ...args: unknown[]) => unknown;
function wrap(proto: object, method: string): void {
  const target = proto as Record<string, QueryFn>;
  const original = target[method]!;
  target[method] = function timed(this: unknown, ...args: unknown[]) {
    const [sql, params] = args;
    if (typeof sql !== 'string' || sql.startsWith(BENCH_SQL_MARK)) return original.apply(this, args);
    const key = keyOf(sql, params);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const t0 = performance.now();
    const result = original.apply(this, args);
    const done = () => {
      const ms = performance.now() - t0;
      micros.set(key, (micros.get(key) ?? 0) + Math.round(ms * 1000));
      capture?.push({ sql, params: Array.isArray(params) ? params : [], ms });
    };
    if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(done, done);
    return result;
  };
}

export function installStatementTimer(): void {
  wrap(pg.Client.prototype, 'query');
  wrap(PGlite.prototype, 'query');
  wrap(PGlite.prototype, 'exec');
}

export interface Snapshot { counts: Map<string, number>; micros: Map<string, number> }
export function snapshotStatements(): Snapshot {
  return { counts: new Map(counts), micros: new Map(micros) };
}

/** Statements between two snapshots, by label, most time first. */
export function statementDelta(before: Snapshot, after: Snapshot): StatementTimes[] {
  const n = queryDelta(before.counts, after.counts);
  const us = new Map(queryDelta(before.micros, after.micros).map((x) => [x.statement, x.count]));
  return n.map((x) => ({ statement: x.statement, count: x.count, totalMs: (us.get(x.statement) ?? 0) / 1000 }))
    .sort((a, b) => b.totalMs - a.totalMs);
}

/** Starts keeping every statement's text, parameters and time; `stopCapture` hands them over. */
export function startCapture(): void {
  capture = [];
}
export function stopCapture(): Captured[] {
  const got = capture ?? [];
  capture = undefined;
  return got;
}

/** The label bench/query-counter.ts would give one statement. */
export function labelStatement(sql: string, params: unknown[]): string {
  return queryDelta(new Map(), new Map([[keyOf(sql, params), 1]]))[0]?.statement ?? sql.slice(0, 40);
}
