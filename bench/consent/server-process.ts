/**
 * `npm run bench -- consent`, the server side: a real Sekisho (PGlite or PostgreSQL) in its own
 * process, with the benchmark client and one password person per flow loop. On request of the
 * load generator (bench/consent/run.ts, another process) it reports what happened inside the server
 * during a measured window (CPU, event loop, statements and their time), seeds the My consents
 * person (bench/consent/seed.ts), and EXPLAINs the statements one request sent (PostgreSQL).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { createSekisho } from '../../packages/server/src/app.ts';
import { parseConfig } from '../../packages/server/src/config/load.ts';
import { createListener, listen, shutdown } from '../../packages/server/src/http/server.ts';
import { createLogger } from '../../packages/server/src/shared/logger.ts';
import { generateKekValue } from '../../packages/server/src/keys/kek.ts';
import { registerClient } from '../../packages/server/src/protocol/client-registration.ts';
import { createClientsRepository } from '../../packages/server/src/storage/clients-repo.ts';
import { REDIRECT_URI } from '../../packages/server/test/support/clients.ts';
import { freePort } from '../targets/free-port.ts';
import { benchClaims, RESOURCE_SERVER } from '../targets/types.ts';
import { BENCH_SQL_MARK, createBackendObserver, machineCpuSeconds, processCpuSeconds } from '../cpu-meter.ts';
import { installStatementTimer, labelStatement, snapshotStatements, startCapture, statementDelta, stopCapture, type Snapshot, type StatementTimes } from './statement-timer.ts';
import { seedConsentHistory, type SeedResult, type SeedSettings } from './seed.ts';
import { applyConsentWhatIfs, consentWhatIfsFromEnv } from './what-if.ts';

export interface PasswordPerson { username: string; password: string }
export interface ConsentPlan {
  engine: 'pglite' | 'postgres';
  issuer: string;
  origin: string;
  clientId: string;
  privateJwk: JWK;
  kid: string;
  people: PasswordPerson[];
}

/** What the server saw between `window-start` and `window-end`. */
export interface ServerWindow {
  seconds: number;
  loopBusy: number;
  cpu: { serverThread: number; otherThreads: number; postgresBackends: number; machine: number };
  statements: StatementTimes[];
}

export interface Explained { label: string; sql: string; ms: number; executionMs: number | undefined; plan: string }

export type ToServer = { type: 'window-start' } | { type: 'window-end' } | { type: 'seed'; settings: SeedSettings }
  | { type: 'capture-start' } | { type: 'capture-end' } | { type: 'analyze' } | { type: 'close' };
export type FromServer = { type: 'ready'; plan: ConsentPlan } | { type: 'window-started' } | { type: 'window'; window: ServerWindow }
  | { type: 'seeded'; seed: SeedResult } | { type: 'analyzed' } | { type: 'capture-started' } | { type: 'captured'; statements: Explained[] } | { type: 'closed' };

const options = JSON.parse(process.env.BENCH_CONSENT_OPTIONS ?? '{}') as { people: number };
const databaseUrl = process.env.BENCH_TARGET_DATABASE_URL || undefined;
const send = (m: FromServer) => process.send!(m);

installStatementTimer();
// WHAT-IF experiments (BENCH_CONSENT_WHATIF): labelled in the report, never Sekisho as shipped.
applyConsentWhatIfs(consentWhatIfsFromEnv(process.env));
const dir = mkdtempSync(join(tmpdir(), 'sekisho-bench-consent-'));
const port = await freePort();
const issuer = `http://localhost:${port}`;
const config = parseConfig({
  issuer, port, host: '127.0.0.1', dataDir: join(dir, 'data'), databaseUrl,
  keyEncryptionKey: generateKekValue(), logLevel: 'warn', resourceServers: [RESOURCE_SERVER],
});
const logger = createLogger('warn', { target: databaseUrl ? 'postgres' : 'pglite' }, (line) => process.stderr.write(`${line}\n`));
const app = await createSekisho(config, logger);
const server = createListener(config, app.callback);
await listen(server, port, '127.0.0.1');
const backends = databaseUrl ? await createBackendObserver(databaseUrl) : undefined;

// The benchmark client: FAPI 2.0, private_key_jwt + DPoP, as in the other benchmarks.
const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
const publicJwk = await exportJWK(publicKey);
const kid = 'bench-signing-key';
const clientId = 'bench-client';
await registerClient(app.provider, createClientsRepository(app.storage.db), {
  client_id: clientId, client_name: 'Benchmark client',
  token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256', dpop_bound_access_tokens: true,
  grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [REDIRECT_URI],
  jwks: { keys: [{ ...publicJwk, kid, alg: 'ES256', use: 'sig' }] },
});

// One person per flow loop; the accounts service hashes their passwords with its own parameters.
const people = await Promise.all(Array.from({ length: options.people }, async (_, i): Promise<PasswordPerson> => {
  const username = `bench-consent-${i + 1}`;
  const password = `bench-${i + 1}-${generateKekValue().slice(0, 16)}`;
  await app.accounts.create({ username, password, claims: benchClaims(username) });
  return { username, password };
}));

send({
  type: 'ready',
  plan: { engine: databaseUrl ? 'postgres' : 'pglite', issuer, origin: `http://127.0.0.1:${port}`, clientId, privateJwk: await exportJWK(privateKey), kid, people },
});

let start: { at: number; elu: ReturnType<typeof performance.eventLoopUtilization>; thread: number; process: number; machine: number; backends: Promise<Map<number, number>>; statements: Snapshot } | undefined;

/** CPU seconds of each backend serving Sekisho's pool now. */
async function backendCpu(): Promise<Map<number, number>> {
  return new Map((await backends?.pids() ?? []).map((pid) => [pid, processCpuSeconds([pid])]));
}

process.on('message', async (m: ToServer) => {
  try {
    if (m.type === 'window-start') {
      start = { at: performance.now(), elu: performance.eventLoopUtilization(), thread: threadCpu(), process: processCpu(), machine: machineCpuSeconds().busy, backends: backendCpu(), statements: snapshotStatements() };
      send({ type: 'window-started' });
    } else if (m.type === 'window-end') {
      const a = start!;
      const at = performance.now();
      const thread = threadCpu();
      const proc = processCpu();
      const machine = machineCpuSeconds().busy;
      const statements = statementDelta(a.statements, snapshotStatements());
      // Backends opened during the window (the pool replaces idle ones) count in full; those that
      // closed during it drop out of the sum (their CPU can no longer be read).
      const [before, after] = [await a.backends, await backendCpu()];
      const postgres = [...after].reduce((sum, [pid, cpu]) => sum + Math.max(0, cpu - (before.get(pid) ?? 0)), 0);
      send({
        type: 'window',
        window: {
          seconds: (at - a.at) / 1000,
          loopBusy: performance.eventLoopUtilization(performance.eventLoopUtilization(), a.elu).utilization,
          cpu: { serverThread: thread - a.thread, otherThreads: Math.max(0, proc - a.process - (thread - a.thread)), postgresBackends: postgres, machine: machine - a.machine },
          statements,
        },
      });
    } else if (m.type === 'seed') {
      send({ type: 'seeded', seed: await seedConsentHistory(app, m.settings, publicJwk, config.consent.retentionDays) });
    } else if (m.type === 'analyze') {
      // What autovacuum does after many inserts: statistics for the planner (PostgreSQL only).
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`${BENCH_SQL_MARK} ANALYZE consent_records, consent_grants, oidc_models`).finally(() => client.end());
      send({ type: 'analyzed' });
    } else if (m.type === 'capture-start') {
      startCapture();
      send({ type: 'capture-started' });
    } else if (m.type === 'capture-end') {
      send({ type: 'captured', statements: await explain(stopCapture()) });
    } else if (m.type === 'close') {
      await backends?.close();
      await shutdown(server, app, logger, 1000);
      rmSync(dir, { recursive: true, force: true });
      process.send!({ type: 'closed' } satisfies FromServer, () => process.exit(0));
    }
  } catch (err) {
    process.stderr.write(`consent bench server: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
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

function threadCpu(): number {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1e6;
}
function processCpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
