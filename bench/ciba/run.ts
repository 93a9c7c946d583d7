/**
 * `npm run bench -- ciba`: CIBA with a passkey authentication device, on a real Sekisho. For each
 * engine (PGlite; PostgreSQL when a database URL is set) one Sekisho process
 * (bench/ciba/server-process.ts) and this process as everyone else: the clinic's client
 * (oauth4webapi: signed requests, private_key_jwt, DPoP), the patients' phones (the device app
 * over HTTP, each holding its event stream open, approving with a software passkey) and the ping
 * client's HTTPS endpoint. Rounds of bench/ciba/round.ts after one warm-up round:
 *
 *   (a) time from a backchannel request to its notification on the phone's live channel, with
 *       `patients` requests sent at once (so that many pending);
 *   (b) time from the approval to the token at the client: polling at the server's interval,
 *       polling right after the approval, and in ping mode; and the approval's own latency.
 *
 * Baseline in the same run (bench/ciba/baseline.ts): a bare node:http SSE server given the same
 * burst right before each measured round, and bare HTTP round trips; plus, paired with every poll
 * right after an approval, a client_credentials grant on the same Sekisho.
 *
 * Environment: BENCH_ROUNDS (measured rounds, default 3), BENCH_CIBA_WARMUP_ROUNDS (1),
 * BENCH_CIBA_PATIENTS (100), BENCH_CIBA_APPROVERS (phones approving at once, 8), BENCH_CIBA_PING
 * (1; 0 leaves ping mode out), BENCH_CIBA_SOLO (repetitions of the solo run, bench/ciba/solo.ts:
 * every step alone, each in its own window; 20, 0 leaves it out), BENCH_TARGETS (pglite,postgres), BENCH_DATABASE_URL /
 * SEKISHO_TEST_DATABASE_URL, BENCH_CPU_PROF=1 (V8 CPU profile of the server process to
 * .bench-data/profiles/ciba-ENGINE/), BENCH_QUIET_WAIT (seconds: before each round, wait up to this
 * long for other processes on the machine to go quiet; default 0, no wait).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeMachine } from '../machine.ts';
import { load, nonNegative, positive, sourceState, waitQuiet, type Load, type SourceState } from '../run-environment.ts';
import { runOnFreshDatabases, sekishoEngines } from '../postgres.ts';
import { createCibaClient, createClientCredentials, createHttpAgent, discover } from './client.ts';
import { createPhones, type Phone } from './device.ts';
import type { SseStream } from './sse.ts';
import { startPingReceiver, type PingReceiver } from './ping-receiver.ts';
import { runRound, type RoundResult } from './round.ts';
import { runSolo, type SoloResult } from './solo.ts';
import { startBareSse, type BareBurst, type BareSse } from './baseline.ts';
import { startCibaServer } from './server-control.ts';
import { formatCibaReport } from './report.ts';

export interface CibaSettings {
  rounds: number;
  warmupRounds: number;
  patients: number;
  approvers: number;
  ping: boolean;
  /** Repetitions of the solo run (each step alone, nothing else pending); 0 leaves it out. */
  soloRepetitions: number;
  pollIntervalSeconds: number;
  /** BENCH_QUIET_WAIT: before each round, wait up to this long for other processes to go quiet. */
  quietWaitSeconds: number;
}
export type { Load } from '../run-environment.ts';
export interface EngineResult {
  engine: 'pglite' | 'postgres';
  setupSeconds: number;
  rounds: RoundResult[];
  /** The bare SSE server's burst right before each measured round (same index). */
  bare: BareBurst[];
  /** Bare HTTP round trips one at a time, ms, taken before this engine's rounds. */
  bareRoundTripMs: number[];
  solo: SoloResult | undefined;
  pingUnexpected: number;
}
export type { SourceState } from '../run-environment.ts';

const env = process.env;

export async function runCibaBench(): Promise<number> {
  const settings: CibaSettings = {
    rounds: Math.floor(positive(env.BENCH_ROUNDS, 3)),
    warmupRounds: Math.floor(nonNegative(env.BENCH_CIBA_WARMUP_ROUNDS, 1)),
    patients: Math.floor(positive(env.BENCH_CIBA_PATIENTS, 100)),
    approvers: Math.floor(positive(env.BENCH_CIBA_APPROVERS, 8)),
    ping: env.BENCH_CIBA_PING !== '0',
    soloRepetitions: Math.floor(nonNegative(env.BENCH_CIBA_SOLO, 20)),
    pollIntervalSeconds: 1,
    quietWaitSeconds: Number(env.BENCH_QUIET_WAIT) > 0 ? Number(env.BENCH_QUIET_WAIT) : 0,
  };
  const { engines, skipped, databaseUrl } = sekishoEngines();
  console.log(`Sekisho CIBA benchmark: ${engines.join(', ')}; ${settings.patients} patients, ${settings.warmupRounds} warm-up + ${settings.rounds} measured round(s), ${settings.approvers} phones approving at once${settings.ping ? '' : ', no ping mode'}`);
  const before = await load();
  console.log(`Machine before the run: load average ${before.loadavg1.toFixed(2)}, ${before.busyCores.toFixed(2)} cores busy${before.busyCores > 0.2 ? ' — something else is running; figures will be disturbed' : ''}`);

  console.log(`… baseline: bare node:http SSE server, ${settings.patients} streams; one burst before each measured round`);
  const bare = await startBareSse(settings.patients);
  await bare.burst(); // connections and JIT, not counted
  const receiver = settings.ping ? await startPingReceiver() : undefined;
  let results: EngineResult[];
  let postgresVersion: string | undefined;
  try {
    ({ results, postgresVersion } = await runOnFreshDatabases(engines, databaseUrl, (engine, url) => runEngine(engine, settings, url, receiver, bare)));
  } finally {
    await receiver?.close();
    await bare.close();
  }

  const machine = describeMachine(postgresVersion);
  const code = sourceState();
  console.log(`\n${formatCibaReport(machine, code, settings, results, skipped, before)}`);
  const dataDir = fileURLToPath(new URL('../../.bench-data', import.meta.url));
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(`${dataDir}/ciba.json`, JSON.stringify({ date: new Date().toISOString(), machine, code, before, settings, skipped, results }, null, 2));
  console.log('\nRaw results: .bench-data/ciba.json');
  return results.some((r) => r.rounds.some((x) => x.errors.length) || r.solo?.errors.length) ? 1 : 0;
}

async function runEngine(engine: 'pglite' | 'postgres', settings: CibaSettings, databaseUrl: string | undefined, receiver: PingReceiver | undefined, bare: BareSse): Promise<EngineResult> {
  console.log(`… ${engine}: starting Sekisho, ${settings.patients} patients with passkeys`);
  const t0 = performance.now();
  const profileDir = env.BENCH_CPU_PROF ? fileURLToPath(new URL(`../../.bench-data/profiles/ciba-${engine}`, import.meta.url)) : undefined;
  const server = startCibaServer({
    patients: settings.patients, pollIntervalSeconds: settings.pollIntervalSeconds, databaseUrl, cpuProfileDir: profileDir,
    ping: receiver ? { endpoint: receiver.endpoint, caFile: receiver.caFile } : undefined,
  });
  const plan = await server.ready;
  const agent = createHttpAgent();
  const phones = createPhones(plan.origin, plan.issuer, settings.patients);
  const linked: Array<{ phone: Phone; stream: SseStream }> = [];
  try {
    const as = await discover(plan.issuer, agent);
    const poll = await createCibaClient(plan.issuer, as, plan.poll, agent);
    const ping = plan.ping && receiver ? { client: await createCibaClient(plan.issuer, as, plan.ping, agent), receiver } : undefined;
    const clientCredentials = await createClientCredentials(as, plan, agent);
    console.log(`… ${engine}: linking ${plan.patients.length} phones (passkey sign-in at /device) and opening their event streams`);
    for (const patient of plan.patients) {
      const phone = await phones.link(patient);
      linked.push({ phone, stream: await phone.listen() });
    }
    const setupSeconds = (performance.now() - t0) / 1000;
    const rounds: RoundResult[] = [];
    const bareBursts: BareBurst[] = [];
    let bareRoundTripMs: number[] = [];
    for (let round = 1 - settings.warmupRounds; round <= settings.rounds; round++) {
      if (round >= 1) {
        await waitQuiet(settings.quietWaitSeconds);
        if (round === 1) bareRoundTripMs = await bare.roundTrips(200);
        bareBursts.push(await bare.burst());
        await sleep(200);
      }
      console.log(`… ${engine}: ${round < 1 ? 'warm-up round' : `round ${round}`}`);
      const result = await runRound({ server, phones: linked, poll, ping, clientCredentials, approvers: settings.approvers, intervalSeconds: plan.pollIntervalSeconds }, round);
      for (const e of result.errors.slice(0, 5)) console.log(`  error: ${e}`);
      if (round >= 1) rounds.push(result);
      await sleep(500);
    }
    let solo: SoloResult | undefined;
    if (settings.soloRepetitions) {
      await waitQuiet(settings.quietWaitSeconds);
      console.log(`… ${engine}: ${settings.soloRepetitions} requests one at a time, each step in a window of its own`);
      const [first] = linked;
      solo = await runSolo({ server, phone: first!.phone, stream: first!.stream, poll, clientCredentials }, settings.soloRepetitions);
      for (const e of solo.errors.slice(0, 5)) console.log(`  error: ${e}`);
    }
    return { engine, setupSeconds, rounds, bare: bareBursts, bareRoundTripMs, solo, pingUnexpected: receiver?.unexpected() ?? 0 };
  } finally {
    for (const { phone } of linked) phone.close();
    await phones.close();
    await agent.close();
    await server.close();
  }
}




