/**
 * `npm run bench -- consent`: what the consent ledger costs. For each engine (PGlite; PostgreSQL
 * when a database URL is set) one Sekisho process (bench/consent/server-process.ts) and this
 * process as the load generator (client side by oauth4webapi, the person's side through the real
 * pages).
 *
 *   (A) complete code flows/s at a fixed concurrency, one signed-in person per loop, in three arms
 *       measured in turn in every round of the same run: `reuse` (no consent decision: the
 *       browser's grant is reused, no screen, no ledger record), `consent` (prompt=consent: the
 *       screen and one decision, merged into that grant) and `create` (grant_management_action=
 *       create: the screen and one decision, a new grant). Ratios are per round, against `reuse`.
 *   (B) the My consents page (GET /account/consents) for one person with many grants and ledger
 *       records (bench/consent/seed.ts), one request at a time and from several loops, and an
 *       EXPLAIN ANALYZE of every statement one request sends (PostgreSQL).
 *
 * Environment: BENCH_SECONDS (measured seconds per arm and round, default 10), BENCH_WARMUP_SECONDS
 * (default 3), BENCH_ROUNDS (default 3), BENCH_TARGETS (pglite,postgres), BENCH_DATABASE_URL /
 * SEKISHO_TEST_DATABASE_URL, BENCH_CONSENT_PARTS (flows,page), BENCH_CONSENT_CONCURRENCY (A,
 * default 8), BENCH_CONSENT_ARMS (reuse,consent,create), BENCH_CONSENT_PAGE_TARGETS (engines for B,
 * default postgres), BENCH_CONSENT_GRANTS (1000), BENCH_CONSENT_RECORDS (10000),
 * BENCH_CONSENT_CLIENTS (25), BENCH_CONSENT_PAGE_REQUESTS (200 per run),
 * BENCH_CONSENT_PAGE_CONCURRENCY (4), BENCH_CPU_PROF=1 (V8 CPU profile of the server process to
 * .bench-data/profiles/consent-ENGINE/), BENCH_QUIET_WAIT (seconds: before each round and page run,
 * wait up to this long for other processes on the machine to go quiet; default 0, no wait),
 * BENCH_CONSENT_WHATIF (experiments from bench/consent/what-if.ts; labelled, own results file).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeMachine } from '../machine.ts';
import { load, nonNegative, positive, sourceState, waitQuiet, type Load, type SourceState } from '../run-environment.ts';
import { runOnFreshDatabases, sekishoEngines } from '../postgres.ts';
import { runLoops, type Measurement } from '../load/measure.ts';
import { createFlowClient } from './client.ts';
import { accountSignIn, ARMS, codeFlow, createBrowser, signIn, type Arm, type Person } from './flows.ts';
import { createPageProbe, type PageRun, type PageShape } from './page.ts';
import { startConsentServer } from './server-control.ts';
import type { Explained, ServerWindow } from './server-process.ts';
import type { SeedResult, SeedSettings } from './seed.ts';
import { formatConsentReport } from './report.ts';
import { consentWhatIfsFromEnv, type ConsentWhatIf } from './what-if.ts';

export interface ConsentSettings {
  seconds: number;
  warmupSeconds: number;
  rounds: number;
  concurrency: number;
  arms: Arm[];
  parts: Array<'flows' | 'page'>;
  pageEngines: string[];
  seed: SeedSettings;
  pageRequests: number;
  pageConcurrency: number;
  /** BENCH_CONSENT_WHATIF experiments applied in the server process (bench/consent/what-if.ts). */
  whatIfs: ConsentWhatIf[];
  /** BENCH_QUIET_WAIT: before each round and each page run, wait up to this long for other processes to go quiet. */
  quietWaitSeconds: number;
}
export type { Load } from '../run-environment.ts';
export interface ArmWindow { arm: Arm; round: number; measurement: Measurement; server: ServerWindow; generatorCpuSeconds: number; load: Load }
export interface PageResult {
  seed: SeedResult;
  shape: PageShape;
  /** EXPLAIN ANALYZE of one request's statements after ANALYZE (PostgreSQL), and before it. */
  explained: Explained[];
  explainedBeforeAnalyze: Explained[];
  sequential: PageWindow;
  concurrent: PageWindow;
}
export interface PageWindow { run: PageRun; server: ServerWindow; generatorCpuSeconds: number; load: Load }
export interface EngineResult { engine: 'pglite' | 'postgres'; flows: ArmWindow[]; page: PageResult | undefined }

const env = process.env;
const list = (raw: string | undefined, fallback: string) => (raw ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);

export async function runConsentBench(): Promise<number> {
  const seconds = positive(env.BENCH_SECONDS, 10);
  // A short run (BENCH_SECONDS < 5, e.g. the smoke run with 2) is a check that everything works:
  // one round, 1 s warm-up, 4 loops (each person's password is hashed twice at set-up, one hash at
  // a time on a 2-core machine) and a small My consents history, unless set explicitly.
  const short = seconds < 5;
  const settings: ConsentSettings = {
    seconds,
    warmupSeconds: positive(env.BENCH_WARMUP_SECONDS, short ? 1 : 3),
    rounds: Math.floor(positive(env.BENCH_ROUNDS, short ? 1 : 3)),
    concurrency: Math.floor(positive(env.BENCH_CONSENT_CONCURRENCY, short ? 4 : 8)),
    arms: ARMS.filter((a) => list(env.BENCH_CONSENT_ARMS, ARMS.join(',')).includes(a)),
    parts: (['flows', 'page'] as const).filter((p) => list(env.BENCH_CONSENT_PARTS, 'flows,page').includes(p)),
    pageEngines: list(env.BENCH_CONSENT_PAGE_TARGETS, 'postgres'),
    seed: {
      grants: Math.floor(positive(env.BENCH_CONSENT_GRANTS, short ? 100 : 1000)),
      records: Math.floor(positive(env.BENCH_CONSENT_RECORDS, short ? 1000 : 10_000)),
      clients: Math.floor(positive(env.BENCH_CONSENT_CLIENTS, 25)),
    },
    pageRequests: Math.floor(positive(env.BENCH_CONSENT_PAGE_REQUESTS, short ? 20 : 200)),
    pageConcurrency: Math.floor(positive(env.BENCH_CONSENT_PAGE_CONCURRENCY, 4)),
    whatIfs: consentWhatIfsFromEnv(env),
    quietWaitSeconds: Number(env.BENCH_QUIET_WAIT) > 0 ? Number(env.BENCH_QUIET_WAIT) : 0,
  };
  const { engines, skipped, databaseUrl } = sekishoEngines();
  const flowSeconds = settings.parts.includes('flows') ? settings.rounds * settings.arms.length * (settings.seconds + settings.warmupSeconds + 2) + 15 : 0;
  if (settings.whatIfs.length) console.log(`WHAT-IF EXPERIMENTS in the server: ${settings.whatIfs.join(', ')} (not Sekisho as shipped)`);
  if (short) console.log(`Short run (BENCH_SECONDS < 5): ${settings.rounds} round(s), ${settings.warmupSeconds} s warm-up, concurrency ${settings.concurrency}, My consents with ${settings.seed.grants} grants and ${settings.seed.records} records (BENCH_ROUNDS, BENCH_WARMUP_SECONDS, BENCH_CONSENT_CONCURRENCY, BENCH_CONSENT_GRANTS, BENCH_CONSENT_RECORDS for more)`);
  console.log(`Sekisho consent benchmark: ${engines.join(', ')}, (A) about ${flowSeconds} s per engine${settings.parts.includes('page') ? `, (B) on ${settings.pageEngines.join(', ')}` : ''}`);
  const before = await load();
  console.log(`Machine before the run: load average ${before.loadavg1.toFixed(2)}, ${before.busyCores.toFixed(2)} cores busy${before.busyCores > 0.2 ? ' — something else is running; figures will be disturbed' : ''}`);

  const { results, postgresVersion } = await runOnFreshDatabases(engines, databaseUrl, (engine, url) => runEngine(engine, settings, url));

  const machine = describeMachine(postgresVersion);
  const code = sourceState();
  console.log(`\n${formatConsentReport(machine, code, settings, results, skipped, before)}`);
  const dataDir = fileURLToPath(new URL('../../.bench-data', import.meta.url));
  mkdirSync(dataDir, { recursive: true });
  const file = settings.whatIfs.length ? `consent-what-if-${settings.whatIfs.join('+')}.json` : 'consent.json';
  writeFileSync(`${dataDir}/${file}`, JSON.stringify({ date: new Date().toISOString(), machine, code, before, settings, skipped, results }, null, 2));
  console.log(`\nRaw results: .bench-data/${file}`);
  const failed = results.some((r) => r.flows.some((w) => w.measurement.errors) || (r.page && !r.page.seed.chain.ok));
  return failed ? 1 : 0;
}

async function runEngine(engine: 'pglite' | 'postgres', settings: ConsentSettings, databaseUrl: string | undefined): Promise<EngineResult> {
  console.log(`… ${engine}: starting Sekisho, ${settings.concurrency} people`);
  const profileDir = env.BENCH_CPU_PROF ? fileURLToPath(new URL(`../../.bench-data/profiles/consent-${engine}`, import.meta.url)) : undefined;
  const server = startConsentServer({ people: settings.concurrency, databaseUrl, cpuProfileDir: profileDir });
  const plan = await server.ready;
  const client = await createFlowClient(plan);
  const browser = createBrowser(plan.origin, plan.issuer);
  try {
    const flows: ArmWindow[] = [];
    if (settings.parts.includes('flows')) {
      console.log(`… ${engine}: signing ${plan.people.length} people in through the sign-in and consent pages`);
      const people: Person[] = [];
      for (const p of plan.people) people.push(await signIn(client, browser, p));
      for (let round = 1; round <= settings.rounds; round++) {
        await waitQuiet(settings.quietWaitSeconds);
        for (const arm of settings.arms) {
          console.log(`… ${engine}: round ${round}, ${arm}`);
          const loops = people.map((person) => codeFlow(client, browser, person, arm));
          const warm = await runLoops(loops, settings.warmupSeconds);
          if (warm.errors) throw new Error(`${arm} warm-up failed: ${warm.errorSamples[0]}`);
          const at = await load();
          const { result, server: window, generatorCpuSeconds } = await server.window(() => runLoops(loops, settings.seconds));
          flows.push({ arm, round, measurement: result, server: window, generatorCpuSeconds, load: at });
          await sleep(500);
        }
      }
    }

    let page: PageResult | undefined;
    if (settings.parts.includes('page') && settings.pageEngines.includes(engine)) {
      console.log(`… ${engine}: seeding one person with ${settings.seed.grants} grants and ${settings.seed.records} ledger records`);
      const { seed } = await server.ask({ type: 'seed', settings: settings.seed }, 'seeded');
      console.log(`… ${engine}: seeded in ${(seed.seconds.clients + seed.seconds.grants + seed.seconds.records).toFixed(1)} s; chain ${seed.chain.ok ? `verified (${seed.chain.records} records)` : `BROKEN at ${seed.chain.seq}`}`);
      const jar = await accountSignIn(browser, seed);
      const probe = createPageProbe(browser, jar);
      const shape = await probe.shape();
      await probe.run(Math.max(10, Math.floor(settings.pageRequests / 10)), 1); // warm-up
      const explainOne = async () => {
        await server.ask({ type: 'capture-start' }, 'capture-started');
        await probe.run(1, 1);
        return (await server.ask({ type: 'capture-end' }, 'captured')).statements;
      };
      // Right after seeding the planner has no statistics for the new rows yet (autovacuum would
      // gather them within a minute or so): EXPLAIN as they are, ANALYZE, EXPLAIN again; measure after.
      const explainedBeforeAnalyze = engine === 'postgres' ? await explainOne() : [];
      if (engine === 'postgres') await server.ask({ type: 'analyze' }, 'analyzed');
      const explained = await explainOne();
      console.log(`… ${engine}: My consents, ${settings.pageRequests} requests one at a time, then from ${settings.pageConcurrency} loops`);
      await waitQuiet(settings.quietWaitSeconds);
      const seqLoad = await load();
      const seq = await server.window(() => probe.run(settings.pageRequests, 1));
      await waitQuiet(settings.quietWaitSeconds);
      const conLoad = await load();
      const con = await server.window(() => probe.run(settings.pageRequests, settings.pageConcurrency));
      page = {
        seed, shape, explained, explainedBeforeAnalyze,
        sequential: { run: seq.result, server: seq.server, generatorCpuSeconds: seq.generatorCpuSeconds, load: seqLoad },
        concurrent: { run: con.result, server: con.server, generatorCpuSeconds: con.generatorCpuSeconds, load: conLoad },
      };
    }
    return { engine, flows, page };
  } finally {
    await client.close();
    await browser.close();
    await server.close();
  }
}

export type { SourceState } from '../run-environment.ts';



