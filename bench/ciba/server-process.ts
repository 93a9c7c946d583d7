/**
 * `npm run bench -- ciba`, the server side: a real Sekisho (PGlite or PostgreSQL, set up by
 * bench/sekisho-server-process.ts) in its own process with CIBA as a deployment would run it
 * (`ciba.pollIntervalSeconds: 1`, the live channel; on PostgreSQL its deliveries travel by
 * LISTEN/NOTIFY), `patients` people each with a passkey (registered through Sekisho's passkey
 * service from the software authenticator, as the test suite's `addPasskey` does), a poll-mode
 * and a ping-mode FAPI-CIBA client (private_key_jwt, DPoP, signed requests), and the benchmark
 * client for the client_credentials baseline. On request of the load generator
 * (bench/ciba/run.ts) it reports what happened inside the server during a measured window.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { createPasskeys, relyingPartyFor } from '../../packages/server/src/identity/passkeys.ts';
import { registerClient } from '../../packages/server/src/protocol/client-registration.ts';
import { createClientsRepository } from '../../packages/server/src/storage/clients-repo.ts';
import { createPasskey, type CreationOptions, type StoredPasskey } from '../../packages/server/test/support/soft-authenticator.ts';
import { BENCH_SQL_MARK, processCpuSeconds } from '../cpu-meter.ts';
import { answerLoadGenerator, processWindow, readProcessCounters, startBenchSekisho, type ProcessCounters, type SekishoPlan } from '../sekisho-server-process.ts';
import type { WindowReply } from '../server-child.ts';
import { installStatementTimer, snapshotStatements, statementDelta, type Snapshot, type StatementTimes } from '../consent/statement-timer.ts';

export interface Patient { accountId: string; username: string; passkey: StoredPasskey }
export interface CibaClientPlan { clientId: string; privateJwk: JWK; kid: string }

export interface CibaPlan extends SekishoPlan {
  patients: Patient[];
  poll: CibaClientPlan;
  /** Absent when the run does not measure ping mode. */
  ping: CibaClientPlan | undefined;
  pollIntervalSeconds: number;
}

/** What the server saw between `window-start` and `window-end`. */
export interface ServerWindow {
  seconds: number;
  loopBusy: number;
  cpu: { serverThread: number; otherThreads: number; postgresBackends: number; machine: number };
  statements: StatementTimes[];
  /** How late a timer on the server's event loop fired, ms: a blocked loop shows here. */
  loopDelayMs: { p50: number; p99: number; max: number };
  /**
   * PostgreSQL only: what Sekisho's backends were doing, sampled every 100 ms (pg_stat_activity):
   * samples per `state` or `wait_event_type:wait_event` (idle connections left out). Empty on PGlite.
   */
  backendWaits: Array<{ what: string; samples: number }>;
  waitSamples: number;
}

export interface CibaServerOptions {
  patients: number;
  pollIntervalSeconds: number;
  /** The ping client's notification endpoint (https, on loopback) and the CA file that signs its certificate. */
  ping: { endpoint: string; caFile: string } | undefined;
}

type Reply = WindowReply<CibaPlan, ServerWindow>;

const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';

const options = JSON.parse(process.env.BENCH_CIBA_OPTIONS ?? '{}') as CibaServerOptions;
const databaseUrl = process.env.BENCH_TARGET_DATABASE_URL || undefined;

installStatementTimer();
const sekisho = await startBenchSekisho({
  label: 'ciba', databaseUrl, grantTypes: ['client_credentials', 'authorization_code'],
  config: {
    ciba: { pollIntervalSeconds: options.pollIntervalSeconds, loginHint: ['username'] },
    // The ping endpoint is the load generator's own HTTPS server on loopback, with a test CA.
    ...(options.ping ? { outbound: { caFile: options.ping.caFile, allowPrivateNetworks: true } } : {}),
  },
});
const { app, backends } = sekisho;
const { issuer } = sekisho.plan;

const registerCibaClient = async (clientId: string, mode: 'poll' | 'ping'): Promise<CibaClientPlan> => {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `${clientId}-key`;
  await registerClient(app.provider, createClientsRepository(app.storage.db), {
    client_id: clientId, client_name: mode === 'poll' ? 'Kakuu Clinic (benchmark)' : 'Kakuu Pharmacy (benchmark)',
    token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256', dpop_bound_access_tokens: true,
    grant_types: [CIBA_GRANT], response_types: [], backchannel_token_delivery_mode: mode, backchannel_authentication_request_signing_alg: 'ES256',
    ...(mode === 'ping' ? { backchannel_client_notification_endpoint: options.ping!.endpoint } : {}),
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] },
  });
  return { clientId, privateJwk: await exportJWK(privateKey), kid };
};
const poll = await registerCibaClient('bench-ciba-poll', 'poll');
const ping = options.ping ? await registerCibaClient('bench-ciba-ping', 'ping') : undefined;

// Patients: passkey-first accounts (no password to hash), each with one passkey.
const passkeys = createPasskeys(app.storage.db, relyingPartyFor(issuer));
const patients: Patient[] = [];
for (let i = 0; i < options.patients; i++) {
  const username = `patient-${i + 1}@bench.example.jp`;
  const account = await app.accounts.createFromVerifiedEmail({ email: username, name: `架空 患者 ${i + 1}` });
  const binding = `bench-${account.id}`;
  const creation = await passkeys.registrationOptions({ accountId: account.id, userName: username, displayName: username, binding });
  const { response, passkey } = createPasskey(creation as unknown as CreationOptions, new URL(issuer).origin);
  await passkeys.register({ accountId: account.id, binding, response: response as never, name: 'Bench phone' });
  patients.push({ accountId: account.id, username, passkey });
}

process.send!({ type: 'ready', plan: { ...sekisho.plan, patients, poll, ping, pollIntervalSeconds: options.pollIntervalSeconds } } satisfies Reply);

let start: { counters: ProcessCounters; backends: Promise<Map<number, number>>; statements: Snapshot } | undefined;
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
const waits = createWaitSampler(databaseUrl);

/** CPU seconds of each backend serving Sekisho (its pool, the live channel's LISTEN and NOTIFY connections) now. */
async function backendCpu(): Promise<Map<number, number>> {
  return new Map((await backends?.pids() ?? []).map((pid) => [pid, processCpuSeconds([pid])]));
}

answerLoadGenerator<never, Reply>(sekisho, async (m) => {
  if (m.type === 'window-start') {
    loopDelay.reset();
    loopDelay.enable();
    waits.start();
    start = { counters: readProcessCounters(), backends: backendCpu(), statements: snapshotStatements() };
    return { type: 'window-started' };
  }
  const a = start!;
  const end = readProcessCounters();
  const statements = statementDelta(a.statements, snapshotStatements());
  // Backends opened during the window count in full; those that closed drop out of the sum.
  const [before, after] = [await a.backends, await backendCpu()];
  const postgres = [...after].reduce((sum, [pid, cpu]) => sum + Math.max(0, cpu - (before.get(pid) ?? 0)), 0);
  loopDelay.disable();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  const { samples: waitSamples, waits: backendWaits } = await waits.stop();
  const { seconds, loopBusy, cpu } = processWindow(a.counters, end);
  return {
    type: 'window',
    window: {
      seconds, loopBusy, cpu: { serverThread: cpu.serverThread, otherThreads: cpu.otherThreads, postgresBackends: postgres, machine: cpu.machine }, statements,
      loopDelayMs: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) }, backendWaits, waitSamples,
    },
  };
});

/**
 * Samples pg_stat_activity for this run's database every 100 ms while a window is open, on a
 * connection of its own (its statements are marked, so the statement timer leaves them out).
 */
function createWaitSampler(url: string | undefined) {
  const client = url ? new pg.Client({ connectionString: url, application_name: 'sekisho-bench-waits' }) : undefined;
  // Ended from outside when the run's database is dropped: nothing to report then.
  client?.on('error', () => {});
  const connected = client?.connect();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let samples = 0;
  const counts = new Map<string, number>();
  const sample = async () => {
    await connected;
    const { rows } = await client!.query<{ state: string | null; wait: string | null }>(
      `${BENCH_SQL_MARK} SELECT state, wait_event_type || ':' || wait_event AS wait FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state IS DISTINCT FROM 'idle'`);
    samples++;
    for (const r of rows) {
      const what = r.wait && r.wait !== 'Client:ClientRead' ? r.wait : r.state ?? 'unknown';
      counts.set(what, (counts.get(what) ?? 0) + 1);
    }
  };
  return {
    start() {
      if (!client) return;
      samples = 0;
      counts.clear();
      timer = setInterval(() => { running = running.then(sample).catch(() => {}); }, 100);
    },
    async stop(): Promise<{ samples: number; waits: Array<{ what: string; samples: number }> }> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
      return { samples, waits: [...counts].map(([what, n]) => ({ what, samples: n })).sort((x, y) => y.samples - x.samples) };
    },
  };
}
