/**
 * `npm run bench -- identity`, the server side: a real Sekisho (PGlite or PostgreSQL, set up by
 * bench/sekisho-server-process.ts) in its own process, with the benchmark client, people with
 * passwords (hashed with the production scrypt parameters by the accounts service) and people with
 * passkeys (registered through the real sign-up pages: e-mail code, then a WebAuthn registration
 * from the software authenticator).
 * It hands the plan to the load generator (bench/identity/run.ts, another process) and, on
 * request, reports what happened inside the server during a measured window: event-loop use and
 * delay, how long a trivial job waited for libuv's thread pool, where the CPU went, statements.
 */
import { pbkdf2 } from 'node:crypto';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Sekisho } from '../../packages/server/src/app.ts';
import { listMailbox } from '../../packages/server/src/mail/mailer.ts';
import { createHttp } from '../load/http.ts';
import { processCpuSeconds } from '../cpu-meter.ts';
import { installQueryCounter, queryDelta, snapshotQueries } from '../query-counter.ts';
import { distribution, type Distribution } from '../load/measure.ts';
import { answerLoadGenerator, createPasswordPeople, processWindow, readProcessCounters, startBenchSekisho, type PasswordPerson, type ProcessCounters, type SekishoPlan } from '../sekisho-server-process.ts';
import type { WindowReply } from '../server-child.ts';
import { createPasskey, type CreationOptions, type StoredPasskey } from '../../packages/server/test/support/soft-authenticator.ts';
import { browse, CookieJar, csrfOf, expectStatus, locationOf, UnexpectedPage, webauthnOptionsOf } from './browser.ts';

export interface PasskeyPerson { email: string; passkey: StoredPasskey; /** The browser's long-lived cookies after sign-up (its device id). */ cookies: Array<[string, { value: string; path: string }]> }

export interface IdentityPlan extends SekishoPlan {
  passwordPeople: PasswordPerson[];
  passkeyPeople: PasskeyPerson[];
  /** As stored for the benchmark's accounts: `scrypt$N$r$p`. */
  passwordHashParams: string;
  threadpoolSize: number;
  /** WHAT-IF (BENCH_IDENTITY_HASH_LIMIT): identity.passwordHashConcurrency set; undefined = as shipped. */
  hashLimit: number | undefined;
}

/** What the server saw between `window-start` and `window-end`. */
export interface ServerWindow {
  seconds: number;
  /** Share of wall time the server's event loop was busy. */
  loopBusy: number;
  /** Event-loop delay (how late a timer on the server's loop fired), ms. */
  loopDelayMs: { p50: number; p99: number; max: number };
  /** Time a trivial job (pbkdf2, 1 iteration) submitted every 20 ms waited for and ran on libuv's thread pool, ms. */
  threadpoolProbeMs: Distribution;
  /** CPU seconds in the window. */
  cpu: { serverThread: number; otherThreads: number; postgresBackends: number; machine: number };
  statements: Array<{ statement: string; count: number }>;
}

/** The identity benchmark asks only for measured windows (bench/server-child.ts). */
type Reply = WindowReply<IdentityPlan, ServerWindow>;

const options = JSON.parse(process.env.BENCH_IDENTITY_OPTIONS ?? '{}') as { passwordPeople: number; passkeyPeople: number };
const databaseUrl = process.env.BENCH_TARGET_DATABASE_URL || undefined;

installQueryCounter();
const hashLimit = Number(process.env.BENCH_IDENTITY_HASH_LIMIT) > 0 ? Math.floor(Number(process.env.BENCH_IDENTITY_HASH_LIMIT)) : undefined;
const sekisho = await startBenchSekisho({
  label: 'identity', databaseUrl, grantTypes: ['client_credentials', 'authorization_code'],
  // WHAT-IF: another number of password hashes at once than the shipped default (cores − 1).
  config: hashLimit ? { identity: { passwordHashConcurrency: hashLimit } } : {},
});
const { app, backends } = sekisho;
const { issuer, origin } = sekisho.plan;

// People with passwords: the accounts service hashes with its own (production) parameters.
const passwordPeople = await createPasswordPeople(app, 'bench-password', options.passwordPeople);
const stored = await app.storage.db.selectFrom('accounts').select('password_hash').where('username', '=', passwordPeople[0]?.username ?? '').executeTakeFirst();
const passwordHashParams = (stored?.password_hash ?? 'none').split('$').slice(0, 4).join('$');

// People with passkeys, one at a time through the sign-up pages (a few requests each).
const http = createHttp(origin, issuer);
const passkeyPeople: PasskeyPerson[] = [];
for (let i = 0; i < options.passkeyPeople; i++) passkeyPeople.push(await signUpWithPasskey(app, `bench-passkey-${i + 1}@example.jp`));
await http.close();

process.send!({
  type: 'ready',
  plan: {
    ...sekisho.plan,
    passwordPeople, passkeyPeople, passwordHashParams, threadpoolSize: Number(process.env.UV_THREADPOOL_SIZE) || 4, hashLimit,
  },
} satisfies Reply);

// Measured windows, on request of the load generator.
const loopDelay = monitorEventLoopDelay({ resolution: 2 });
let start: { counters: ProcessCounters; postgres: Promise<number>; pids: Promise<number[]>; queries: Map<string, number> } | undefined;
let probe: { timer: NodeJS.Timeout; waits: number[] } | undefined;

answerLoadGenerator<never, Reply>(sekisho, async (m) => {
  if (m.type === 'window-start') {
    loopDelay.reset();
    loopDelay.enable();
    probe = startThreadpoolProbe();
    const pids = backends?.pids() ?? Promise.resolve([]);
    start = { counters: readProcessCounters(), pids, postgres: pids.then(processCpuSeconds), queries: snapshotQueries() };
    return { type: 'window-started' };
  }
  const a = start!;
  const end = readProcessCounters();
  // Backends that closed during the window drop out of the sum; never report less than nothing.
  const postgres = Math.max(0, processCpuSeconds(await a.pids) - (await a.postgres));
  loopDelay.disable();
  clearInterval(probe!.timer);
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  const { seconds, loopBusy, cpu } = processWindow(a.counters, end);
  return {
    type: 'window',
    window: {
      seconds,
      loopBusy,
      loopDelayMs: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) },
      threadpoolProbeMs: distribution(probe!.waits),
      cpu: { serverThread: cpu.serverThread, otherThreads: cpu.otherThreads, postgresBackends: postgres, machine: cpu.machine },
      statements: queryDelta(a.queries, snapshotQueries()),
    },
  };
});

/**
 * A trivial job on libuv's thread pool every 20 ms (pbkdf2 with one iteration: microseconds of
 * work). Its completion time is, in effect, how long it queued behind other pool work: scrypt
 * hashes, and the WebCrypto signature checks of every token request.
 */
function startThreadpoolProbe() {
  const waits: number[] = [];
  const timer = setInterval(() => {
    const t0 = performance.now();
    pbkdf2('probe', 'salt', 1, 32, 'sha256', () => waits.push(performance.now() - t0));
  }, 20);
  return { timer, waits };
}

/** Sign-up as a person does it: e-mail, the code from the mail, then a passkey from the authenticator. */
async function signUpWithPasskey(sekisho: Sekisho, email: string): Promise<PasskeyPerson> {
  const tab = browse(http, issuer, new CookieJar());
  const form = await tab.get('/signup');
  expectStatus('sign-up page', form, 200);
  const csrf = csrfOf('sign-up page', form.body);
  const sent = await tab.post('/signup', { csrf, email, name: 'Hanako Yamada' });
  expectStatus('sign-up e-mail', sent, 303);
  const [mail] = await listMailbox(sekisho.storage.db, { to: email, limit: 1 });
  const code = /\b(\d{6})\b/.exec(mail?.text ?? '')?.[1];
  if (!code) throw new UnexpectedPage(`sign-up: no code in the mail to ${email}`);
  const verified = await tab.post('/signup/verify', { csrf, code });
  expectStatus('sign-up code', verified, 303);
  if (locationOf(verified) !== '/signup/passkey') throw new UnexpectedPage(`sign-up code: redirected to ${locationOf(verified)}`);
  const page = await tab.get('/signup/passkey');
  expectStatus('sign-up passkey page', page, 200);
  const { response, passkey } = createPasskey(webauthnOptionsOf<CreationOptions>('sign-up passkey page', page.body), new URL(issuer).origin);
  const done = await tab.post('/signup/passkey', { csrf: csrfOf('sign-up passkey page', page.body), credential: JSON.stringify(response) });
  expectStatus('sign-up passkey', done, 200);
  const row = await sekisho.storage.db.selectFrom('passkeys').select('id').where('id', '=', passkey.credentialId).executeTakeFirst();
  if (!row) throw new UnexpectedPage(`sign-up: the passkey of ${email} was not stored`);
  // The browser keeps its device cookie (so later sign-ins are from a known device), not the sign-up's.
  return { email, passkey, cookies: [...new CookieJar(tab.jar, (name) => name.startsWith('sekisho.device')).cookies] };
}
