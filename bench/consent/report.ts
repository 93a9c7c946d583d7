/** The text report of `npm run bench -- consent` (bench/consent/run.ts). */
import { readFileSync } from 'node:fs';
import type { Machine } from '../machine.ts';
import type { ArmWindow, ConsentSettings, EngineResult, Load, PageResult, PageWindow, SourceState } from './run.ts';
import type { Arm } from './flows.ts';
import { FLOW_SCOPE } from './flows.ts';
import type { ServerWindow } from './server-process.ts';
import type { Percentiles } from './page.ts';

const ENGINE: Record<EngineResult['engine'], string> = { pglite: 'Sekisho / PGlite', postgres: 'Sekisho / PostgreSQL' };
const ARM: Record<Arm, string> = { reuse: 'reuse (no decision)', consent: 'consent (prompt=consent)', create: 'create (new grant)' };
const num = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '—');
const col = (s: string, n = 9) => s.padStart(n);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN;

function version(name: string): string {
  try {
    return (JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The round of `arm` with the median flows/s (its latencies and CPU figures come along). */
function medianWindow(flows: ArmWindow[], arm: Arm): ArmWindow | undefined {
  const mine = flows.filter((w) => w.arm === arm).sort((a, b) => a.measurement.opsPerSecond - b.measurement.opsPerSecond);
  return mine[Math.floor((mine.length - 1) / 2)];
}

/** Median over rounds of (arm's flows/s ÷ reuse's flows/s in the same round). */
export function ratioToReuse(flows: ArmWindow[], arm: Arm): number | undefined {
  const rounds = [...new Set(flows.map((w) => w.round))];
  const ratios = rounds.flatMap((round) => {
    const base = flows.find((w) => w.round === round && w.arm === 'reuse')?.measurement.opsPerSecond;
    const mine = flows.find((w) => w.round === round && w.arm === arm)?.measurement.opsPerSecond;
    return base && mine !== undefined ? [mine / base] : [];
  });
  return ratios.length ? median(ratios) : undefined;
}

/** CPU ms per operation: server thread, its other threads, PostgreSQL backends, load generator, everything else. */
function cpuPerOp(server: ServerWindow, generatorCpuSeconds: number, ops: number) {
  const ms = (s: number) => (s * 1000) / ops;
  const rest = server.cpu.machine - server.cpu.serverThread - server.cpu.otherThreads - server.cpu.postgresBackends - generatorCpuSeconds;
  return { server: ms(server.cpu.serverThread), other: ms(server.cpu.otherThreads), pg: ms(server.cpu.postgresBackends), gen: ms(generatorCpuSeconds), rest: ms(Math.max(0, rest)), cores: server.cpu.machine / server.seconds };
}

function loadText(l: Load): string {
  return `load avg ${num(l.loadavg1, 2)}, ${num(l.busyCores, 2)} cores busy just before`;
}

/** Cores used during a window by everything but this benchmark (server, its PostgreSQL backends, load generator). */
function othersCores(server: ServerWindow, generatorCpuSeconds: number): number {
  return Math.max(0, server.cpu.machine - server.cpu.serverThread - server.cpu.otherThreads - server.cpu.postgresBackends - generatorCpuSeconds) / server.seconds;
}
const OTHERS_NOTE = 0.2;

export function formatConsentReport(machine: Machine, code: SourceState, s: ConsentSettings, results: EngineResult[], skipped: string[], before: Load): string {
  const lines: string[] = [];
  lines.push(`Machine: ${machine.cpuModel}, ${machine.cpus} CPUs, ${machine.memoryGiB} GiB RAM, kernel ${machine.kernel}`);
  lines.push(`Software: Node ${machine.node}, oidc-provider ${machine.oidcProvider}, oauth4webapi ${version('oauth4webapi')}, PGlite ${machine.pglite}, PostgreSQL ${machine.postgres ?? '(not used)'}`);
  lines.push('Method: plain HTTP/1.1 keep-alive on 127.0.0.1; Sekisho in its own process, the load generator (client: oauth4webapi;');
  lines.push(`        person: the real pages) in another. Machine before the run: ${loadText(before)}.`);
  lines.push(`Code: commit ${code.commit}${code.changed.length ? `, with uncommitted changes to ${code.changed.length} file(s): ${code.changed.slice(0, 6).join(', ')}${code.changed.length > 6 ? ', …' : ''}` : ''}`);
  if (s.whatIfs.length) lines.push(`WHAT-IF EXPERIMENTS (not Sekisho as shipped): ${s.whatIfs.join(', ')} (bench/consent/what-if.ts)`);
  for (const x of skipped) lines.push(`SKIPPED: ${x}`);

  const withFlows = results.filter((r) => r.flows.length);
  if (withFlows.length) {
    lines.push('', `(A) complete code flows, concurrency ${s.concurrency}, one signed-in person per loop, scope "${FLOW_SCOPE}": PAR (private_key_jwt + DPoP,`);
    lines.push('    PKCE) → GET /auth → [consent screen: GET page, POST the form it shows, GET /auth/<uid>] → callback → token (private_key_jwt + DPoP)');
    lines.push(`    ${s.rounds} round(s) of ${s.arms.join(' → ')}, ${s.warmupSeconds} s warm-up + ${s.seconds} s measured each; the round with the median flows/s shown,`);
    lines.push('    "vs reuse" = median over rounds of the ratio to the reuse arm of the same round');
    lines.push(`  ${'target, arm'.padEnd(48)}${col('flows/s')}${col('p50 ms')}${col('p99 ms')}${col('errors', 8)}${col('vs reuse', 10)}`);
    for (const r of withFlows) {
      for (const arm of s.arms) {
        const w = medianWindow(r.flows, arm);
        if (!w) continue;
        const m = w.measurement;
        const ratio = arm === 'reuse' ? 1 : ratioToReuse(r.flows, arm);
        lines.push(`  ${`${ENGINE[r.engine]}, ${ARM[arm]}`.padEnd(48)}${col(num(m.opsPerSecond))}${col(num(m.latencyMs.p50, 2))}${col(num(m.latencyMs.p99, 2))}${col(String(m.errors), 8)}${col(ratio === undefined ? '—' : `${num(ratio, 2)}×`, 10)}`);
        for (const e of m.errorSamples) lines.push(`      error: ${e}`);
      }
    }
    for (const r of withFlows) {
      lines.push(`  ${ENGINE[r.engine]}, flows/s of each round (${s.arms.join(' / ')}):`);
      for (const round of [...new Set(r.flows.map((w) => w.round))]) {
        const ws = s.arms.map((arm) => r.flows.find((w) => w.round === round && w.arm === arm));
        const base = ws[0]?.measurement.opsPerSecond ?? NaN;
        const others = ws.map((w) => (w ? othersCores(w.server, w.generatorCpuSeconds) : NaN));
        lines.push(`    round ${round}: ${ws.map((w) => num(w?.measurement.opsPerSecond ?? NaN)).join(' / ')}   ratios ${ws.slice(1).map((w) => `${num((w?.measurement.opsPerSecond ?? NaN) / base, 2)}×`).join(', ')}   other processes: ${others.map((c) => num(c, 2)).join(' / ')} cores${others.some((c) => c > OTHERS_NOTE) ? '  NOTE: disturbed' : ''}`);
      }
    }
    lines.push('  per step p50 / p99 ms (median round):');
    for (const r of withFlows) {
      for (const arm of s.arms) {
        const st = medianWindow(r.flows, arm)?.measurement.stepsMs ?? {};
        lines.push(`    ${`${ENGINE[r.engine]}, ${arm}`.padEnd(32)}${Object.entries(st).map(([k, d]) => `${k} ${num(d.p50, 2)} / ${num(d.p99, 2)}`).join(', ')}`);
      }
    }
    lines.push('  CPU ms per flow (server = its event-loop thread; other = its other threads: libuv pool (WebCrypto), GC; PG = the backends');
    lines.push('  of its pool; load gen = this process; rest = other processes on the machine), server loop busy, machine cores in use,');
    lines.push('  SQL statements per flow, and their time from call to result summed (ms per flow; it includes the wait for the busy');
    lines.push('  event loop to take the result, so it is time in flight, not database time):');
    lines.push(`    ${''.padEnd(32)}${col('server')}${col('other')}${col('PG')}${col('load gen')}${col('rest')}${col('busy')}${col('cores')}${col('stmts')}${col('in flight', 10)}`);
    for (const r of withFlows) {
      for (const arm of s.arms) {
        const w = medianWindow(r.flows, arm);
        if (!w) continue;
        const ops = w.measurement.ops || 1;
        const c = cpuPerOp(w.server, w.generatorCpuSeconds, ops);
        const stmts = w.server.statements.reduce((n, x) => n + x.count, 0) / ops;
        const sqlMs = w.server.statements.reduce((n, x) => n + x.totalMs, 0) / ops;
        lines.push(`    ${`${ENGINE[r.engine]}, ${arm}`.padEnd(32)}${col(num(c.server, 2))}${col(num(c.other, 2))}${col(num(c.pg, 2))}${col(num(c.gen, 2))}${col(num(c.rest, 2))}${col(`${Math.round(w.server.loopBusy * 100)}%`)}${col(num(c.cores, 2))}${col(num(stmts, 2))}${col(num(sqlMs, 2), 10)}`);
      }
    }
    for (const r of withFlows) {
      const base = medianWindow(r.flows, 'reuse');
      for (const arm of s.arms.filter((a) => a !== 'reuse')) {
        const w = medianWindow(r.flows, arm);
        if (!base || !w) continue;
        lines.push(`  ${ENGINE[r.engine]}: statements per flow, ${arm} minus reuse (count, ms in flight per flow):`);
        for (const d of statementDiff(w, base).slice(0, 14)) lines.push(`    ${d.count >= 0 ? '+' : ''}${num(d.count, 2).padStart(6)}  ${num(d.ms, 2).padStart(6)} ms  ${d.statement}`);
      }
    }
  }

  for (const r of results.filter((x) => x.page)) lines.push('', ...pageReport(r.engine, r.page!, s));
  return lines.join('\n');
}

/** Per flow: statements of `w` minus those of `base`, largest first. */
function statementDiff(w: ArmWindow, base: ArmWindow) {
  const per = (x: ArmWindow) => new Map(x.server.statements.map((st) => [st.statement, { count: st.count / (x.measurement.ops || 1), ms: st.totalMs / (x.measurement.ops || 1) }]));
  const a = per(w);
  const b = per(base);
  return [...new Set([...a.keys(), ...b.keys()])]
    .map((statement) => ({ statement, count: (a.get(statement)?.count ?? 0) - (b.get(statement)?.count ?? 0), ms: (a.get(statement)?.ms ?? 0) - (b.get(statement)?.ms ?? 0) }))
    .filter((d) => Math.abs(d.count) >= 0.05 || Math.abs(d.ms) >= 0.05)
    .sort((x, y) => Math.abs(y.count) - Math.abs(x.count) || Math.abs(y.ms) - Math.abs(x.ms));
}

const dist = (d: Percentiles) => `p50 ${num(d.p50, 1)}  p95 ${num(d.p95, 1)}  p99 ${num(d.p99, 1)}  max ${num(d.max, 1)} ms`;

function pageReport(engine: EngineResult['engine'], p: PageResult, s: ConsentSettings): string[] {
  const lines: string[] = [];
  const seed = p.seed;
  const seedSeconds = seed.seconds.clients + seed.seconds.grants + seed.seconds.records;
  lines.push(`(B) My consents page (GET /account/consents), ${ENGINE[engine]}`);
  lines.push(`  seeded: one person with ${seed.grants} active grants (${seed.grantsWithDetails} with authorization details) over ${s.seed.clients} services, ${seed.refreshTokens} refresh`);
  lines.push(`  and ${seed.accessTokens} access tokens under them, ${seed.records} ledger records appended through the ledger (${num(seed.records / seed.seconds.records, 0)} appends/s, 8 in flight);`);
  lines.push(`  seeding took ${num(seedSeconds, 1)} s (services ${num(seed.seconds.clients, 1)}, grants ${num(seed.seconds.grants, 1)}, records ${num(seed.seconds.records, 1)})`);
  lines.push(`  ledger.verify() after seeding: ${seed.chain.ok ? `ok, ${seed.chain.records} records in the whole chain, head ${seed.chain.head.slice(0, 12)}…` : `BROKEN at seq ${seed.chain.seq} (${seed.chain.reason}) after ${seed.chain.records} records`}, ${num(seed.seconds.verify, 1)} s`);
  lines.push(`  the page lists ${p.shape.grantsListed} grants and ${p.shape.recordsListed} decisions, ${num(p.shape.bytes / 1024, 0)} KiB of HTML`);
  const row = (title: string, w: PageWindow) => {
    const ops = w.run.requests;
    const c = cpuPerOp(w.server, w.generatorCpuSeconds, ops);
    const stmts = w.server.statements.reduce((n, x) => n + x.count, 0) / ops;
    const sqlMs = w.server.statements.reduce((n, x) => n + x.totalMs, 0) / ops;
    const others = othersCores(w.server, w.generatorCpuSeconds);
    lines.push(`  ${title}: ${num(w.run.perSecond)} pages/s, ${dist(w.run.latencyMs)}  (other processes: ${num(others, 2)} cores${others > OTHERS_NOTE ? '  NOTE: disturbed' : ''})`);
    lines.push(`    per request: server thread ${num(c.server, 1)} ms CPU, PG backends ${num(c.pg, 1)} ms, other threads ${num(c.other, 1)} ms; ${num(stmts, 1)} statements, ${num(sqlMs, 1)} ms in flight (summed); server loop busy ${Math.round(w.server.loopBusy * 100)}%`);
  };
  row(`one at a time (${p.sequential.run.requests} requests)`, p.sequential);
  row(`${p.concurrent.run.concurrency} loops (${p.concurrent.run.requests} requests)`, p.concurrent);
  if (p.explainedBeforeAnalyze.length) {
    lines.push('  statements of one request right after seeding, before ANALYZE: ms from call to result [EXPLAIN ANALYZE execution ms]');
    for (const e of [...p.explainedBeforeAnalyze].sort((a, b) => (b.executionMs ?? 0) - (a.executionMs ?? 0)).slice(0, 4)) {
      const top = e.plan.split('\n').find((x) => /Scan/.test(x))?.trim().replace(/\s+\(cost.*$/, '').replace(/^->\s*/, '') ?? '';
      lines.push(`    ${num(e.ms, 2).padStart(7)} ms [${e.executionMs === undefined ? '—' : num(e.executionMs, 2)}]  ${e.label}: ${top}`);
    }
  }
  lines.push(`  statements of one request${p.explainedBeforeAnalyze.length ? ' after ANALYZE (as measured above)' : ''}, slowest first: ms from call to result [EXPLAIN ANALYZE execution ms], plan`);
  for (const e of [...p.explained].sort((a, b) => b.ms - a.ms).slice(0, 8)) {
    lines.push(`    ${num(e.ms, 2).padStart(7)} ms [${e.executionMs === undefined ? '—' : num(e.executionMs, 2)}]  ${e.label}`);
    for (const l of e.plan.split('\n').filter((x) => !/^\s*(Planning|Buffers|Execution|Sort Method|Heap Blocks)/.test(x.trim()) && x.trim()).slice(0, 4)) lines.push(`        ${l.trim().slice(0, 140)}`);
  }
  return lines;
}
