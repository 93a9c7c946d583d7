import type { Machine } from './machine.ts';
import type { TargetResult } from './target-process.ts';
import type { ScenarioName } from './load/worker.ts';
import type { TargetName } from './targets/types.ts';
import { discoveryDifferences } from './discovery-check.ts';

export const TARGET_RATIO = 0.8;

export interface RunSettings {
  seconds: number;
  warmupSeconds: number;
  rounds: number;
  whatIfs: string[];
  clientCredentialsConcurrency: number;
  flowConcurrency: number;
}

export interface Verdict { scenario: ScenarioName; ratio: number | undefined; pass: boolean | undefined }

const LABEL: Record<TargetName, string> = { bare: 'bare oidc-provider', pglite: 'Sekisho / PGlite', postgres: 'Sekisho / PostgreSQL' };

export function scenarioTitle(scenario: ScenarioName, settings: RunSettings): string {
  return scenario === 'clientCredentials'
    ? `(a) client_credentials grant, private_key_jwt + DPoP, concurrency ${settings.clientCredentialsConcurrency}`
    : `(b) PAR → authorize (signed in, consent on record) → token, private_key_jwt + DPoP, concurrency ${settings.flowConcurrency}`;
}

/**
 * Throughput of `target` over the bare provider's, measured in the same run. With several rounds,
 * the median of the per-round ratios (each target against the bare provider of its own round, so
 * slow drifts of the machine cancel out).
 */
export function ratio(results: TargetResult[], target: TargetName, scenario: ScenarioName): number | undefined {
  const bare = results.find((r) => r.target === 'bare')?.[scenario];
  const mine = results.find((r) => r.target === target)?.[scenario];
  if (!bare?.opsPerSecond || !mine) return undefined;
  if (bare.rounds && mine.rounds && bare.rounds.length === mine.rounds.length) {
    const ratios = mine.rounds.map((x, i) => x / bare.rounds![i]!).sort((a, b) => a - b);
    return ratios[Math.floor((ratios.length - 1) / 2)];
  }
  return mine.opsPerSecond / bare.opsPerSecond;
}

export function verdicts(results: TargetResult[]): Verdict[] {
  return (['clientCredentials', 'codeFlow'] as const).map((scenario) => {
    const r = ratio(results, 'postgres', scenario);
    return { scenario, ratio: r, pass: r === undefined ? undefined : r >= TARGET_RATIO };
  });
}

const pad = (s: string, n: number) => s.padEnd(n);
const num = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '—');

export function formatReport(machine: Machine, settings: RunSettings, results: TargetResult[], skipped: string[]): string {
  const lines: string[] = [];
  lines.push(`Machine: ${machine.cpuModel}, ${machine.cpus} CPUs, ${machine.memoryGiB} GiB RAM, kernel ${machine.kernel}`);
  lines.push(`Software: Node ${machine.node}, oidc-provider ${machine.oidcProvider}, PGlite ${machine.pglite}, PostgreSQL ${machine.postgres ?? '(not used)'}`);
  lines.push(`Method: plain HTTP/1.1 keep-alive on 127.0.0.1; each target in its own process (server on the main thread,`);
  lines.push(`        load generator in a worker thread); targets one after another; ${settings.warmupSeconds} s warm-up, then ${settings.seconds} s measured per scenario.`);
  if (settings.rounds > 1) {
    lines.push(`        ${settings.rounds} rounds (bare, PGlite, PostgreSQL in turn); each row is the round with the median ops/s;`);
    lines.push('        "vs bare" is the median of the per-round ratios (each against the bare provider of its round).');
  }
  if (settings.whatIfs.length) lines.push(`WHAT-IF EXPERIMENTS applied to Sekisho (not Sekisho as shipped): ${settings.whatIfs.join(', ')}`);
  for (const s of skipped) lines.push(`SKIPPED: ${s}`);
  const drift = discoveryDifferences(results);
  if (drift.length) {
    lines.push('WARNING: the bare provider\'s configuration differs from Sekisho\'s (discovery documents); check bench/targets/bare.ts:');
    for (const d of drift) lines.push(`  ${d}`);
  } else if (results.some((r) => r.target === 'bare') && results.length > 1) {
    lines.push('Configuration check: the bare provider and Sekisho publish identical discovery documents.');
  }

  for (const scenario of ['clientCredentials', 'codeFlow'] as const) {
    lines.push('', scenarioTitle(scenario, settings));
    lines.push(`  ${pad('target', 22)}${'ops/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'errors'.padStart(8)}${'vs bare'.padStart(9)}   ≥${TARGET_RATIO.toFixed(2)}× target`);
    for (const r of results) {
      const m = r[scenario];
      const x = ratio(results, r.target, scenario);
      const verdict = r.target === 'bare' ? 'baseline' : r.target === 'postgres' ? (x !== undefined && x >= TARGET_RATIO ? 'PASS' : 'FAIL') : 'n/a (not targeted)';
      lines.push(`  ${pad(LABEL[r.target], 22)}${num(m.opsPerSecond).padStart(9)}${num(m.latencyMs.p50, 2).padStart(9)}${num(m.latencyMs.p99, 2).padStart(9)}${String(m.errors).padStart(8)}${(x === undefined ? '—' : `${x.toFixed(2)}×`).padStart(9)}   ${verdict}`);
    }
    if (settings.rounds > 1) {
      lines.push('  ops/s of each round:');
      for (const r of results) lines.push(`    ${pad(LABEL[r.target], 22)}${(r[scenario].rounds ?? []).map((x) => num(x)).join(' / ')}`);
    }
    if (scenario === 'codeFlow') {
      lines.push('  per step p50 / p99 ms:');
      for (const r of results) {
        const steps = Object.entries(r.codeFlow.stepsMs).map(([step, d]) => `${step} ${num(d.p50, 2)} / ${num(d.p99, 2)}`).join(', ');
        lines.push(`    ${pad(LABEL[r.target], 22)}${steps}`);
      }
    }
    lines.push('  where the CPU went, ms of CPU time per operation (server = the server\'s event-loop thread; load gen = the');
    lines.push('  client thread; pool+GC = this process\'s other threads, incl. WebCrypto sign/verify of both sides; PG = the');
    lines.push('  PostgreSQL backends of Sekisho\'s pool; rest = everything else on the machine), the kernel\'s share of the');
    lines.push('  server thread\'s CPU, how busy the server loop was, and machine CPU in use (cores):');
    lines.push(`    ${pad('', 22)}${['server', '(kernel)', 'load gen', 'pool+GC', 'PG', 'rest', 'loop busy', 'machine'].map((h) => h.padStart(10)).join('')}`);
    for (const r of results) {
      const s = r[scenario].server;
      const c = s.cpuMsPerOp;
      lines.push(`    ${pad(LABEL[r.target], 22)}${num(c.serverThread, 2).padStart(10)}${`${num(s.serverKernelShare * 100, 0)}%`.padStart(10)}`
        + `${[c.loadGeneratorThread, c.processOtherThreads, c.postgresBackends, c.restOfMachine].map((v) => num(v, 2).padStart(10)).join('')}`
        + `${`${num(s.serverLoopBusy * 100, 0)}%`.padStart(10)}${num(s.machineCores, 2).padStart(10)}`);
    }
    for (const r of results) {
      const m = r[scenario];
      const others = (m.server.cpuMsPerOp.restOfMachine * m.opsPerSecond) / 1000;
      if (others > 0.2) lines.push(`  NOTE: other processes used ${others.toFixed(2)} cores while ${LABEL[r.target]} was measured; its figures are disturbed.`);
    }
    for (const r of results.filter((x) => x.target !== 'bare')) {
      lines.push(`  SQL statements per operation, ${LABEL[r.target]} (${num(r[scenario].server.statementsPerOp, 2)} in all):`);
      for (const q of r[scenario].server.statements) lines.push(`    ${num(q.perOp, 2).padStart(6)}  ${q.statement}`);
    }
    for (const r of results) {
      for (const e of r[scenario].errorSamples) lines.push(`  error (${LABEL[r.target]}): ${e}`);
    }
  }

  lines.push('');
  const v = verdicts(results);
  if (v.some((x) => x.ratio === undefined)) {
    const missing = results.some((r) => r.target === 'bare') ? 'Sekisho on PostgreSQL was not run' : 'the bare baseline was not run';
    lines.push(`Target (Sekisho on PostgreSQL ≥ ${TARGET_RATIO}× bare on (a) and (b)): NOT MEASURED (${missing})`);
  } else {
    const met = v.every((x) => x.pass);
    lines.push(`Target (Sekisho on PostgreSQL ≥ ${TARGET_RATIO}× bare on (a) and (b)): ${met ? 'MET' : 'NOT MET'} — `
      + v.map((x) => `${x.scenario === 'clientCredentials' ? '(a)' : '(b)'} ${x.ratio!.toFixed(2)}× ${x.pass ? 'PASS' : 'FAIL'}`).join(', '));
  }
  return lines.join('\n');
}
