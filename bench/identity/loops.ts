/**
 * Load shapes of the identity benchmark: closed loops that each take a prepared interaction per
 * sign-in (throughput at a fixed concurrency), and an open loop that starts operations at a fixed
 * rate whatever the server does (latency at a fixed offered load, no coordinated omission).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { distribution, type Measurement } from '../load/measure.ts';
import type { Steps } from '../load/scenarios.ts';

export type ClosedMeasurement = Measurement & { /** The prepared interactions ran out before the deadline (the window was shorter). */ ranOut: boolean };

class Errors {
  count = 0;
  readonly samples = new Set<string>();
  note(err: unknown, completed: number): void {
    this.count++;
    if (this.samples.size < 5) this.samples.add(String((err as Error).message ?? err).slice(0, 300));
    if (this.count > 200 && this.count > completed) throw new Error(`too many errors, e.g. ${[...this.samples][0]}`);
  }
}

/**
 * `loops.length` loops, each taking the next prepared item and running its operation on it, until
 * `seconds` have passed or `take` has nothing left. Throughput = completed operations over the
 * time until the last loop finished.
 */
export async function closedLoops<P>(loops: Array<(p: P) => Promise<Steps>>, take: () => Promise<P | undefined> | P | undefined, seconds: number): Promise<ClosedMeasurement> {
  const latencies: number[] = [];
  const steps = new Map<string, number[]>();
  const errors = new Errors();
  let ranOut = false;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  await Promise.all(loops.map(async (op) => {
    while (performance.now() < deadline) {
      const p = await take();
      if (p === undefined) { ranOut = true; return; }
      const t0 = performance.now();
      try {
        const s = await op(p);
        latencies.push(performance.now() - t0);
        for (const [name, ms] of Object.entries(s)) {
          let list = steps.get(name);
          if (!list) steps.set(name, list = []);
          list.push(ms);
        }
      } catch (err) {
        errors.note(err, latencies.length);
      }
    }
  }));
  const elapsed = (performance.now() - start) / 1000;
  return {
    ops: latencies.length, errors: errors.count, errorSamples: [...errors.samples], seconds: Math.round(elapsed * 1000) / 1000,
    opsPerSecond: Math.round((latencies.length / elapsed) * 10) / 10, latencyMs: distribution(latencies),
    stepsMs: Object.fromEntries([...steps].map(([name, list]) => [name, distribution(list)])), ranOut,
  };
}

export interface OpenLoopRecord { at: number; ms: number }
export interface OpenLoopResult { records: OpenLoopRecord[]; errors: Array<{ at: number; message: string }>; /** Starts skipped because `maxInFlight` were outstanding. */ skipped: number[] }

/**
 * Starts `op` every 1/rate s for `seconds` (catching up at once if the generator fell behind),
 * never more than `maxInFlight` at a time, and waits for the last ones. Each record carries its
 * scheduled start, so a measured window can be cut out of a longer run.
 */
export async function openLoop(rate: number, seconds: number, op: () => Promise<number>, maxInFlight = 256): Promise<OpenLoopResult> {
  const records: OpenLoopRecord[] = [];
  const errors: OpenLoopResult['errors'] = [];
  const skipped: number[] = [];
  const pending = new Set<Promise<void>>();
  const start = performance.now();
  const end = start + seconds * 1000;
  for (let i = 0; ; i++) {
    const due = start + (i * 1000) / rate;
    if (due >= end) break;
    const wait = due - performance.now();
    if (wait > 0.5) await sleep(wait);
    if (pending.size >= maxInFlight) { skipped.push(due); continue; }
    const p: Promise<void> = op().then(
      (ms) => { records.push({ at: due, ms }); },
      (err: unknown) => { errors.push({ at: due, message: String((err as Error).message ?? err).slice(0, 300) }); },
    ).finally(() => pending.delete(p));
    pending.add(p);
  }
  await Promise.all(pending);
  return { records, errors, skipped };
}

/** `loops` closed loops of `op` for `seconds`, recorded like an open loop (each op at its start). */
export async function closedLoopRecords(loops: number, seconds: number, op: () => Promise<number>): Promise<OpenLoopResult> {
  const records: OpenLoopRecord[] = [];
  const errors: OpenLoopResult['errors'] = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: loops }, async () => {
    while (performance.now() < end) {
      const at = performance.now();
      try {
        records.push({ at, ms: await op() });
      } catch (err) {
        errors.push({ at, message: String((err as Error).message ?? err).slice(0, 300) });
        if (errors.length > 200 && errors.length > records.length) throw new Error(`too many errors, e.g. ${errors[0]!.message}`);
      }
    }
  }));
  return { records, errors, skipped: [] };
}

/** The part of an open-loop run whose operations were scheduled in [from, to). */
export function windowOf(run: OpenLoopResult, from: number, to: number) {
  const inside = (at: number) => at >= from && at < to;
  const records = run.records.filter((r) => inside(r.at));
  const errors = run.errors.filter((e) => inside(e.at));
  const seconds = (to - from) / 1000;
  return {
    scheduled: records.length + errors.length + run.skipped.filter(inside).length,
    completed: records.length,
    perSecond: Math.round((records.length / seconds) * 10) / 10,
    errors: errors.length,
    errorSamples: [...new Set(errors.map((e) => e.message))].slice(0, 5),
    skipped: run.skipped.filter(inside).length,
    latencyMs: distribution(records.map((r) => r.ms)),
  };
}
export type OpenWindow = ReturnType<typeof windowOf>;
