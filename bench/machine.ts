import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem } from 'node:os';

export interface Machine {
  cpuModel: string;
  cpus: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  oidcProvider: string;
  pglite: string;
  postgres: string | undefined;
}

/** Installed version, read from the workspace's node_modules (some packages do not export package.json). */
function packageVersion(name: string): string {
  const file = new URL(`../node_modules/${name}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

export function describeMachine(postgres: string | undefined): Machine {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpuModel;
  } catch { /* not Linux: keep os.cpus() */ }
  return {
    cpuModel,
    cpus: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    oidcProvider: packageVersion('oidc-provider'),
    pglite: packageVersion('@electric-sql/pglite'),
    postgres,
  };
}
