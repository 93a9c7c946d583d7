import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage, type Storage } from '../../src/storage/db.ts';
import { migrate } from '../../src/storage/migrate.ts';
import { createTempDatabase, POSTGRES_SKIP } from './databases.ts';

export interface EngineCase {
  name: 'pglite' | 'postgres';
  /** false, or the reason the engine's tests are skipped. */
  skip: false | string;
  open(): Promise<Storage & { dispose(): Promise<void> }>;
}

/** Every storage engine, so one contract suite runs against each (a skip says why). */
export const ENGINES: EngineCase[] = [
  {
    name: 'pglite',
    skip: false,
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'sekisho-pglite-'));
      const storage = await openStorage({ dataDir: dir });
      await migrate(storage.db);
      return { ...storage, async dispose() { await storage.close(); rmSync(dir, { recursive: true, force: true }); } };
    },
  },
  {
    name: 'postgres',
    skip: POSTGRES_SKIP,
    async open() {
      const database = await createTempDatabase();
      const storage = await openStorage({ databaseUrl: database.url, dataDir: '', poolSize: 20 });
      await migrate(storage.db);
      return { ...storage, async dispose() { await storage.close(); await database.drop(); } };
    },
  },
];
