import { after, before } from 'node:test';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { generateKekValue } from '../../src/keys/kek.ts';
import { openStorage } from '../../src/storage/db.ts';
import { migrate } from '../../src/storage/migrate.ts';
import type { Database } from '../../src/storage/schema.ts';

/** The sekisho command, as an operator runs it. */
export const SEKISHO_MAIN = new URL('../../src/main.ts', import.meta.url).pathname;

export interface CliResult { code: number | null; stdout: string; stderr: string }

export interface CliFolder {
  /** The temporary folder: files a test writes for the command (client.json, notice.json) go here. */
  readonly dir: string;
  /** The data folder every command runs on: `data` inside `dir`. */
  readonly dataDir: string;
  /** The environment every command gets: the data folder, a key-encryption key, quiet logs. */
  readonly env: NodeJS.ProcessEnv;
  /** Starts `sekisho <args>` as its own process (for a long-running command such as `start`). */
  spawn(args: string[], extraEnv?: NodeJS.ProcessEnv): ChildProcessWithoutNullStreams;
  /** Runs `sekisho <args>` to its end with `input` on stdin. */
  run(args: string[], input?: string, extraEnv?: NodeJS.ProcessEnv): Promise<CliResult>;
  /**
   * Opens a data folder (this one by default) as the server or another command would leave it,
   * migrated, for `fn`; closed again before the next command runs.
   */
  withStorage<T>(fn: (db: Kysely<Database>) => Promise<T>, dataDir?: string): Promise<T>;
}

/**
 * A temporary folder for a CLI test file, made before its tests and removed after them: every
 * command is a separate process on the same data folder, as an operator uses them.
 */
export function useCliFolder(prefix: string): CliFolder {
  let dir: string | undefined;
  let env: NodeJS.ProcessEnv | undefined;
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the CLI folder is made in before(): use it from a test or a hook');
    return value;
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    env = {
      PATH: process.env.PATH, SEKISHO_DATA_DIR: join(dir, 'data'), SEKISHO_KEY_ENCRYPTION_KEY: generateKekValue(), SEKISHO_LOG_LEVEL: 'warn',
      // Every command is a new process that compiles the same modules: Node's compile cache (shared
      // by the CLI tests, keyed by the files' content) saves about a second per command.
      NODE_COMPILE_CACHE: join(tmpdir(), 'sekisho-test-compile-cache'),
    };
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  const folder: CliFolder = {
    get dir() { return ready(dir); },
    get dataDir() { return join(ready(dir), 'data'); },
    get env() { return ready(env); },
    spawn: (args, extraEnv = {}) => spawn(process.execPath, [SEKISHO_MAIN, ...args], { env: { ...folder.env, ...extraEnv } }),
    run(args, input = '', extraEnv = {}) {
      return new Promise((resolve) => {
        const child = folder.spawn(args, extraEnv);
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => { stdout += d; });
        child.stderr.on('data', (d: Buffer) => { stderr += d; });
        child.on('close', (code) => resolve({ code, stdout, stderr }));
        child.stdin.end(input);
      });
    },
    async withStorage(fn, dataDir = folder.dataDir) {
      const storage = await openStorage({ dataDir });
      try {
        await migrate(storage.db);
        return await fn(storage.db);
      } finally { await storage.close(); }
    },
  };
  return folder;
}
