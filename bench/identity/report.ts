/** The text report of `npm run bench -- identity` (bench/identity/run.ts). */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Machine } from '../machine.ts';
import type { EngineResult, IdentitySettings, SignInLoad, SignInResult, TokenPhase } from './run.ts';
import type { ServerWindow } from './server-process.ts';

const LABEL: Record<EngineResult['engine'], string> = { pglite: 'Sekisho / PGlite', postgres: 'Sekisho / PostgreSQL' };
const pad = (s: string, n: number) => s.padEnd(n);
const num = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '—');
const col = (s: string, n = 9) => s.padStart(n);

function simplewebauthnVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../node_modules/@simplewebauthn/server/package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function formatIdentityReport(machine: Machine, s: IdentitySettings, results: EngineResult[], skipped: string[]): string {
  const lines: string[] = [];
  lines.push(`Machine: ${machine.cpuModel}, ${machine.cpus} CPUs, ${machine.memoryGiB} GiB RAM, kernel ${machine.kernel}`);
  lines.push(`Software: Node ${machine.node}, oidc-provider ${machine.oidcProvider}, @simplewebauthn/server ${simplewebauthnVersion()}, PGlite ${machine.pglite}, PostgreSQL ${machine.postgres ?? '(not used)'}`);
  lines.push('Method: plain HTTP/1.1 keep-alive on 127.0.0.1; Sekisho in its own process, the load generator in another (its crypto does');
  lines.push(`        not share the server's thread pool); ${s.warmupSeconds} s warm-up, then ${s.seconds} s measured per window.`);
  for (const r of results) lines.push(`Password hashes as stored (${LABEL[r.engine]}): ${r.passwordHashParams}; server's libuv thread pool: ${r.threadpoolSize} threads`);
  const limits = [...new Set(results.map((r) => r.hashLimit).filter((n) => n !== undefined))];
  lines.push(`Password hashes at once: ${limits.length ? limits.join('/') : `${Math.max(1, availableParallelism() - 1)} (as shipped: cores − 1)`}, at most 8× that waiting, then 503 (identity/password.ts)`);
  if (limits.length) lines.push(`WHAT-IF EXPERIMENT (not Sekisho as shipped): identity.passwordHashConcurrency = ${limits.join('/')}`);
  for (const x of skipped) lines.push(`SKIPPED: ${x}`);

  const signIns = (title: string, pickOrNot: (r: EngineResult) => SignInResult | undefined) => {
    if (!results.some(pickOrNot)) return;
    const pick = (r: EngineResult) => pickOrNot(r)!;
    lines.push('', title);
    lines.push(`  ${pad('target', 22)}${col('sign-ins/s', 11)}${col('p50 ms')}${col('p99 ms')}${col('errors', 8)}   page p50 / submit p50 / submit p99 ms`);
    for (const r of results) {
      const m = pick(r).measurement;
      const st = m.stepsMs;
      lines.push(`  ${pad(LABEL[r.engine], 22)}${col(num(m.opsPerSecond), 11)}${col(num(m.latencyMs.p50, 2))}${col(num(m.latencyMs.p99, 2))}${col(String(m.errors), 8)}`
        + `   ${num(st.page?.p50 ?? NaN, 2)} / ${num(st.submit?.p50 ?? NaN, 2)} / ${num(st.submit?.p99 ?? NaN, 2)}${m.ranOut ? `  (prepared interactions ran out after ${m.seconds} s)` : ''}`);
    }
    lines.push('  CPU per sign-in, ms (server = the server\'s event-loop thread; pool+GC = its other threads: libuv pool with scrypt and');
    lines.push('  WebCrypto, GC; PG = PostgreSQL backends; load gen = the load-generator process; rest = everything else on the machine),');
    lines.push('  server loop busy, machine cores in use, SQL statements per sign-in:');
    lines.push(`    ${pad('', 22)}${['server', 'pool+GC', 'PG', 'load gen', 'rest', 'loop busy', 'machine', 'SQL/op'].map((h) => col(h, 10)).join('')}`);
    for (const r of results) {
      const { measurement: m, server: w, generatorCpuSeconds } = pick(r);
      const perOp = (sec: number) => num((sec * 1000) / m.ops, 2);
      const statements = w.statements.reduce((a, q) => a + q.count, 0);
      lines.push(`    ${pad(LABEL[r.engine], 22)}${[perOp(w.cpu.serverThread), perOp(w.cpu.otherThreads), perOp(w.cpu.postgresBackends), perOp(generatorCpuSeconds),
        perOp(restOf(w, generatorCpuSeconds)), `${num(w.loopBusy * 100, 0)}%`, num(w.cpu.machine / w.seconds, 2), num(statements / m.ops, 1)].map((v) => col(v, 10)).join('')}`);
    }
    for (const r of results) {
      const { server: w, generatorCpuSeconds } = pick(r);
      const rest = restOf(w, generatorCpuSeconds) / w.seconds;
      if (rest > 0.2) lines.push(`  NOTE: other processes used ${num(rest, 2)} cores while ${LABEL[r.engine]} was measured; its figures are disturbed.`);
    }
    for (const r of results) for (const e of pick(r).measurement.errorSamples) lines.push(`  error (${LABEL[r.engine]}): ${e}`);
  };
  const [, n, rr, p] = (results[0]?.passwordHashParams ?? '').split('$');
  signIns(`(A) password sign-ins (GET sign-in page, POST password; scrypt N=${n} r=${rr} p=${p}), concurrency ${s.concurrency}, one person per loop`, (r) => r.password);
  signIns(`(B) passkey sign-ins (GET sign-in page, POST WebAuthn assertion; synced ES256 passkey, UV), concurrency ${s.concurrency}, one person per loop`, (r) => r.passkey);

  if (!results.some((r) => r.tokens.length)) return lines.join('\n');
  lines.push('', `(C) token endpoint (client_credentials, private_key_jwt + DPoP) at ${s.tokenRate} requests/s: alone, with password sign-ins at a fixed`);
  lines.push(`  rate, with password sign-ins in ${s.concurrency} closed loops (as many as the server takes, as in A), alone again`);
  lines.push('  latency = HTTP round trip of the token request (client signing done before the clock starts); server side: loop delay =');
  lines.push('  how late a timer fired on the server\'s event loop; pool wait = completion time of a trivial job put on libuv\'s thread pool');
  lines.push('  every 20 ms; then CPU in use, in cores: the server thread, its other threads (scrypt, WebCrypto, GC), the load generator,');
  lines.push('  the rest of the machine (PostgreSQL included), the whole machine.');
  lines.push(`  ${pad('target / load', 44)}${['tokens/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors'].map((h) => col(h)).join('')}   sign-ins/s (p50 / p99 ms)`);
  for (const r of results) {
    for (const t of r.tokens) {
      const k = t.tokens;
      const si = t.signIns ? `${num(t.signIns.perSecond)} (${num(t.signIns.latencyMs.p50, 0)} / ${num(t.signIns.latencyMs.p99, 0)})${t.signIns.errors ? `, ${t.signIns.errors} errors` : ''}${t.signIns.skipped ? `, ${t.signIns.skipped} not started (64 already in flight)` : ''}` : '—';
      lines.push(`  ${pad(`${LABEL[r.engine]}, ${loadLabel(t, r.tokens)}`, 44)}${[num(k.perSecond), num(k.latencyMs.p50, 2), num(k.latencyMs.p90, 2), num(k.latencyMs.p99, 2), num(k.latencyMs.max, 1), String(k.errors)].map((v) => col(v)).join('')}   ${si}`);
      if (k.skipped) lines.push(`    (${k.skipped} of ${k.scheduled} token requests due in the window were not sent: 256 were already waiting)`);
    }
  }
  lines.push(`  server side during the window:`);
  lines.push(`    ${pad('', 42)}${['loop busy', 'delay p99', 'delay max', 'pool p50', 'pool p99', 'pool max', 'server', 'pool+GC', 'load gen', 'rest', 'machine'].map((h) => col(h, 10)).join('')}`);
  for (const r of results) {
    for (const t of r.tokens) {
      const w = t.server;
      lines.push(`    ${pad(`${LABEL[r.engine]}, ${loadLabel(t, r.tokens)}`, 42)}${[`${num(w.loopBusy * 100, 0)}%`, num(w.loopDelayMs.p99, 2), num(w.loopDelayMs.max, 1),
        num(w.threadpoolProbeMs.p50, 2), num(w.threadpoolProbeMs.p99, 1), num(w.threadpoolProbeMs.max, 1),
        ...[w.cpu.serverThread, w.cpu.otherThreads, t.generatorCpuSeconds, restOf(w, t.generatorCpuSeconds) + w.cpu.postgresBackends, w.cpu.machine].map((c) => num(c / w.seconds, 2))].map((v) => col(v, 10)).join('')}`);
    }
  }
  for (const r of results) {
    for (const t of r.tokens) {
      const rest = restOf(t.server, t.generatorCpuSeconds) / t.server.seconds;
      if (rest > 0.2) lines.push(`  NOTE: other processes used ${num(rest, 2)} cores during ${LABEL[r.engine]}, ${loadLabel(t, r.tokens)}; its figures are disturbed.`);
    }
  }
  for (const r of results) {
    for (const t of r.tokens) for (const e of [...t.tokens.errorSamples, ...(t.signIns?.errorSamples ?? [])]) lines.push(`  error (${LABEL[r.engine]}, ${loadLabel(t, r.tokens)}): ${e}`);
  }
  lines.push('');
  for (const r of results) {
    const base = r.tokenBaseline;
    if (!base) continue;
    lines.push(`${LABEL[r.engine]}: token latency alone (both alone windows, ${num(base.p50, 2)} ms p50, ${num(base.p99, 2)} ms p99) against:`);
    for (const t of r.tokens.filter((x) => x.load.kind !== 'none')) {
      const w = t.tokens.latencyMs;
      lines.push(`  ${pad(signInLoadLabel(t.load), 26)} p99 ${col(num(w.p99, 2), 8)} ms = ${col(`${num(w.p99 / base.p99, 2)}×`, 7)}   p50 ${col(`${num(w.p50 / base.p50, 2)}×`, 7)}   server loop delay p99 ${num(t.server.loopDelayMs.p99, 1)} ms, pool wait p99 ${num(t.server.threadpoolProbeMs.p99, 1)} ms`);
    }
  }
  return lines.join('\n');
}

export function signInLoadLabel(load: SignInLoad): string {
  return load.kind === 'none' ? 'alone' : load.kind === 'rate' ? `+ ${load.rate} sign-ins/s` : `+ sign-ins, ${load.concurrency} loops`;
}

function restOf(w: ServerWindow, generator: number): number {
  return Math.max(0, w.cpu.machine - w.cpu.serverThread - w.cpu.otherThreads - w.cpu.postgresBackends - generator);
}

function loadLabel(t: TokenPhase, all: TokenPhase[]): string {
  if (t.load.kind !== 'none') return signInLoadLabel(t.load);
  const alone = all.filter((x) => x.load.kind === 'none');
  return alone.length < 2 ? 'alone' : t === alone[0] ? 'alone (before)' : 'alone (after)';
}
