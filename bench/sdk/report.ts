/** The text report of `npm run bench -- sdk` (bench/sdk/run.ts). */
import { readFileSync } from 'node:fs';
import type { Machine } from '../machine.ts';
import type { Load, SourceState } from '../run-environment.ts';
import { ARMS, TARGET, type ArmName, type Pair, type SdkSettings } from './run.ts';
import type { Window } from './measure.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN;
const num = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '—');

function version(name: string): string {
  try {
    return (JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Median over rounds of (arm ops/s ÷ the baseline's ops/s in the slices alternated with it). */
export function ratioToBaseline(pairs: Pair[], arm: ArmName): number {
  return median(pairs.filter((p) => p.arm === arm).map((p) => p.measured.opsPerSecond / p.baseline.opsPerSecond));
}

/** The same on CPU: baseline CPU per op ÷ the arm's (what the ratio would be on a saturated machine). */
function cpuRatio(pairs: Pair[], arm: ArmName): number {
  return median(pairs.filter((p) => p.arm === arm).map((p) => p.baseline.cpuUsPerOp / p.measured.cpuUsPerOp));
}

/** The arm's round with the median ops/s (its latencies come along). */
function medianWindow(windows: Window[]): Window | undefined {
  const sorted = [...windows].sort((a, b) => a.opsPerSecond - b.opsPerSecond);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

export interface SdkReportInput {
  date: string;
  machine: Machine;
  code: SourceState;
  settings: SdkSettings;
  pairs: Pair[];
  before: Load;
  introspectionCalls: number;
}

export function formatSdkReport(r: SdkReportInput): string {
  const { machine, settings, pairs } = r;
  const lines: string[] = [];
  lines.push(`Date: ${r.date}; commit ${r.code.commit}${r.code.changed.length ? ` + uncommitted changes in ${r.code.changed.length} file(s)` : ''}`);
  lines.push(`Machine: ${machine.cpuModel}, ${machine.cpus} CPUs, ${machine.memoryGiB} GiB RAM, kernel ${machine.kernel}; Node ${machine.node}, jose ${version('jose')}`);
  lines.push(`Settings: ${settings.rounds} round(s) × ${settings.seconds} s per arm, in 0.5 s slices alternating with the baseline; ${settings.warmupSeconds} s warm-up; verifications one at a time; ES256 tokens and proofs; replay store on (in memory)`);
  lines.push(`Before the run: load average ${r.before.loadavg1.toFixed(2)}, ${r.before.busyCores.toFixed(2)} cores busy`);
  lines.push('');
  lines.push(`${'arm'.padEnd(50)}${'ops/s'.padStart(8)}${'p50 µs'.padStart(9)}${'p99 µs'.padStart(9)}${'CPU µs/op'.padStart(11)}${'× baseline'.padStart(12)}${'CPU ×'.padStart(8)}${'others'.padStart(8)}`);
  const row = (label: string, w: Window | undefined, ratio: string, cpu: string) => {
    if (w) lines.push(`${label.padEnd(50)}${num(w.opsPerSecond).padStart(8)}${num(w.p50Us).padStart(9)}${num(w.p99Us).padStart(9)}${num(w.cpuUsPerOp).padStart(11)}${ratio.padStart(12)}${cpu.padStart(8)}${num(w.othersCores, 2).padStart(8)}`);
  };
  row(ARMS.jose, medianWindow(pairs.map((p) => p.baseline)), '1.00', '1.00');
  for (const arm of settings.arms.filter((a) => a !== 'jose')) {
    row(ARMS[arm], medianWindow(pairs.filter((p) => p.arm === arm).map((p) => p.measured)), num(ratioToBaseline(pairs, arm), 2), num(cpuRatio(pairs, arm), 2));
  }
  lines.push('');
  lines.push('ops/s, p50, p99: the median round (the baseline: the median of all its slices). × baseline: median over rounds of ops/s ÷ the baseline slices alternated with it.');
  lines.push('CPU µs/op: the whole process, every thread (WebCrypto runs on libuv\'s pool); CPU ×: baseline CPU/op ÷ the arm\'s — the ratio to expect on a saturated machine.');
  lines.push('others: cores the rest of the machine kept busy meanwhile (other people\'s work; above ~0.2 the figures are disturbed).');
  if (settings.arms.includes('dpop')) {
    const ratio = ratioToBaseline(pairs, 'dpop');
    const perRound = pairs.filter((p) => p.arm === 'dpop').map((p) => num(p.measured.opsPerSecond / p.baseline.opsPerSecond, 2));
    lines.push('');
    lines.push(`Target: (2) ≥ ${TARGET.toFixed(1)}× (1). ${ratio >= TARGET ? 'MET' : 'NOT MET'}: ${num(ratio, 2)}× (per round: ${perRound.join(', ')}).`);
  }
  if (settings.arms.includes('cached')) lines.push(`Introspection calls during the measured windows (all arms): ${r.introspectionCalls}.`);
  const errors = pairs.filter((p) => p.measured.errors || p.baseline.errors);
  if (errors.length) lines.push(`ERRORS: ${errors.map((p) => `${p.arm} round ${p.round}: ${p.measured.errors + p.baseline.errors} (${p.measured.firstError ?? p.baseline.firstError})`).join('; ')}`);
  return lines.join('\n');
}
