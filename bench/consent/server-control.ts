/**
 * The load generator's handle on the consent benchmark's server process (bench/consent/server-process.ts):
 * start it, ask it for measured windows, seeding and EXPLAINs, close it.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromServer, ToServer } from './server-process.ts';

export function startConsentServer(options: { people: number; databaseUrl: string | undefined; cpuProfileDir: string | undefined }) {
  const child = fork(fileURLToPath(new URL('./server-process.ts', import.meta.url)), [], {
    execArgv: [...process.execArgv, ...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [])],
    env: {
      ...process.env,
      BENCH_CONSENT_OPTIONS: JSON.stringify({ people: options.people }),
      ...(options.databaseUrl ? { BENCH_TARGET_DATABASE_URL: options.databaseUrl } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiters: Array<(m: FromServer) => void> = [];
  let failure: Error | undefined;
  const exited = new Promise<void>((resolve) => child.on('exit', (code) => {
    if (code) failure = new Error(`consent server process exited with code ${code}`);
    resolve();
  }));
  child.on('message', (m: FromServer) => waiters.shift()?.(m));
  const next = <T extends FromServer['type']>(type: T) => new Promise<Extract<FromServer, { type: T }>>((resolve, reject) => {
    waiters.push((m) => (m.type === type ? resolve(m as Extract<FromServer, { type: T }>) : reject(new Error(`expected ${type}, got ${m.type}`))));
    void exited.then(() => reject(failure ?? new Error(`consent server process ended before ${type}`)));
  });
  const ask = <T extends FromServer['type']>(m: ToServer, type: T) => {
    const reply = next(type);
    child.send(m);
    return reply;
  };

  return {
    ready: next('ready').then((m) => m.plan),
    ask,
    /** Runs `body` as a measured window: the server samples before and after it. */
    async window<T>(body: () => Promise<T>) {
      await ask({ type: 'window-start' }, 'window-started');
      const cpu0 = process.cpuUsage();
      const result = await body();
      const cpu = process.cpuUsage(cpu0);
      const { window: server } = await ask({ type: 'window-end' }, 'window');
      return { result, server, generatorCpuSeconds: (cpu.user + cpu.system) / 1e6 };
    },
    async close() {
      if (child.exitCode === null && child.connected) await ask({ type: 'close' }, 'closed').catch(() => undefined);
      await exited;
      if (failure) throw failure;
    },
  };
}
export type ConsentServer = ReturnType<typeof startConsentServer>;
