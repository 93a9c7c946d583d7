import type { Steps } from './scenarios.ts';

export interface Distribution { p50: number; p90: number; p99: number; mean: number; max: number }

export interface Measurement {
  ops: number;
  errors: number;
  /** First few distinct error messages, for the report. */
  errorSamples: string[];
  seconds: number;
  opsPerSecond: number;
  latencyMs: Distribution;
  stepsMs: Record<string, Distribution>;
}

/** Nearest-rank percentiles over the latencies of completed operations. */
export function distribution(values: number[]): Distribution {
  if (values.length === 0) return { p50: NaN, p90: NaN, p99: NaN, mean: NaN, max: NaN };
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  const round = (n: number) => Math.round(n * 100) / 100;
  return { p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), mean: round(values.reduce((a, b) => a + b, 0) / values.length), max: round(sorted.at(-1)!) };
}

/**
 * Runs `concurrency` loops, each awaiting one operation at a time, until `seconds` have passed;
 * each loop stops by itself at the deadline (no operation is started after it). Throughput is
 * completed operations over the time until the last loop finished.
 */
export async function runLoops(ops: Array<() => Promise<Steps | void>>, seconds: number): Promise<Measurement> {
  const latencies: number[] = [];
  const steps = new Map<string, number[]>();
  const errorSamples = new Set<string>();
  let errors = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;

  await Promise.all(ops.map(async (op) => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        const s = await op();
        latencies.push(performance.now() - t0);
        for (const [name, ms] of Object.entries(s ?? {})) {
          let list = steps.get(name);
          if (!list) steps.set(name, list = []);
          list.push(ms);
        }
      } catch (err) {
        errors++;
        if (errorSamples.size < 5) errorSamples.add(String((err as Error).message ?? err).slice(0, 300));
        // A target that fails every request must not spin: give up once failures dominate.
        if (errors > 200 && errors > latencies.length) throw new Error(`too many errors, e.g. ${[...errorSamples][0]}`);
      }
    }
  }));

  const elapsed = (performance.now() - start) / 1000;
  return {
    ops: latencies.length,
    errors,
    errorSamples: [...errorSamples],
    seconds: Math.round(elapsed * 1000) / 1000,
    opsPerSecond: Math.round((latencies.length / elapsed) * 10) / 10,
    latencyMs: distribution(latencies),
    stepsMs: Object.fromEntries([...steps].map(([name, list]) => [name, distribution(list)])),
  };
}
