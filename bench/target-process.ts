/**
 * One target, in its own process: start the server on the main thread, set up the client and the
 * people, run the load generator in a worker thread, observe the server side while it measures,
 * report to the orchestrator (run.ts) over IPC, shut down.
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { exportJWK, generateKeyPair } from 'jose';
import { REDIRECT_URI } from '../packages/server/test/support/clients.ts';
import { installQueryCounter, queryDelta, snapshotQueries } from './query-counter.ts';
import { createBackendObserver, machineCpuSeconds, processCpuSeconds } from './cpu-meter.ts';
import { startBare } from './targets/bare.ts';
import { discoveryOf } from './discovery-check.ts';
import { startSekisho } from './targets/sekisho.ts';
import type { BenchTarget, TargetName } from './targets/types.ts';
import { whatIfsFromEnv } from './targets/what-if.ts';
import type { LoadPlan, ScenarioName, ThreadSample, WorkerMessage } from './load/worker.ts';
import type { Measurement } from './load/measure.ts';

/** Where the CPU went during a measured window, in ms of CPU time per completed operation. */
export interface CpuPerOp {
  serverThread: number;
  loadGeneratorThread: number;
  /** This process's other threads: libuv pool (WebCrypto sign/verify of both sides), GC, compiler. */
  processOtherThreads: number;
  /** The PostgreSQL backends serving Sekisho's pool (0 for the other targets). */
  postgresBackends: number;
  /** Everything else on the machine (PostgreSQL background processes, other workloads). */
  restOfMachine: number;
}

export interface ServerSide {
  /** Share of wall time the server's event loop was busy (1 = saturated). */
  serverLoopBusy: number;
  /** Share of the server thread's CPU time spent in the kernel (system time: sockets, files). */
  serverKernelShare: number;
  loadGeneratorLoopBusy: number;
  /** Machine CPU in use, in cores (the machine has os.availableParallelism()). */
  machineCores: number;
  cpuMsPerOp: CpuPerOp;
  statementsPerOp: number;
  statements: Array<{ statement: string; perOp: number }>;
}

export type ScenarioResult = Measurement & { server: ServerSide; /** ops/s of every round, when BENCH_ROUNDS > 1. */ rounds?: number[] };
export type TargetResult = { target: TargetName; issuer: string; whatIfs: string[]; discovery: Record<string, unknown> } & Record<ScenarioName, ScenarioResult>;

export interface TargetOptions { seconds: number; warmupSeconds: number; clientCredentialsConcurrency: number; flowConcurrency: number }

const name = process.argv[2] as TargetName;
const options = JSON.parse(process.env.BENCH_TARGET_OPTIONS ?? '{}') as TargetOptions;
const databaseUrl = name === 'postgres' ? process.env.BENCH_TARGET_DATABASE_URL : undefined;

installQueryCounter();
const whatIfs = name === 'bare' ? [] : whatIfsFromEnv();
const target: BenchTarget = name === 'bare' ? await startBare() : await startSekisho({ databaseUrl, whatIfs });
const backends = databaseUrl ? await createBackendObserver(databaseUrl) : undefined;

try {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = 'bench-signing-key';
  const clientId = 'bench-client';
  await target.registerClient({
    client_id: clientId,
    client_name: 'Benchmark client',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    dpop_bound_access_tokens: true,
    grant_types: ['client_credentials', 'authorization_code'],
    redirect_uris: [REDIRECT_URI],
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] },
  });
  const users = [];
  for (let i = 0; i < options.flowConcurrency; i++) users.push(await target.createUser());

  const plan: LoadPlan = { issuer: target.issuer, origin: target.origin, clientId, privateJwk: await exportJWK(privateKey), kid, users, ...options };
  const discovery = await discoveryOf(target.origin, target.issuer);
  const result = await runWorker(plan);
  process.send!({ target: name, issuer: target.issuer, whatIfs, discovery, ...result } satisfies TargetResult);
} finally {
  await backends?.close();
  await target.close();
}

interface Sample {
  at: number;
  elu: ReturnType<typeof performance.eventLoopUtilization>;
  thread: { total: number; system: number };
  process: number;
  machine: { busy: number; total: number };
  queries: Map<string, number>;
  worker: ThreadSample;
  pids: Promise<number[]>;
  postgres: Promise<number>;
}

async function runWorker(plan: LoadPlan): Promise<Record<ScenarioName, Measurement & { server: ServerSide }>> {
  const worker = new Worker(new URL('./load/worker.ts', import.meta.url), { workerData: plan });
  const windows = new Map<ScenarioName, Promise<Omit<ServerSide, 'cpuMsPerOp' | 'statementsPerOp' | 'statements'> & { cpu: CpuPerOp; queries: ReturnType<typeof queryDelta> }>>();
  let start: Sample | undefined;

  function sample(workerSelf: ThreadSample, pids?: Promise<number[]>): Sample {
    const cpu = process.cpuUsage();
    const s = {
      at: performance.now(), elu: performance.eventLoopUtilization(), thread: threadCpu(),
      process: (cpu.user + cpu.system) / 1e6, machine: machineCpuSeconds(), queries: snapshotQueries(), worker: workerSelf,
      pids: pids ?? backends?.pids() ?? Promise.resolve([]),
    };
    return { ...s, postgres: s.pids.then(processCpuSeconds) };
  }

  async function window(a: Sample, b: Sample) {
    const seconds = (b.at - a.at) / 1000;
    const serverThread = b.thread.total - a.thread.total;
    const loadGeneratorThread = b.worker.cpu - a.worker.cpu;
    const processOtherThreads = Math.max(0, b.process - a.process - serverThread - loadGeneratorThread);
    const postgresBackends = (await b.postgres) - (await a.postgres);
    const machineBusy = b.machine.busy - a.machine.busy;
    const workerActive = b.worker.elu.active - a.worker.elu.active;
    const workerIdle = b.worker.elu.idle - a.worker.elu.idle;
    return {
      serverLoopBusy: round(performance.eventLoopUtilization(b.elu, a.elu).utilization),
      serverKernelShare: round((b.thread.system - a.thread.system) / serverThread),
      loadGeneratorLoopBusy: round(workerActive / (workerActive + workerIdle)),
      machineCores: round(machineBusy / seconds),
      cpu: {
        serverThread, loadGeneratorThread, processOtherThreads, postgresBackends,
        restOfMachine: Math.max(0, machineBusy - (b.process - a.process) - postgresBackends),
      },
      queries: queryDelta(a.queries, b.queries),
    };
  }

  const results = await new Promise<Record<ScenarioName, Measurement>>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'done') return resolve(message.results);
      if (message.phase === 'measure-start') { start = sample(message.self); return; }
      windows.set(message.scenario, window(start!, sample(message.self, start!.pids)));
    });
  });
  await worker.terminate();

  async function withServer(scenario: ScenarioName) {
    const m = results[scenario];
    const w = (await windows.get(scenario))!;
    const perOp = (seconds: number) => round((seconds * 1000) / m.ops);
    const { cpu, queries, ...rest } = w;
    return {
      ...m,
      server: {
        ...rest,
        cpuMsPerOp: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, perOp(v)])) as unknown as CpuPerOp,
        statementsPerOp: round(queries.reduce((a, q) => a + q.count, 0) / m.ops),
        statements: queries.map((q) => ({ statement: q.statement, perOp: round(q.count / m.ops) })),
      },
    };
  }
  return { clientCredentials: await withServer('clientCredentials'), codeFlow: await withServer('codeFlow') };
}

function threadCpu() {
  const u = process.threadCpuUsage();
  return { total: (u.user + u.system) / 1e6, system: u.system / 1e6 };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
