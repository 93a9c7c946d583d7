import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { machineCpuSeconds } from './cpu-meter.ts';

/**
 * What a benchmark run records about where and when it ran, and how it waits for a shared machine
 * to be quiet: the same for every benchmark (consent, CIBA).
 */

/** The 1-minute load average and the cores busy over half a second, at a moment of the run. */
export interface Load { at: string; loadavg1: number; busyCores: number }

/** The commit measured, and the files changed in the working tree (not committed) at the time. */
export interface SourceState { commit: string; changed: string[] }

export function sourceState(): SourceState {
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' }).trimEnd();
    } catch {
      return '';
    }
  };
  return { commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown', changed: git(['status', '--porcelain', '--untracked-files=no']).split('\n').filter(Boolean).map((l) => l.slice(3)) };
}

/**
 * On a shared machine: waits (up to `maxSeconds`) until the machine is less than 0.25 cores busy
 * over 2 s. Called between windows, when the benchmark's own processes are idle, so what is busy
 * is someone else. Whether it was quiet during a window is reported per window either way.
 */
export async function waitQuiet(maxSeconds: number): Promise<void> {
  if (!maxSeconds) return;
  const until = performance.now() + maxSeconds * 1000;
  let busy = Infinity;
  while (performance.now() < until) {
    const a = machineCpuSeconds().busy;
    await sleep(2000);
    busy = (machineCpuSeconds().busy - a) / 2;
    if (busy < 0.25) return;
  }
  console.log(`  (not quiet after ${maxSeconds} s: ${busy.toFixed(2)} cores busy; measuring anyway)`);
}

/** The 1-minute load average and the cores busy over the next half second. */
export async function load(): Promise<Load> {
  const a = machineCpuSeconds().busy;
  await sleep(500);
  return { at: new Date().toISOString(), loadavg1: loadavg()[0]!, busyCores: (machineCpuSeconds().busy - a) / 0.5 };
}

/** A positive number from the environment, or the default. */
export function positive(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return raw && Number.isFinite(n) && n > 0 ? n : fallback;
}

/** A number ≥ 0 from the environment, or the default. */
export function nonNegative(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return raw !== undefined && raw !== '' && Number.isFinite(n) && n >= 0 ? n : fallback;
}
