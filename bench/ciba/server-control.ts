/**
 * The load generator's handle on the CIBA benchmark's server process (bench/ciba/server-process.ts):
 * start it, ask it for measured windows, close it (bench/server-child.ts).
 */
import { startServerChild } from '../server-child.ts';
import type { CibaPlan, CibaServerOptions, ServerWindow } from './server-process.ts';

export function startCibaServer(options: CibaServerOptions & { databaseUrl: string | undefined; cpuProfileDir: string | undefined }) {
  const { databaseUrl, cpuProfileDir, ...serverOptions } = options;
  return startServerChild<CibaPlan, ServerWindow>({
    label: 'ciba',
    module: new URL('./server-process.ts', import.meta.url),
    execArgv: [...process.execArgv, ...(cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [])],
    env: {
      ...process.env,
      BENCH_CIBA_OPTIONS: JSON.stringify(serverOptions satisfies CibaServerOptions),
      ...(databaseUrl ? { BENCH_TARGET_DATABASE_URL: databaseUrl } : {}),
    },
  });
}
export type CibaServer = ReturnType<typeof startCibaServer>;
