import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { BENCH_SQL_MARK } from './cpu-meter.ts';

/**
 * Counts the SQL statements Sekisho sends, by statement shape, without touching src/: the
 * query methods of node-postgres clients and of PGlite are wrapped in this process. The cost is one
 * Map increment per statement. For oidc_models the model name (always the first parameter in
 * the adapter's statements) is part of the label, so "insert oidc_models[AccessToken]" and
 * "insert oidc_models[ReplayDetection]" are told apart.
 */
const counts = new Map<string, number>();

function note(sql: unknown, params: unknown): void {
  if (typeof sql !== 'string' || sql.startsWith(BENCH_SQL_MARK)) return;
  const first = Array.isArray(params) && sql.includes('"oidc_models"') && typeof params[0] === 'string' ? params[0] : '';
  const key = `${sql}\u0000${first}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

type QueryFn = (this: unknown, ...args: unknown[]) => unknown;
function wrap(proto: object, method: string): void {
  const target = proto as Record<string, QueryFn>;
  const original = target[method]!;
  target[method] = function counted(this: unknown, ...args: unknown[]) {
    note(args[0], args[1]);
    return original.apply(this, args);
  };
}

export function installQueryCounter(): void {
  wrap(pg.Client.prototype, 'query');
  wrap(PGlite.prototype, 'query');
  wrap(PGlite.prototype, 'exec');
}

export function snapshotQueries(): Map<string, number> {
  return new Map(counts);
}

/** Statements issued between two snapshots, labelled `verb table[model]`, most frequent first. */
export function queryDelta(before: Map<string, number>, after: Map<string, number>): Array<{ statement: string; count: number }> {
  const byLabel = new Map<string, number>();
  for (const [key, n] of after) {
    const d = n - (before.get(key) ?? 0);
    if (d <= 0) continue;
    const [sql, model] = key.split('\u0000') as [string, string];
    const label = labelOf(sql, model);
    byLabel.set(label, (byLabel.get(label) ?? 0) + d);
  }
  return [...byLabel].map(([statement, count]) => ({ statement, count })).sort((a, b) => b.count - a.count);
}

function labelOf(sql: string, model: string): string {
  const s = sql.trim().toLowerCase();
  const verb = /^(select|insert|update|delete|begin|commit|rollback)/.exec(s)?.[1] ?? s.slice(0, 20);
  const table = /(?:from|into|update)\s+"([a-z_]+)"/.exec(s)?.[1] ?? '';
  const conflict = verb === 'insert' && s.includes('on conflict') ? ' (upsert)' : '';
  return `${verb} ${table}${model ? `[${model}]` : ''}${conflict}`.trim();
}
