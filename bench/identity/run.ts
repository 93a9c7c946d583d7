/**
 * `npm run bench -- identity`: sign-ins on a real Sekisho, and whether password hashing stalls
 * other requests. For each engine (PGlite; PostgreSQL when a database URL is set) one server
 * process (bench/identity/server-process.ts) and this process as the load generator, so the
 * client's own crypto does not share the server's libuv thread pool, as in a deployment.
 *
 *   (A) password sign-ins/s: GET the sign-in page, POST username and password (scrypt with the
 *       production parameters), closed loops at a fixed concurrency, one person per loop.
 *   (B) passkey sign-ins/s: GET the sign-in page, POST a WebAuthn assertion from a software
 *       authenticator (synced ES256 passkey, registered through the real sign-up), same shape.
 *   (C) token-endpoint latency (client_credentials, private_key_jwt + DPoP) at a fixed rate: alone,
 *       with password sign-ins at each fixed rate, with sign-ins saturating the server (closed
 *       loops as in A), alone again; p99 against both alone windows pooled.
 *
 * Environment: BENCH_SECONDS (measured seconds per window, default 10), BENCH_WARMUP_SECONDS
 * (default 3), BENCH_TARGETS (pglite,postgres), BENCH_DATABASE_URL / SEKISHO_TEST_DATABASE_URL,
 * BENCH_IDENTITY_CONCURRENCY (A and B, default 8), BENCH_IDENTITY_TOKEN_RATE (C, requests/s,
 * default 100), BENCH_IDENTITY_SIGNIN_RATES (C, password sign-ins/s, comma list, default 1,2),
 * BENCH_IDENTITY_SCENARIOS (subset of password,passkey,tokens), UV_THREADPOOL_SIZE (passed to
 * the server process: libuv's pool size, default 4).
 * BENCH_IDENTITY_HASH_LIMIT=N is a WHAT-IF experiment: identity.passwordHashConcurrency = N instead of
 * the shipped default (cores − 1); such runs are labelled, and they and runs with
 * UV_THREADPOOL_SIZE set are written to .bench-data/identity-what-if.json.
 */
import { availableParallelism } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeMachine } from '../machine.ts';
import { machineCpuSeconds } from '../cpu-meter.ts';
import { runOnFreshDatabases, sekishoEngines } from '../postgres.ts';
import { createHttp } from '../load/http.ts';
import { createClientAssertions, createDpop, type DpopProver } from '../load/client-auth.ts';
import type { ScenarioContext } from '../load/scenarios.ts';
import { distribution, type Distribution } from '../load/measure.ts';
import { closedLoopRecords, closedLoops, openLoop, windowOf, type ClosedMeasurement, type OpenWindow } from './loops.ts';
import { passkeySignIn, passkeyUser, passwordSignIn, passwordUser, prepareInteraction, tokenRequest, type Prepared } from './flows.ts';
import type { IdentityPlan, ServerWindow } from './server-process.ts';
import { startServerChild } from '../server-child.ts';
import { formatIdentityReport, signInLoadLabel } from './report.ts';

export interface IdentitySettings {
  seconds: number;
  warmupSeconds: number;
  concurrency: number;
  tokenRate: number;
  signInRates: number[];
  threadpoolSize: string;
  scenarios: Array<'password' | 'passkey' | 'tokens'>;
}

export interface SignInResult { measurement: ClosedMeasurement; prepared: number; server: ServerWindow; generatorCpuSeconds: number }
/** What runs next to the token requests in a (C) window. */
export type SignInLoad = { kind: 'none' } | { kind: 'rate'; rate: number } | { kind: 'saturated'; concurrency: number };
export interface TokenPhase {
  load: SignInLoad;
  tokens: OpenWindow;
  signIns: OpenWindow | undefined;
  server: ServerWindow;
  generatorCpuSeconds: number;
}
export interface EngineResult {
  engine: IdentityPlan['engine'];
  passwordHashParams: string;
  threadpoolSize: number;
  hashLimit: number | undefined;
  password: SignInResult | undefined;
  passkey: SignInResult | undefined;
  tokens: TokenPhase[];
  /** Token latency of both "alone" windows together (before and after the sign-in windows). */
  tokenBaseline: Distribution | undefined;
}

const env = process.env;

export async function runIdentityBench(): Promise<number> {
  const settings: IdentitySettings = {
    seconds: positive(env.BENCH_SECONDS, 10),
    warmupSeconds: positive(env.BENCH_WARMUP_SECONDS, 3),
    concurrency: Math.floor(positive(env.BENCH_IDENTITY_CONCURRENCY, 8)),
    tokenRate: positive(env.BENCH_IDENTITY_TOKEN_RATE, 100),
    signInRates: (env.BENCH_IDENTITY_SIGNIN_RATES ?? '1,2').split(',').map((s) => Number(s.trim())).filter((n) => n > 0),
    threadpoolSize: env.UV_THREADPOOL_SIZE ?? '4 (default)',
    scenarios: (['password', 'passkey', 'tokens'] as const).filter((x) => (env.BENCH_IDENTITY_SCENARIOS ?? 'password,passkey,tokens').split(',').map((s) => s.trim()).includes(x)),
  };
  const { engines, skipped, databaseUrl } = sekishoEngines();
  const perEngine = (7 + settings.signInRates.length) * (settings.seconds + settings.warmupSeconds + 1) + 40;
  console.log(`Sekisho identity benchmark: ${engines.join(', ')}, about ${Math.ceil((engines.length * perEngine) / 10) * 10} s`);
  const idle = await machineBusyCores(2000);
  console.log(`Machine busy before the run: ${idle.toFixed(2)} cores${idle > 0.2 ? ' — something else is running; figures will be disturbed' : ''}`);

  const { results, postgresVersion } = await runOnFreshDatabases(engines, databaseUrl, (engine, url) => runEngine(engine, settings, url));

  const machine = describeMachine(postgresVersion);
  console.log(`\n${formatIdentityReport(machine, settings, results, skipped)}`);
  const dataDir = fileURLToPath(new URL('../../.bench-data', import.meta.url));
  mkdirSync(dataDir, { recursive: true });
  const file = results.some((r) => r.hashLimit) || env.UV_THREADPOOL_SIZE ? 'identity-what-if.json' : 'identity.json';
  writeFileSync(`${dataDir}/${file}`, JSON.stringify({ date: new Date().toISOString(), machine, machineBusyBefore: idle, settings, skipped, results }, null, 2));
  console.log(`\nRaw results: .bench-data/${file}`);
  const failed = results.some((r) => r.password?.measurement.errors || r.passkey?.measurement.errors || r.tokens.some((t) => t.tokens.errors || t.signIns?.errors));
  return failed ? 1 : 0;
}

async function runEngine(engine: 'pglite' | 'postgres', settings: IdentitySettings, databaseUrl: string | undefined): Promise<EngineResult> {
  console.log(`… ${engine}: starting Sekisho, registering passkeys through sign-up, hashing passwords`);
  const server = startServer(settings, databaseUrl);
  const plan = await server.ready;
  const http = createHttp(plan.origin, plan.issuer);
  const tokenHttp = createHttp(plan.origin, plan.issuer);
  const assertion = await createClientAssertions(plan.clientId, plan.issuer, plan.privateJwk, plan.kid);
  const ctx: ScenarioContext = { http, issuer: plan.issuer, clientId: plan.clientId, assertion };
  const tokenCtx: ScenarioContext = { ...ctx, http: tokenHttp };
  const prepDpops = await Promise.all(Array.from({ length: 8 }, () => createDpop()));
  const prepare = (n: number) => preparePool(ctx, prepDpops, n);

  try {
    // (A) and (B): warm up with interactions prepared on the fly, which also tells how many the
    // measured window needs; then prepare those first, so the window holds sign-ins only.
    async function signIns<U>(label: string, people: U[], op: (ctx: ScenarioContext, person: U, p: Prepared) => Promise<Record<string, number>>): Promise<SignInResult> {
      console.log(`… ${engine}: ${label} sign-ins`);
      const loops = people.slice(0, settings.concurrency).map((person) => (p: Prepared) => op(ctx, person, p));
      let k = 0;
      const warm = await closedLoops(loops, () => prepareInteraction(ctx, prepDpops[k++ % prepDpops.length]!), settings.warmupSeconds);
      if (warm.errors) throw new Error(`${label} warm-up failed: ${warm.errorSamples[0]}`);
      // Little's law on the warm-up's sign-in latency, ×2 (the preparing slowed the warm-up down).
      const expectedRate = settings.concurrency / (warm.latencyMs.mean / 1000);
      const needed = Math.ceil(expectedRate * settings.seconds * 2) + 2 * settings.concurrency;
      const pool = await prepare(needed);
      const window = await server.window(() => closedLoops(loops, () => pool.pop(), settings.seconds));
      return { measurement: window.result, prepared: needed, server: window.server, generatorCpuSeconds: window.generatorCpuSeconds };
    }
    const passwordPeople = plan.passwordPeople.map(passwordUser);
    const want = (x: IdentitySettings['scenarios'][number]) => settings.scenarios.includes(x);
    const password = want('password') ? await signIns('password', passwordPeople, passwordSignIn) : undefined;
    const passkey = want('passkey') ? await signIns('passkey', plan.passkeyPeople.map(passkeyUser), passkeySignIn) : undefined;

    // (C) token requests at a fixed rate: alone, with password sign-ins at each fixed rate, with
    // sign-ins as fast as the server takes them (closed loops, as in A), alone again.
    const tokenDpops = await Promise.all(Array.from({ length: 16 }, () => createDpop()));
    const grants = tokenDpops.map((d) => tokenRequest(tokenCtx, d));
    let g = 0;
    const nextGrant = () => grants[g++ % grants.length]!();
    const span = settings.warmupSeconds + settings.seconds;
    const tokens: TokenPhase[] = [];
    const aloneLatencies: number[] = [];
    const loads: SignInLoad[] = want('tokens')
      ? [{ kind: 'none' }, ...settings.signInRates.map((rate) => ({ kind: 'rate' as const, rate })), { kind: 'saturated', concurrency: settings.concurrency }, { kind: 'none' }]
      : [];
    for (const load of loads) {
      console.log(`… ${engine}: token requests at ${settings.tokenRate}/s, ${signInLoadLabel(load)}`);
      // Enough prepared interactions for the whole span (saturated: at A's rate, or 4/s per core, ×1.5).
      const saturatedRate = password?.measurement.opsPerSecond ?? 4 * availableParallelism();
      const pool = load.kind === 'none' ? [] : await prepare(Math.ceil((load.kind === 'rate' ? load.rate * 1.2 : saturatedRate * 1.5) * span) + 2 * settings.concurrency);
      let u = 0;
      const signInOnce = async () => {
        const prepared = pool.pop();
        if (!prepared) throw new Error('ran out of prepared interactions');
        const s = await passwordSignIn(ctx, passwordPeople[u++ % passwordPeople.length]!, prepared);
        return (s.page ?? 0) + (s.submit ?? 0);
      };
      const t0 = performance.now();
      const tokenRun = openLoop(settings.tokenRate, span, nextGrant);
      const signInRun = load.kind === 'rate' ? openLoop(load.rate, span, signInOnce, 64)
        : load.kind === 'saturated' ? closedLoopRecords(load.concurrency, span, signInOnce) : undefined;
      const window = await server.window(async () => { await sleep(settings.seconds * 1000); }, t0 + settings.warmupSeconds * 1000);
      const [tokenResult, signInResult] = await Promise.all([tokenRun, signInRun]);
      if (load.kind === 'none') aloneLatencies.push(...tokenResult.records.filter((r) => r.at >= window.from && r.at < window.to).map((r) => r.ms));
      tokens.push({
        load,
        tokens: windowOf(tokenResult, window.from, window.to),
        signIns: signInResult && windowOf(signInResult, window.from, window.to),
        server: window.server,
        generatorCpuSeconds: window.generatorCpuSeconds,
      });
      await sleep(1000);
    }
    const tokenBaseline = aloneLatencies.length ? distribution(aloneLatencies) : undefined;
    return { engine, passwordHashParams: plan.passwordHashParams, threadpoolSize: plan.threadpoolSize, hashLimit: plan.hashLimit, password, passkey, tokens, tokenBaseline };
  } finally {
    await http.close();
    await tokenHttp.close();
    await server.close();
  }
}

/** `n` interactions at the sign-in page, prepared 8 at a time. */
async function preparePool(ctx: ScenarioContext, dpops: DpopProver[], n: number): Promise<Prepared[]> {
  const pool: Prepared[] = [];
  let left = n;
  await Promise.all(dpops.map(async (dpop) => {
    while (left-- > 0) pool.push(await prepareInteraction(ctx, dpop));
  }));
  return pool;
}

function startServer(settings: IdentitySettings, databaseUrl: string | undefined) {
  return startServerChild<IdentityPlan, ServerWindow>({
    label: 'identity',
    module: new URL('./server-process.ts', import.meta.url),
    env: {
      ...env,
      BENCH_IDENTITY_OPTIONS: JSON.stringify({ passwordPeople: settings.concurrency, passkeyPeople: settings.concurrency }),
      ...(databaseUrl ? { BENCH_TARGET_DATABASE_URL: databaseUrl } : {}),
    },
  });
}

async function machineBusyCores(ms: number): Promise<number> {
  const a = machineCpuSeconds().busy;
  await sleep(ms);
  return (machineCpuSeconds().busy - a) / (ms / 1000);
}

function positive(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return raw && Number.isFinite(n) && n > 0 ? n : fallback;
}
