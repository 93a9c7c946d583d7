/**
 * `npm run bench`: Sekisho on PGlite, Sekisho on PostgreSQL and a bare oidc-provider with the same
 * FAPI 2.0 configuration, side by side in one run; ratios are against the bare provider measured
 * in this run. See docs/benchmarks.md.
 *
 * Environment: BENCH_SECONDS (measured seconds per scenario, default 10), BENCH_WARMUP_SECONDS
 * (default 3), BENCH_ROUNDS (default 3; the targets are run in turn this many times and the median
 * round is reported), BENCH_DATABASE_URL (default SEKISHO_TEST_DATABASE_URL; without either
 * PostgreSQL is skipped), BENCH_TARGETS (comma list of bare,pglite,postgres), BENCH_CPU_PROF=1
 * (V8 CPU profiles of every thread to .bench-data/profiles/TARGET/), BENCH_WHATIF (experiments
 * from bench/targets/what-if.ts; such runs are labelled and written to their own results file).
 *
 * `npm run bench -- identity` runs the identity benchmark instead (bench/identity/run.ts);
 * `npm run bench -- consent` the consent benchmark (bench/consent/run.ts);
 * `npm run bench -- ciba` the CIBA benchmark (bench/ciba/run.ts);
 * `npm run bench -- sdk` the resource-server SDK benchmark (bench/sdk/run.ts).
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeMachine } from './machine.ts';
import { benchDatabaseUrl, runOnFreshDatabases } from './postgres.ts';
import { formatReport, verdicts, type RunSettings } from './report.ts';
import { medianOfRounds } from './aggregate.ts';
import { whatIfsFromEnv } from './targets/what-if.ts';
import type { TargetName } from './targets/types.ts';
import type { TargetResult } from './target-process.ts';

// `npm run bench -- identity`: sign-ins/s and token latency under password hashing (bench/identity/run.ts).
if (process.argv[2] === 'identity') {
  const { runIdentityBench } = await import('./identity/run.ts');
  process.exit(await runIdentityBench());
}
// `npm run bench -- consent`: flows/s with and without a consent decision, and the My consents page (bench/consent/run.ts).
if (process.argv[2] === 'consent') {
  const { runConsentBench } = await import('./consent/run.ts');
  process.exit(await runConsentBench());
}
// `npm run bench -- ciba`: request → live notification and approval → token with 100 pending CIBA requests (bench/ciba/run.ts).
if (process.argv[2] === 'ciba') {
  const { runCibaBench } = await import('./ciba/run.ts');
  process.exit(await runCibaBench());
}
// `npm run bench -- sdk`: resource-server SDK verifications/s against a bare jose jwtVerify of the same JWT (bench/sdk/run.ts).
if (process.argv[2] === 'sdk') {
  const { runSdkBench } = await import('./sdk/run.ts');
  process.exit(await runSdkBench());
}

const env = process.env;
const settings: RunSettings = {
  seconds: positive(env.BENCH_SECONDS, 10),
  warmupSeconds: positive(env.BENCH_WARMUP_SECONDS, 3),
  rounds: Math.floor(positive(env.BENCH_ROUNDS, 3)),
  clientCredentialsConcurrency: 16,
  flowConcurrency: 8,
  whatIfs: whatIfsFromEnv(env),
};
const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = `${root}.bench-data`;

const databaseUrl = benchDatabaseUrl();
const wanted = (env.BENCH_TARGETS ?? 'bare,pglite,postgres').split(',').map((s) => s.trim()) as TargetName[];
const skipped: string[] = [];
if (wanted.includes('postgres') && !databaseUrl) skipped.push('Sekisho on PostgreSQL — set BENCH_DATABASE_URL or SEKISHO_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)');
const targets = (['bare', 'pglite', 'postgres'] as const).filter((t) => wanted.includes(t) && (t !== 'postgres' || databaseUrl));

const rounds: TargetResult[][] = [];
const perTargetSeconds = 2 * (settings.seconds + settings.warmupSeconds) + 8;
console.log(`Sekisho benchmark: ${targets.join(', ')} × ${settings.rounds} round(s), about ${Math.ceil(targets.length * settings.rounds * perTargetSeconds / 10) * 10} s`);
if (settings.whatIfs.length) console.log(`WHAT-IF EXPERIMENTS on Sekisho: ${settings.whatIfs.join(', ')} (not Sekisho as shipped)`);
let postgresVersion: string | undefined;
for (let round = 1; round <= settings.rounds; round++) {
  const { results, postgresVersion: version } = await runOnFreshDatabases(targets, databaseUrl, (target, url) => {
    console.log(`… round ${round}: ${target}`);
    return runTarget(target, url);
  });
  postgresVersion ??= version;
  rounds.push(results);
}

const machine = describeMachine(postgresVersion);
const results = medianOfRounds(rounds);
console.log(`\n${formatReport(machine, settings, results, skipped)}`);
mkdirSync(dataDir, { recursive: true });
const file = settings.whatIfs.length ? `what-if-${settings.whatIfs.join('+')}.json` : 'latest.json';
writeFileSync(`${dataDir}/${file}`, JSON.stringify({ date: new Date().toISOString(), machine, settings, skipped, verdicts: verdicts(results), results, rounds }, null, 2));
console.log(`\nRaw results: .bench-data/${file}`);
if (results.some((r) => r.clientCredentials.errors || r.codeFlow.errors)) process.exitCode = 1;

function runTarget(target: TargetName, url: string | undefined): Promise<TargetResult> {
  // One profile per thread (server main thread, load generator worker) in a folder per target.
  const profile = env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${dataDir}/profiles/${target}`] : [];
  const child = fork(fileURLToPath(new URL('./target-process.ts', import.meta.url)), [target], {
    execArgv: [...process.execArgv, ...profile],
    env: { ...env, BENCH_TARGET_OPTIONS: JSON.stringify(settings), ...(url ? { BENCH_TARGET_DATABASE_URL: url } : {}) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let result: TargetResult | undefined;
    child.on('message', (m) => { result = m as TargetResult; });
    child.on('error', reject);
    child.on('exit', (code) => (result && code === 0 ? resolve(result) : reject(new Error(`target ${target} exited with code ${code}${result ? '' : ' before reporting'}`))));
  });
}

function positive(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return raw && Number.isFinite(n) && n > 0 ? n : fallback;
}
