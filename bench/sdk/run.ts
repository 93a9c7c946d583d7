/**
 * `npm run bench -- sdk`: verifications per second of the resource-server SDK
 * (@sekisho/resource-server, as built into its dist/), in this one process, against a bare jose
 * `jwtVerify` of the same JWT measured in the same run:
 *
 *   (1) bare jose: jwtVerify(jwt, createLocalJWKSet(jwks), { issuer, audience, typ, algorithms }) — the baseline;
 *   (2) SDK, DPoP-bound JWT + a fresh DPoP proof per verification (replay store on) — target ≥ 0.7× (1);
 *   (3) SDK, as (2) but a freshly signed JWT every time (the first use of each token);
 *   (4) SDK, the same JWT certificate-bound (mTLS: no DPoP checks, a certificate hash instead);
 *   (5) SDK, an opaque DPoP-bound token introspected over HTTP at a local stub, no cache;
 *   (6) SDK, as (5) with a 60 s introspection cache.
 *
 * Every input (tokens, proofs, Requests) is made before its window's clock starts. Verifications
 * run one after another; ops/s is 1 / latency. Each SDK arm's window is cut into 0.5 s slices
 * alternating with slices of the baseline (the machine is shared: both must see the same
 * background load), and its ratio is taken against those baseline slices. The arms are taken in a
 * rotated order each round; the median round is reported.
 *
 * Environment: BENCH_SECONDS (per window, default 5), BENCH_WARMUP_SECONDS (1), BENCH_ROUNDS (3),
 * BENCH_SDK_ARMS (comma list of jose,dpop,fresh,mtls,opaque,cached), BENCH_QUIET_WAIT (seconds to
 * wait for a quiet machine before each round, default 0).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { describeMachine } from '../machine.ts';
import { load, positive, sourceState, waitQuiet } from '../run-environment.ts';
import { AUDIENCE, ISSUER, createFixtures, type Fixtures } from './fixtures.ts';
import { combine, slice, type Slice, type Window } from './measure.ts';
import { formatSdkReport } from './report.ts';

export type ArmName = 'jose' | 'dpop' | 'fresh' | 'mtls' | 'opaque' | 'cached';
export const ARMS: Record<ArmName, string> = {
  jose: '(1) bare jose jwtVerify, same JWT (baseline)',
  dpop: '(2) SDK: JWT + DPoP proof',
  fresh: '(3) SDK: JWT + DPoP proof, new JWT each time',
  mtls: '(4) SDK: JWT, mTLS-bound (no DPoP)',
  opaque: '(5) SDK: opaque + DPoP, introspection, no cache',
  cached: '(6) SDK: opaque + DPoP, introspection cached',
};
export const TARGET = 0.7;

export interface SdkSettings { seconds: number; warmupSeconds: number; rounds: number; arms: ArmName[]; quietWaitSeconds: number }
/** One SDK arm's window and the baseline slices interleaved with it. */
export interface Pair { arm: ArmName; round: number; baseline: Window; measured: Window }
/** Length of the alternating slices, seconds. */
const SLICE_SECONDS = 0.5;

interface Arm {
  /** Makes the inputs for `count` verifications (not timed). */
  prepare(count: number): Promise<void>;
  op(i: number): Promise<unknown>;
}

const env = process.env;

export async function runSdkBench(): Promise<number> {
  const settings: SdkSettings = {
    seconds: positive(env.BENCH_SECONDS, 5),
    warmupSeconds: positive(env.BENCH_WARMUP_SECONDS, 1),
    rounds: Math.floor(positive(env.BENCH_ROUNDS, 3)),
    arms: (Object.keys(ARMS) as ArmName[]).filter((a) => (env.BENCH_SDK_ARMS ?? Object.keys(ARMS).join(',')).split(',').map((s) => s.trim()).includes(a)),
    quietWaitSeconds: Number(env.BENCH_QUIET_WAIT) > 0 ? Number(env.BENCH_QUIET_WAIT) : 0,
  };
  if (!settings.arms.includes('jose')) settings.arms.unshift('jose');
  // Measure the SDK as published: its dist/, rebuilt from the current source.
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-b', 'packages/resource-server'], { cwd: root, stdio: 'inherit' });
  const sdk = await import('@sekisho/resource-server');

  const runSeconds = settings.rounds * settings.arms.length * (2 * settings.seconds + settings.warmupSeconds) * 3;
  console.log(`Resource-server SDK benchmark: ${settings.arms.length} arms × ${settings.rounds} round(s) of ${settings.seconds} s (+${settings.warmupSeconds} s warm-up), inputs made before each window`);
  const before = await load();
  console.log(`Machine before the run: load average ${before.loadavg1.toFixed(2)}, ${before.busyCores.toFixed(2)} cores busy${before.busyCores > 0.2 ? ' — something else is running; figures will be disturbed' : ''}`);

  const f: Fixtures = await createFixtures(runSeconds);
  const jwt = sdk.createResourceServer({ issuer: ISSUER, audience: AUDIENCE, jwks: f.jwks as never });
  const introspection = { clientId: f.introspection.clientId, privateKey: f.introspection.privateKey, endpoint: f.introspection.endpoint };
  const opaque = sdk.createResourceServer({ issuer: ISSUER, audience: AUDIENCE, jwks: f.jwks as never, introspection });
  const cached = sdk.createResourceServer({ issuer: ISSUER, audience: AUDIENCE, jwks: f.jwks as never, introspection: { ...introspection, cacheSeconds: 60 } });
  const JWKS = createLocalJWKSet(f.jwks);
  const requirements = { scopes: ['accounts'] };

  let requests: Request[] = [];
  const arms: Record<ArmName, Arm> = {
    jose: {
      prepare: async () => {},
      op: () => jwtVerify(f.dpopToken, JWKS, { issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt', algorithms: ['PS256', 'ES256', 'EdDSA'] }),
    },
    dpop: { prepare: async (n) => { requests = await f.dpopRequests(f.dpopToken, n); }, op: (i) => jwt.verify(requests[i]!, requirements) },
    fresh: { prepare: async (n) => { requests = await f.freshTokenRequests(n); }, op: (i) => jwt.verify(requests[i]!, requirements) },
    mtls: {
      prepare: async (n) => { requests = Array.from({ length: n }, () => f.mtlsRequest()); },
      op: (i) => jwt.verify(requests[i]!, { ...requirements, clientCertificate: f.certificateDer }),
    },
    opaque: { prepare: async (n) => { requests = await f.dpopRequests(f.opaqueToken, n); }, op: (i) => opaque.verify(requests[i]!, requirements) },
    cached: { prepare: async (n) => { requests = await f.dpopRequests(f.opaqueToken, n); }, op: (i) => cached.verify(requests[i]!, requirements) },
  };

  // Warm-up, which also tells how many inputs a window needs.
  const rate = new Map<ArmName, number>();
  for (const name of settings.arms) {
    const n = 2000;
    await arms[name].prepare(n);
    const w = combine([await slice(0, n, settings.warmupSeconds, arms[name].op)]);
    if (w.errors) throw new Error(`${ARMS[name]}: ${w.errors} errors in the warm-up, first: ${w.firstError}`);
    rate.set(name, w.opsPerSecond);
    console.log(`… warm-up ${ARMS[name]}: ${Math.round(w.opsPerSecond)}/s`);
  }

  // Each SDK arm is measured in slices alternating with slices of the baseline, so that both see
  // the same background load (this machine is shared); the ratio is taken within the pair.
  const pairs: Pair[] = [];
  const introspectionCallsBefore = f.introspection.calls;
  const others = settings.arms.filter((a) => a !== 'jose');
  for (let round = 1; round <= settings.rounds; round++) {
    await waitQuiet(settings.quietWaitSeconds);
    const order = others.map((_, i) => others[(i + round - 1) % others.length]!);
    for (const name of order) {
      const n = Math.ceil(rate.get(name)! * settings.seconds * 2) + 100;
      await arms[name].prepare(n);
      const baseSlices: Slice[] = [];
      const armSlices: Slice[] = [];
      let used = 0;
      let armSeconds = 0;
      while (armSeconds < settings.seconds && used < n) {
        baseSlices.push(await slice(0, Infinity, SLICE_SECONDS, arms.jose.op));
        const s = await slice(used, n, SLICE_SECONDS, arms[name].op);
        armSlices.push(s);
        used += s.latenciesMs.length;
        armSeconds += s.seconds;
      }
      requests = [];
      const pair: Pair = { arm: name, round, baseline: combine(baseSlices), measured: combine(armSlices) };
      pairs.push(pair);
      const m = pair.measured;
      console.log(`… round ${round}: ${ARMS[name]}: ${Math.round(m.opsPerSecond)}/s, baseline alongside ${Math.round(pair.baseline.opsPerSecond)}/s → ${(m.opsPerSecond / pair.baseline.opsPerSecond).toFixed(2)}×${m.errors ? `, ${m.errors} ERRORS (${m.firstError})` : ''}`);
      if (used >= n) console.log(`  (inputs ran out after ${armSeconds.toFixed(1)} s; the figure covers that time)`);
    }
  }
  await f.close();

  const machine = describeMachine(undefined);
  const code = sourceState();
  const date = new Date().toISOString();
  console.log(`\n${formatSdkReport({ date, machine, code, settings, pairs, before, introspectionCalls: f.introspection.calls - introspectionCallsBefore })}`);
  const dataDir = `${root}.bench-data`;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(`${dataDir}/sdk.json`, JSON.stringify({ date, machine, code, before, settings, pairs }, null, 2));
  console.log('\nRaw results: .bench-data/sdk.json');
  return pairs.some((p) => p.measured.errors || p.baseline.errors) ? 1 : 0;
}
