/**
 * `npm run bench -- consent`, the server side: a real Sekisho (PGlite or PostgreSQL, set up by
 * bench/sekisho-server-process.ts) in its own process, with the benchmark client and one password
 * person per flow loop. On request of the load generator (bench/consent/run.ts, another process)
 * it reports what happened inside the server during a measured window (CPU, event loop, statements
 * and their time), seeds the My consents person (bench/consent/seed.ts), and EXPLAINs the
 * statements one request sent (PostgreSQL).
 */
import pg from 'pg';
import { BENCH_SQL_MARK, processCpuSeconds } from '../cpu-meter.ts';
import { answerLoadGenerator, createPasswordPeople, processWindow, readProcessCounters, startBenchSekisho, type PasswordPerson, type ProcessCounters, type SekishoPlan } from '../sekisho-server-process.ts';
import type { WindowReply } from '../server-child.ts';
import { installStatementTimer, labelStatement, snapshotStatements, startCapture, statementDelta, stopCapture, type Snapshot, type StatementTimes } from './statement-timer.ts';
import { seedConsentHistory, type SeedResult, type SeedSettings } from './seed.ts';
import { applyConsentWhatIfs, consentWhatIfsFromEnv } from './what-if.ts';

export interface ConsentPlan extends SekishoPlan { people: PasswordPerson[] }

/** What the server saw between `window-start` and `window-end`. */
export interface ServerWindow {
  seconds: number;
  loopBusy: number;
  cpu: { serverThread: number; otherThreads: number; postgresBackends: number; machine: number };
  statements: StatementTimes[];
}

export interface Explained { label: string; sql: string; ms: number; executionMs: number | undefined; plan: string }

/** The consent benchmark's own requests, besides the measured windows (bench/server-child.ts). */
export type ToServer = { type: 'seed'; settings: SeedSettings } | { type: 'capture-start' } | { type: 'capture-end' } | { type: 'analyze' };
export type FromServer = { type: 'seeded'; seed: SeedResult } | { type: 'analyzed' } | { type: 'capture-started' } | { type: 'captured'; statements: Explained[] };
type Reply = WindowReply<ConsentPlan, ServerWindow> | FromServer;

const options = JSON.parse(process.env.BENCH_CONSENT_OPTIONS ?? '{}') as { people: number };
const databaseUrl = process.env.BENCH_TARGET_DATABASE_URL || undefined;

installStatementTimer();
// WHAT-IF experiments (BENCH_CONSENT_WHATIF): labelled in the report, never Sekisho as shipped.
applyConsentWhatIfs(consentWhatIfsFromEnv(process.env));
const sekisho = await startBenchSekisho({ label: 'consent', databaseUrl, grantTypes: ['authorization_code', 'refresh_token'] });
const { app, backends } = sekisho;

// One person per flow loop.
const people = await createPasswordPeople(app, 'bench-consent', options.people);

process.send!({ type: 'ready', plan: { ...sekisho.plan, people } } satisfies Reply);

let start: { counters: ProcessCounters; backends: Promise<Map<number, number>>; statements: Snapshot } | undefined;

/** CPU seconds of each backend serving Sekisho's pool now. */
async function backendCpu(): Promise<Map<number, number>> {
  return new Map((await backends?.pids() ?? []).map((pid) => [pid, processCpuSeconds([pid])]));
}

answerLoadGenerator<ToServer, Reply>(sekisho, async (m) => {
  if (m.type === 'window-start') {
    start = { counters: readProcessCounters(), backends: backendCpu(), statements: snapshotStatements() };
    return { type: 'window-started' };
  } else if (m.type === 'window-end') {
    const a = start!;
    const end = readProcessCounters();
    const statements = statementDelta(a.statements, snapshotStatements());
    // Backends opened during the window (the pool replaces idle ones) count in full; those that
    // closed during it drop out of the sum (their CPU can no longer be read).
    const [before, after] = [await a.backends, await backendCpu()];
    const postgres = [...after].reduce((sum, [pid, cpu]) => sum + Math.max(0, cpu - (before.get(pid) ?? 0)), 0);
    const { seconds, loopBusy, cpu } = processWindow(a.counters, end);
    return { type: 'window', window: { seconds, loopBusy, cpu: { serverThread: cpu.serverThread, otherThreads: cpu.otherThreads, postgresBackends: postgres, machine: cpu.machine }, statements } };
  } else if (m.type === 'seed') {
    return { type: 'seeded', seed: await seedConsentHistory(app, m.settings, sekisho.publicJwk, sekisho.config.consent.retentionDays) };
  } else if (m.type === 'analyze') {
    // What autovacuum does after many inserts: statistics for the planner (PostgreSQL only).
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`${BENCH_SQL_MARK} ANALYZE consent_records, consent_grants, oidc_models`).finally(() => client.end());
    return { type: 'analyzed' };
  } else if (m.type === 'capture-start') {
    startCapture();
    return { type: 'capture-started' };
  } else {
    return { type: 'captured', statements: await explain(stopCapture()) };
  }
});

/** EXPLAIN (ANALYZE, BUFFERS) of every SELECT captured, on its own connection (PostgreSQL only). */
async function explain(captured: Array<{ sql: string; params: unknown[]; ms: number }>): Promise<Explained[]> {
  if (!databaseUrl) return captured.map((c) => ({ label: labelStatement(c.sql, c.params), sql: c.sql, ms: c.ms, executionMs: undefined, plan: '' }));
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const out: Explained[] = [];
    for (const c of captured) {
      const label = labelStatement(c.sql, c.params);
      if (!/^\s*select/i.test(c.sql)) { out.push({ label, sql: c.sql, ms: c.ms, executionMs: undefined, plan: '' }); continue; }
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`${BENCH_SQL_MARK} EXPLAIN (ANALYZE, BUFFERS) ${c.sql}`, c.params);
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      const executionMs = Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1]);
      out.push({ label, sql: c.sql, ms: c.ms, executionMs: Number.isFinite(executionMs) ? executionMs : undefined, plan });
    }
    return out;
  } finally {
    await client.end();
  }
}
