/**
 * What the identity and consent benchmarks' server processes (bench/identity/server-process.ts,
 * bench/consent/server-process.ts) share: a real Sekisho (PGlite, or PostgreSQL when a database
 * URL is set) with the benchmark client and people with passwords, the server's own counters for a
 * measured window, and answering the load generator (bench/server-child.ts is the other end). One
 * home so both benchmarks start and measure the same server; what each adds stays in its own file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { createSekisho, type Sekisho } from '../packages/server/src/app.ts';
import { parseConfig } from '../packages/server/src/config/load.ts';
import { createListener, listen, shutdown } from '../packages/server/src/http/server.ts';
import { createLogger } from '../packages/server/src/shared/logger.ts';
import { generateKekValue } from '../packages/server/src/keys/kek.ts';
import { registerClient } from '../packages/server/src/protocol/client-registration.ts';
import { createClientsRepository } from '../packages/server/src/storage/clients-repo.ts';
import { REDIRECT_URI } from '../packages/server/test/support/clients.ts';
import { freePort } from './targets/free-port.ts';
import { benchClaims, RESOURCE_SERVER } from './targets/types.ts';
import { createBackendObserver, machineCpuSeconds, threadCpuSeconds } from './cpu-meter.ts';
import type { WindowRequest } from './server-child.ts';

export interface PasswordPerson { username: string; password: string }

/** What the load generator needs to reach the server as the benchmark client; each benchmark's plan adds its people. */
export interface SekishoPlan {
  engine: 'pglite' | 'postgres';
  issuer: string;
  origin: string;
  clientId: string;
  privateJwk: JWK;
  kid: string;
}

export type BenchSekisho = Awaited<ReturnType<typeof startBenchSekisho>>;

/**
 * Sekisho listening on a free port of 127.0.0.1, its data in a temporary folder, with the benchmark
 * client registered: FAPI 2.0, private_key_jwt + DPoP, as in the side-by-side benchmark.
 * `config` is merged into the configuration (a WHAT-IF experiment's settings).
 */
export async function startBenchSekisho(options: {
  /** Names the temporary folder and the process in errors: "identity", "consent". */
  label: string;
  databaseUrl: string | undefined;
  grantTypes: string[];
  config?: Record<string, unknown>;
}) {
  const { label, databaseUrl } = options;
  const dir = mkdtempSync(join(tmpdir(), `sekisho-bench-${label}-`));
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const config = parseConfig({
    issuer, port, host: '127.0.0.1', dataDir: join(dir, 'data'), databaseUrl,
    keyEncryptionKey: generateKekValue(), logLevel: 'warn', resourceServers: [RESOURCE_SERVER],
    ...options.config,
  });
  const logger = createLogger('warn', { target: databaseUrl ? 'postgres' : 'pglite' }, (line) => process.stderr.write(`${line}\n`));
  const app = await createSekisho(config, logger);
  const server = createListener(config, app.callback);
  await listen(server, port, '127.0.0.1');
  const backends = databaseUrl ? await createBackendObserver(databaseUrl) : undefined;

  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = 'bench-signing-key';
  const clientId = 'bench-client';
  await registerClient(app.provider, createClientsRepository(app.storage.db), {
    client_id: clientId, client_name: 'Benchmark client',
    token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256', dpop_bound_access_tokens: true,
    grant_types: options.grantTypes, redirect_uris: [REDIRECT_URI],
    jwks: { keys: [{ ...publicJwk, kid, alg: 'ES256', use: 'sig' }] },
  });

  const plan: SekishoPlan = {
    engine: databaseUrl ? 'postgres' : 'pglite', issuer, origin: `http://127.0.0.1:${port}`, clientId, privateJwk: await exportJWK(privateKey), kid,
  };
  return {
    label,
    app,
    config,
    plan,
    publicJwk,
    /** The PostgreSQL backends serving Sekisho's pool (undefined on PGlite). */
    backends,
    async close() {
      await backends?.close();
      await shutdown(server, app, logger, 1000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `count` people with passwords (`prefix-1`, …); the accounts service hashes them with its own parameters. */
export function createPasswordPeople(app: Sekisho, prefix: string, count: number): Promise<PasswordPerson[]> {
  return Promise.all(Array.from({ length: count }, async (_, i): Promise<PasswordPerson> => {
    const username = `${prefix}-${i + 1}`;
    const password = `bench-${i + 1}-${generateKekValue().slice(0, 16)}`;
    await app.accounts.create({ username, password, claims: benchClaims(username) });
    return { username, password };
  }));
}

/** The server process's own counters at one moment, for a measured window. */
export interface ProcessCounters { at: number; elu: ReturnType<typeof performance.eventLoopUtilization>; thread: number; process: number; machine: number }

export function readProcessCounters(): ProcessCounters {
  return { at: performance.now(), elu: performance.eventLoopUtilization(), thread: threadCpuSeconds(), process: thisProcessCpuSeconds(), machine: machineCpuSeconds().busy };
}

function thisProcessCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * From `start` to `end`: wall seconds, CPU seconds (this thread, the process's other threads, the
 * whole machine), and the share of the time the event loop was busy, from `start` to now (read
 * last, after the benchmark's own end readings).
 */
export function processWindow(start: ProcessCounters, end: ProcessCounters) {
  const serverThread = end.thread - start.thread;
  return {
    seconds: (end.at - start.at) / 1000,
    loopBusy: performance.eventLoopUtilization(performance.eventLoopUtilization(), start.elu).utilization,
    cpu: { serverThread, otherThreads: Math.max(0, end.process - start.process - serverThread), machine: end.machine - start.machine },
  };
}

/**
 * Answers the load generator: each request with `answer`'s reply, `close` by closing Sekisho and
 * ending this process. A request that fails ends the process with code 1 (the load generator's
 * handle reports it).
 */
export function answerLoadGenerator<Request extends { type: string }, Reply extends { type: string }>(
  sekisho: BenchSekisho,
  answer: (m: Exclude<Request | WindowRequest, { type: 'close' }>) => Promise<Reply>,
) {
  process.on('message', async (m: Request | WindowRequest) => {
    try {
      if (m.type === 'close') {
        await sekisho.close();
        // Whatever a library may still hold open, this process is done.
        process.send!({ type: 'closed' }, () => process.exit(0));
      } else {
        process.send!(await answer(m as Exclude<Request | WindowRequest, { type: 'close' }>));
      }
    } catch (err) {
      process.stderr.write(`${sekisho.label} bench server: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    }
  });
}
