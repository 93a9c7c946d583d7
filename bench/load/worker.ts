/**
 * The load generator. It runs in a worker thread of the process that serves the target, so the
 * client's own work (signing two ES256 JWTs per request, HTTP) has its own event loop and is the
 * same for every target; the server keeps the main thread to itself.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { JWK } from 'jose';
import type { BenchUser } from '../targets/types.ts';
import { createHttp } from './http.ts';
import { createClientAssertions, createDpop } from './client-auth.ts';
import { clientCredentials, codeFlow, signIn, type ScenarioContext, type Steps } from './scenarios.ts';
import { runLoops, type Measurement } from './measure.ts';
import { threadCpuSeconds } from '../cpu-meter.ts';

export interface LoadPlan {
  issuer: string;
  origin: string;
  clientId: string;
  privateJwk: JWK;
  kid: string;
  users: BenchUser[];
  seconds: number;
  warmupSeconds: number;
  clientCredentialsConcurrency: number;
  flowConcurrency: number;
}

export type ScenarioName = 'clientCredentials' | 'codeFlow';
/** The load generator's own thread at a phase boundary: CPU seconds and raw loop utilisation. */
export interface ThreadSample { cpu: number; elu: { idle: number; active: number } }

export type WorkerMessage =
  | { type: 'phase'; scenario: ScenarioName; phase: 'measure-start' | 'measure-end'; self: ThreadSample }
  | { type: 'done'; results: Record<ScenarioName, Measurement> };

const plan = workerData as LoadPlan;
const post = (message: WorkerMessage) => parentPort!.postMessage(message);
const self = (): ThreadSample => {
  const { idle, active } = performance.eventLoopUtilization();
  return { cpu: threadCpuSeconds(), elu: { idle, active } };
};

const http = createHttp(plan.origin, plan.issuer);
const ctx: ScenarioContext = {
  http, issuer: plan.issuer, clientId: plan.clientId,
  assertion: await createClientAssertions(plan.clientId, plan.issuer, plan.privateJwk, plan.kid),
};

async function measure(scenario: ScenarioName, ops: Array<() => Promise<Steps | void>>): Promise<Measurement> {
  await runLoops(ops, plan.warmupSeconds);
  post({ type: 'phase', scenario, phase: 'measure-start', self: self() });
  const result = await runLoops(ops, plan.seconds);
  post({ type: 'phase', scenario, phase: 'measure-end', self: self() });
  return result;
}

// (a) one DPoP key per simulated client instance (loop).
const ccOps = await Promise.all(Array.from({ length: plan.clientCredentialsConcurrency }, async () => clientCredentials(ctx, await createDpop())));
const cc = await measure('clientCredentials', ccOps);

// (b) one signed-in person (own session, own consent) per loop, signed in before the clock starts.
const flowOps = await Promise.all(plan.users.slice(0, plan.flowConcurrency).map(async (user) => {
  const dpop = await createDpop();
  return codeFlow(ctx, dpop, await signIn(ctx, dpop, user));
}));
const flows = await measure('codeFlow', flowOps);

await http.close();
post({ type: 'done', results: { clientCredentials: cc, codeFlow: flows } });
