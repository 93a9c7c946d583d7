/**
 * Measured slices: verifications one after another (as one request handler sees them), each
 * timed, for a given time or until the inputs made for them run out; with the CPU the whole
 * process used (every thread: WebCrypto runs on libuv's pool) and what the rest of the machine
 * was doing meanwhile. Slices of two arms are alternated and then combined, so both arms of a
 * comparison see the same background load on a shared machine.
 */
import { machineCpuSeconds } from '../cpu-meter.ts';

export interface Slice {
  latenciesMs: number[];
  seconds: number;
  processCpuSeconds: number;
  machineBusySeconds: number;
  errors: number;
  firstError: string | undefined;
}

export interface Window {
  ops: number;
  seconds: number;
  opsPerSecond: number;
  p50Us: number;
  p99Us: number;
  /** Process CPU (all threads) per verification, µs. */
  cpuUsPerOp: number;
  /** Cores the rest of the machine kept busy during the window (other people's work). */
  othersCores: number;
  errors: number;
  firstError: string | undefined;
}

/** Runs `op(from)`, `op(from + 1)`, … sequentially until `seconds` pass or index `end` is reached. */
export async function slice(from: number, end: number, seconds: number, op: (i: number) => Promise<unknown>): Promise<Slice> {
  const latenciesMs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const machine0 = machineCpuSeconds().busy;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const deadline = start + seconds * 1000;
  for (let i = from; i < end && performance.now() < deadline; i++) {
    const t = performance.now();
    try {
      await op(i);
    } catch (error) {
      errors++;
      firstError ??= error instanceof Error ? `${(error as { code?: string }).code ?? error.name}: ${error.message}` : String(error);
    }
    latenciesMs.push(performance.now() - t);
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    latenciesMs, seconds: (performance.now() - start) / 1000, processCpuSeconds: (cpu.user + cpu.system) / 1e6,
    machineBusySeconds: machineCpuSeconds().busy - machine0, errors, firstError,
  };
}

/** One window's figures from its slices. */
export function combine(slices: Slice[]): Window {
  const sorted = slices.flatMap((s) => s.latenciesMs).sort((a, b) => a - b);
  const ops = sorted.length;
  const seconds = slices.reduce((t, s) => t + s.seconds, 0);
  const processSeconds = slices.reduce((t, s) => t + s.processCpuSeconds, 0);
  const machineBusy = slices.reduce((t, s) => t + s.machineBusySeconds, 0);
  const pct = (p: number) => (sorted[Math.min(ops - 1, Math.floor(p * ops))] ?? NaN) * 1000;
  return {
    ops, seconds, opsPerSecond: ops / seconds, p50Us: pct(0.5), p99Us: pct(0.99),
    cpuUsPerOp: (processSeconds * 1e6) / Math.max(1, ops),
    othersCores: Math.max(0, machineBusy - processSeconds) / seconds,
    errors: slices.reduce((t, s) => t + s.errors, 0),
    firstError: slices.find((s) => s.firstError)?.firstError,
  };
}
