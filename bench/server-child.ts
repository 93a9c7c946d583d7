/**
 * The load generator's handle on a benchmark's Sekisho server process (bench/identity/ and
 * bench/consent/ each run the server in a child process of its own, so the client's crypto does not
 * share the server's libuv thread pool). One home for forking it and for the typed ask/reply over
 * IPC, so both benchmarks measure a window the same way; bench/sekisho-server-process.ts is the
 * other end.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** What every benchmark server process is asked, besides its own requests. */
export type WindowRequest = { type: 'window-start' } | { type: 'window-end' } | { type: 'close' };
/** And what it replies: its plan once ready, then what it saw in each measured window. */
export type WindowReply<Plan, Window> = { type: 'ready'; plan: Plan } | { type: 'window-started' } | { type: 'window'; window: Window } | { type: 'closed' };

/**
 * Forks `module` (a server process speaking WindowRequest/WindowReply, plus its own `ToServer`
 * and `FromServer` messages) and returns the handle: `ready` (its plan), `ask`, `window`, `close`.
 * `label` names it in errors ("identity server process exited with code 1").
 */
export function startServerChild<Plan, Window, ToServer extends { type: string } = never, FromServer extends { type: string } = never>(options: {
  label: string;
  module: URL;
  env: NodeJS.ProcessEnv;
  execArgv?: string[];
}) {
  type Reply = WindowReply<Plan, Window> | FromServer;
  const child = fork(fileURLToPath(options.module), [], {
    ...(options.execArgv ? { execArgv: options.execArgv } : {}),
    env: options.env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiters: Array<(m: Reply) => void> = [];
  let failure: Error | undefined;
  const exited = new Promise<void>((resolve) => child.on('exit', (code) => {
    if (code) failure = new Error(`${options.label} server process exited with code ${code}`);
    resolve();
  }));
  child.on('message', (m: Reply) => waiters.shift()?.(m));
  const next = (type: string) => new Promise<Reply>((resolve, reject) => {
    waiters.push((m) => (m.type === type ? resolve(m) : reject(new Error(`expected ${type}, got ${m.type}`))));
    void exited.then(() => reject(failure ?? new Error(`${options.label} server process ended before ${type}`)));
  });
  /** Sends `m` and waits for the reply of type `type` (the next message must be that reply). */
  const ask = <T extends WindowReply<Plan, Window>['type'] | FromServer['type']>(m: WindowRequest | ToServer, type: T) => {
    const reply = next(type);
    child.send(m);
    return reply as Promise<Extract<Reply, { type: T }>>;
  };

  return {
    ready: next('ready').then((m) => (m as { plan: Plan }).plan),
    ask,
    /**
     * Runs `body` as a measured window: the server samples before and after it (at `startAt`,
     * a performance.now() time, when given), and this process's CPU time is taken around it.
     */
    async window<T>(body: () => Promise<T>, startAt?: number) {
      if (startAt !== undefined) await sleep(Math.max(0, startAt - performance.now()));
      await ask({ type: 'window-start' }, 'window-started');
      const from = performance.now();
      const cpu0 = process.cpuUsage();
      const result = await body();
      const to = performance.now();
      const cpu = process.cpuUsage(cpu0);
      const { window: server } = (await ask({ type: 'window-end' }, 'window')) as { window: Window };
      return { result, server, from, to, generatorCpuSeconds: (cpu.user + cpu.system) / 1e6 };
    },
    async close() {
      if (child.exitCode === null && child.connected) await ask({ type: 'close' }, 'closed').catch(() => undefined);
      await exited;
      if (failure) throw failure;
    },
  };
}
