/** The text report of `npm run bench -- ciba` (bench/ciba/run.ts). */
import { readFileSync } from 'node:fs';
import type { Machine } from '../machine.ts';
import { distribution, type Distribution } from '../load/measure.ts';
import type { CibaSettings, EngineResult, Load, SourceState } from './run.ts';
import type { RoundResult, Sample } from './round.ts';
import type { ServerWindow } from './server-process.ts';
import { SOLO_STEPS, type SoloResult, type SoloStep } from './solo.ts';

const ENGINE: Record<EngineResult['engine'], string> = { pglite: 'Sekisho / PGlite', postgres: 'Sekisho / PostgreSQL' };
const num = (n: number | undefined, digits = 1) => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '—');
const col = (s: string, n = 9) => s.padStart(n);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN;
const pp = (d: Distribution) => `${num(d.p50)} / ${num(d.p99)}`;

function version(name: string): string {
  try {
    return (JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const all = (r: EngineResult) => r.rounds.flatMap((x) => x.samples);
const of = (samples: Sample[], f: (s: Sample) => number | undefined) => samples.map(f).filter((x): x is number => x !== undefined && Number.isFinite(x));

/** Requests/s of a round's burst: requests / (last response − first send). */
function burstRate(round: RoundResult): number {
  const s = round.samples;
  return s.length / ((Math.max(...s.map((x) => x.respondedAt)) - Math.min(...s.map((x) => x.sentAt))) / 1000);
}

/** CPU ms per operation in a window: server thread, its other threads, PostgreSQL backends, load generator, the rest of the machine. */
function cpuPerOp(server: Pick<ServerWindow, 'seconds' | 'cpu'>, generatorCpuSeconds: number, ops: number) {
  const ms = (s: number) => (s * 1000) / ops;
  const rest = server.cpu.machine - server.cpu.serverThread - server.cpu.otherThreads - server.cpu.postgresBackends - generatorCpuSeconds;
  return { server: ms(server.cpu.serverThread), other: ms(server.cpu.otherThreads), pg: ms(server.cpu.postgresBackends), gen: ms(generatorCpuSeconds), rest: ms(Math.max(0, rest)), cores: server.cpu.machine / server.seconds };
}

export function formatCibaReport(machine: Machine, code: SourceState, s: CibaSettings, results: EngineResult[], skipped: string[], before: Load): string {
  const lines: string[] = [];
  lines.push(`Machine: ${machine.cpuModel}, ${machine.cpus} CPUs, ${machine.memoryGiB} GiB RAM, kernel ${machine.kernel}`);
  lines.push(`Software: Node ${machine.node}, oidc-provider ${machine.oidcProvider}, oauth4webapi ${version('oauth4webapi')}, undici ${version('undici')}, PGlite ${machine.pglite}, PostgreSQL ${machine.postgres ?? '(not used)'}`);
  lines.push('Method: plain HTTP/1.1 keep-alive on 127.0.0.1; Sekisho in its own process; the client, the phones and the ping endpoint in');
  lines.push(`        another (this one). Machine before the run: load avg ${num(before.loadavg1, 2)}, ${num(before.busyCores, 2)} cores busy.`);
  lines.push(`Code: commit ${code.commit}${code.changed.length ? `, with uncommitted changes to ${code.changed.length} file(s): ${code.changed.slice(0, 6).join(', ')}${code.changed.length > 6 ? ', …' : ''}` : ''}`);
  lines.push(`Setup: ${s.patients} patients, each with a synced ES256 passkey and a phone linked by a passkey sign-in holding GET /device/events open;`);
  lines.push(`       ciba.pollIntervalSeconds ${s.pollIntervalSeconds}; ${s.warmupRounds} warm-up round(s) not counted, then ${s.rounds} measured; figures over all requests of the measured rounds.`);
  for (const x of skipped) lines.push(`SKIPPED: ${x}`);

  const bareBursts = results.flatMap((r) => r.bare);
  const bareNotify = distribution(bareBursts.flatMap((b) => b.notifyMs));
  lines.push('', `(a) backchannel request → its \`request\` event on the patient's live channel, ${s.patients} requests sent at once per round`);
  lines.push('    (signed request object, private_key_jwt; one per patient, so that many pending), timed from the request leaving the client');
  lines.push('    to the event read from the stream. Baseline: a bare node:http server (no framework, no auth, no database, own process)');
  lines.push(`    given the same burst right before each measured round: ${s.patients} POSTs at once, each writing one SSE event to one of`);
  lines.push(`    ${s.patients} open streams. "vs bare" = median over rounds of the round's percentile over its own baseline burst's.`);
  lines.push(`  ${'target'.padEnd(26)}${col('n', 6)}${col('p50 ms')}${col('p90 ms')}${col('p99 ms')}${col('max ms')}${col('req/s')}${col('p50 vs bare', 13)}${col('p99 vs bare', 13)}`);
  lines.push(`  ${'bare node:http SSE'.padEnd(26)}${col(String(bareBursts.reduce((n, b) => n + b.notifyMs.length, 0)), 6)}${col(num(bareNotify.p50, 2))}${col(num(bareNotify.p90, 2))}${col(num(bareNotify.p99, 2))}${col(num(bareNotify.max, 2))}${col(num(median(bareBursts.map((b) => b.perSecond)), 0))}${col('1.00×', 13)}${col('1.00×', 13)}`);
  for (const r of results) {
    const values = of(all(r), (x) => x.eventAt - x.sentAt);
    const d = distribution(values);
    const ratio = (p: 'p50' | 'p99') => median(r.rounds.map((round, i) => distribution(of(round.samples, (x) => x.eventAt - x.sentAt))[p] / distribution(r.bare[i]?.notifyMs ?? [])[p]));
    lines.push(`  ${ENGINE[r.engine].padEnd(26)}${col(String(values.length), 6)}${col(num(d.p50, 2))}${col(num(d.p90, 2))}${col(num(d.p99, 2))}${col(num(d.max, 2))}${col(num(median(r.rounds.map(burstRate)), 0))}${col(`${num(ratio('p50'), 1)}×`, 13)}${col(`${num(ratio('p99'), 1)}×`, 13)}`);
  }
  lines.push('  (req/s: requests of a burst over the time from its first request sent to its last response, median round)');
  for (const r of results) {
    const samples = all(r);
    const response = distribution(of(samples, (x) => x.respondedAt - x.sentAt));
    const after = distribution(of(samples, (x) => x.eventAt - x.respondedAt));
    const firstToLast = r.rounds.map((round) => Math.max(...round.samples.map((x) => x.eventAt)) - Math.min(...round.samples.map((x) => x.sentAt)));
    lines.push(`  ${ENGINE[r.engine]}: backchannel response p50 / p99 ${pp(response)} ms; event minus response p50 / p99 ${pp(after)} ms`);
    lines.push(`    (negative: the event reached the phone before the client had its auth_req_id); first request to last event per round: ${firstToLast.map((x) => `${num(x / 1000, 2)} s`).join(', ')}`);
    lines.push(`    per round p50 / p99 ms: ${r.rounds.map((round, i) => `${pp(distribution(of(round.samples, (x) => x.eventAt - x.sentAt)))} (bare ${pp(distribution(r.bare[i]?.notifyMs ?? []))})`).join('; ')}`);
  }

  lines.push('', `(b) approval → token. Approvals from ${s.approvers} phones at once, in random order, of the ${s.patients} pending requests; an approval is what a`);
  lines.push('    person does: GET the request page, POST for the passkey options, the authenticator\'s assertion, POST the form with it ("approve").');
  lines.push('    The requests are dealt round-robin to: poll (the client polls every `interval` s, started at a random point of it),');
  lines.push(`    poll-now (one poll the moment the approval's response arrives)${s.ping ? ', ping (ping-mode client: its HTTPS endpoint is pinged, then it polls)' : ''}.`);
  lines.push('  approval steps, p50 / p99 ms:');
  for (const r of results) {
    const samples = all(r).filter((x) => x.approval);
    const step = (f: (a: NonNullable<Sample['approval']>) => number) => pp(distribution(samples.map((x) => f(x.approval!))));
    lines.push(`    ${ENGINE[r.engine].padEnd(22)} page ${step((a) => a.page)}, passkey options ${step((a) => a.options)}, approve ${step((a) => a.approve)}, all three ${step((a) => a.page + a.options + a.approve)}   (n ${samples.length})`);
  }
  lines.push(`  ${'target, group: from → to'.padEnd(66)}${col('n', 5)}${col('p50 ms')}${col('p90 ms')}${col('p99 ms')}${col('max ms')}`);
  const row = (label: string, values: number[]) => {
    const d = distribution(values);
    lines.push(`  ${label.padEnd(66)}${col(String(values.length), 5)}${col(num(d.p50, 2))}${col(num(d.p90, 2))}${col(num(d.p99, 2))}${col(num(d.max, 2))}`);
  };
  for (const r of results) {
    const samples = all(r).filter((x) => x.approval);
    const g = (group: Sample['group']) => samples.filter((x) => x.group === group);
    row(`${ENGINE[r.engine]}, poll every ${s.pollIntervalSeconds} s: approve response → token`, of(g('poll'), (x) => x.tokenAt! - x.approval!.approvedAt));
    row(`${ENGINE[r.engine]}, poll-now: approve response → token`, of(g('poll-now'), (x) => x.tokenAt! - x.approval!.approvedAt));
    row('    of which the poll itself (sent → token response)', of(g('poll-now'), (x) => x.tokenPollMs));
    row('    paired client_credentials grant right after it', of(g('poll-now'), (x) => x.clientCredentialsMs));
    if (s.ping) {
      row(`${ENGINE[r.engine]}, ping: approve sent → ping received`, of(g('ping'), (x) => x.pingAt! - x.approval!.approveSentAt));
      row(`${ENGINE[r.engine]}, ping: approve response → ping received (negative: first)`, of(g('ping'), (x) => x.pingAt! - x.approval!.approvedAt));
      row(`${ENGINE[r.engine]}, ping: approve response → token (poll on the ping)`, of(g('ping'), (x) => x.tokenAt! - x.approval!.approvedAt));
    }
    const polled = g('poll');
    const pending = polled.reduce((n, x) => n + x.pending, 0);
    const slow = all(r).reduce((n, x) => n + x.slowDowns, 0);
    const pollNow = distribution(of(g('poll-now'), (x) => x.tokenPollMs));
    const cc = distribution(of(g('poll-now'), (x) => x.clientCredentialsMs));
    lines.push(`    polls answered authorization_pending before the token: ${num(pending / (polled.length || 1), 2)} per request; slow_down: ${slow}${r.pingUnexpected ? `; pings not understood: ${r.pingUnexpected}` : ''}`);
    const bareRt = distribution(r.bareRoundTripMs);
    lines.push(`    CIBA token poll vs client_credentials at the same moment, p50: ${num(pollNow.p50 / cc.p50, 2)}×; vs a bare HTTP round trip (${num(bareRt.p50, 2)} ms p50, one at a time, quiet): ${num(pollNow.p50 / bareRt.p50, 0)}×`);
  }

  lines.push('', '  CPU ms per request in each phase (server = its event-loop thread; other = its other threads; PG = the backends of its pool');
  lines.push('  and of the live channel\'s LISTEN/NOTIFY; load gen = this process; rest = other processes), server loop busy, cores in use,');
  lines.push('  SQL statements per request and their time from call to result (ms per request, in flight: includes waiting for the busy loop).');
  lines.push('  (a) = the burst of backchannel requests and their notifications; (b) = the approvals with every poll, ping and grant they cause.');
  lines.push(`    ${''.padEnd(30)}${col('server')}${col('other')}${col('PG')}${col('load gen')}${col('rest')}${col('busy')}${col('cores')}${col('stmts')}${col('in flight', 10)}`);
  for (const r of results) {
    for (const phase of ['request', 'approve'] as const) {
      const windows = r.rounds.map((x) => ({ ...x[phase], ops: x.samples.length }));
      const sum = (f: (w: (typeof windows)[number]) => number) => windows.reduce((n, w) => n + f(w), 0);
      const ops = sum((w) => w.ops) || 1;
      const server = {
        seconds: sum((w) => w.server.seconds), loopBusy: sum((w) => w.server.loopBusy * w.server.seconds) / (sum((w) => w.server.seconds) || 1),
        cpu: { serverThread: sum((w) => w.server.cpu.serverThread), otherThreads: sum((w) => w.server.cpu.otherThreads), postgresBackends: sum((w) => w.server.cpu.postgresBackends), machine: sum((w) => w.server.cpu.machine) },
      };
      const c = cpuPerOp(server, sum((w) => w.generatorCpuSeconds), ops);
      const stmts = sum((w) => w.server.statements.reduce((n, x) => n + x.count, 0)) / ops;
      const sqlMs = sum((w) => w.server.statements.reduce((n, x) => n + x.totalMs, 0)) / ops;
      lines.push(`    ${`${ENGINE[r.engine]}, (${phase === 'request' ? 'a' : 'b'})`.padEnd(30)}${col(num(c.server, 2))}${col(num(c.other, 2))}${col(num(c.pg, 2))}${col(num(c.gen, 2))}${col(num(c.rest, 2))}${col(`${Math.round(server.loopBusy * 100)}%`)}${col(num(c.cores, 2))}${col(num(stmts, 2))}${col(num(sqlMs, 2), 10)}`);
    }
  }
  lines.push('  server event loop delay (how late a 10 ms timer fired) p99 / max ms, per round; PostgreSQL: Sekisho\'s non-idle backends,');
  lines.push('  sampled every 100 ms (pg_stat_activity), as the average number in each state or wait event over the phase:');
  for (const r of results) {
    for (const phase of ['request', 'approve'] as const) {
      const windows = r.rounds.map((x) => x[phase].server);
      const waits = new Map<string, number>();
      for (const w of windows) for (const x of w.backendWaits) waits.set(x.what, (waits.get(x.what) ?? 0) + x.samples);
      const samples = windows.reduce((n, w) => n + w.waitSamples, 0);
      const waitText = samples ? `; backends: ${[...waits].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([what, n]) => `${what} ${num(n / samples, 2)}`).join(', ')}` : '';
      lines.push(`    ${`${ENGINE[r.engine]}, (${phase === 'request' ? 'a' : 'b'})`.padEnd(30)}loop delay ${windows.map((w) => `${num(w.loopDelayMs.p99, 0)} / ${num(w.loopDelayMs.max, 0)}`).join(', ')}${waitText}`);
    }
  }
  for (const r of results) {
    for (const phase of ['request', 'approve'] as const) {
      const ops = r.rounds.reduce((n, x) => n + x.samples.length, 0) || 1;
      const byLabel = new Map<string, { count: number; ms: number }>();
      for (const w of r.rounds) {
        for (const st of w[phase].server.statements) {
          const e = byLabel.get(st.statement) ?? { count: 0, ms: 0 };
          e.count += st.count;
          e.ms += st.totalMs;
          byLabel.set(st.statement, e);
        }
      }
      const top = [...byLabel].sort((a, b) => b[1].count - a[1].count).slice(0, 14);
      lines.push(`  ${ENGINE[r.engine]}, (${phase === 'request' ? 'a' : 'b'}): statements per request (count, ms in flight per request), most frequent first:`);
      for (const [label, e] of top) lines.push(`    ${num(e.count / ops, 2).padStart(6)} ${num(e.ms / ops, 2).padStart(8)} ms  ${label}`);
    }
  }
  for (const r of results) if (r.solo) lines.push('', ...soloReport(ENGINE[r.engine], r.solo));

  for (const r of results) {
    const errors = [...r.rounds.flatMap((x) => x.errors), ...(r.solo?.errors ?? [])];
    lines.push(`  ${ENGINE[r.engine]}: set-up ${num(r.setupSeconds)} s; errors: ${errors.length}${errors.length ? ` — e.g. ${errors.slice(0, 3).join(' | ')}` : ''}`);
    const failed = r.rounds.flatMap((x) => x.retried.failedPolls);
    lines.push(`    retried by the clients: ${r.rounds.reduce((n, x) => n + x.retried.dpopNonce, 0) + (r.solo?.dpopNonceRetries ?? 0)} token requests after use_dpop_nonce; ${failed.length} polls without an answer${failed.length ? ` (${[...new Set(failed)].slice(0, 2).join(' | ')})` : ''}`);
    lines.push(`    other processes during the windows (cores): ${r.rounds.map((x) => [x.request, x.approve].map((w) => num(Math.max(0, w.server.cpu.machine - w.server.cpu.serverThread - w.server.cpu.otherThreads - w.server.cpu.postgresBackends - w.generatorCpuSeconds) / w.server.seconds, 2)).join(' / ')).join(', ')}`);
  }
  return lines.join('\n');
}

const SOLO_LABEL: Record<SoloStep, string> = {
  request: 'backchannel request (sent → response)',
  notified: 'request sent → event on the stream',
  page: 'device: request page (GET)',
  options: 'device: passkey options (POST)',
  approve: 'device: approve (POST, assertion)',
  poll: 'poll right after the approval → tokens',
  client_credentials: 'client_credentials grant (baseline)',
};

/** The solo run: each step alone, its latency, the server's CPU and statements for it. */
function soloReport(engine: string, solo: SoloResult): string[] {
  const lines = [`(solo) ${engine}: ${solo.repetitions} requests one at a time, nothing else pending, each step in a measured window of its own`];
  lines.push(`  ${'step'.padEnd(42)}${col('p50 ms')}${col('p90 ms')}${col('max ms')}${col('server', 8)}${col('other', 8)}${col('PG', 8)}${col('stmts', 8)}`);
  for (const step of SOLO_STEPS) {
    const d = distribution(solo.ms[step]);
    const w = solo.windows[step] ?? [];
    const n = w.length || 1;
    const cpu = (f: (x: ServerWindow) => number) => num((w.reduce((a, x) => a + f(x), 0) * 1000) / n, 2);
    const stmts = w.length ? num(w.reduce((a, x) => a + x.statements.reduce((b, y) => b + y.count, 0), 0) / n, 1) : '';
    lines.push(`  ${SOLO_LABEL[step].padEnd(42)}${col(num(d.p50, 2))}${col(num(d.p90, 2))}${col(num(d.max, 2))}${col(w.length ? cpu((x) => x.cpu.serverThread) : '', 8)}${col(w.length ? cpu((x) => x.cpu.otherThreads) : '', 8)}${col(w.length ? cpu((x) => x.cpu.postgresBackends) : '', 8)}${col(stmts, 8)}`);
  }
  lines.push('  (server / other / PG: CPU ms per step of the server\'s event-loop thread, its other threads, PostgreSQL backends; "request" includes its notification)');
  const p50 = (step: SoloStep) => distribution(solo.ms[step]).p50;
  lines.push(`  the poll right after an approval takes ${num(p50('poll') / p50('client_credentials'), 2)}× a client_credentials grant (p50); the notification reaches the stream ${num(p50('notified') - p50('request'), 2)} ms after the response (p50 difference)`);
  for (const step of SOLO_STEPS) {
    const w = solo.windows[step];
    if (!w?.length) continue;
    const byLabel = new Map<string, number>();
    for (const x of w) for (const st of x.statements) byLabel.set(st.statement, (byLabel.get(st.statement) ?? 0) + st.count);
    const list = [...byLabel].sort((a, b) => b[1] - a[1]).map(([label, count]) => `${label}${count / w.length === 1 ? '' : ` ×${num(count / w.length, 1)}`}`);
    lines.push(`  statements, ${step}: ${list.join(', ')}`);
  }
  return lines;
}
