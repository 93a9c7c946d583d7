import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { POSTGRES_SKIP, postgresUrl } from '../../../test/support/databases.ts';
import { createLogger } from '../../shared/logger.ts';
import { createPgFanout } from './pg-fanout.ts';

describe('PostgreSQL fan-out (LISTEN/NOTIFY)', { skip: POSTGRES_SKIP }, () => {
  it('re-listens after its connection is cut, and refuses payloads over the NOTIFY limit', async () => {
    const databaseUrl = postgresUrl()!;
    // A channel of its own, so the test finds (and cuts) only its own listener.
    const channel = `sekisho_t_${randomBytes(6).toString('hex')}`;
    const got: string[] = [];
    const lines: string[] = [];
    const fanout = createPgFanout({ databaseUrl, channel, logger: createLogger('warn', {}, (l) => lines.push(l)), onMessage: (p) => got.push(p), reconnectMs: 20 });
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    try {
      await fanout.ready();
      await fanout.publish('one');
      await until(() => got.includes('one'));
      const cut = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1', [`LISTEN ${channel}`]);
      assert.equal(cut.rowCount, 1);
      // Messages sent while it reconnects are lost (at most once); keep sending until one arrives.
      for (let i = 0; i < 100 && !got.includes('two'); i += 1) {
        await fanout.publish('two');
        await new Promise((r) => setTimeout(r, 30));
      }
      assert.ok(got.includes('two'), 'listening again after the cut');
      assert.ok(lines.some((l) => l.includes('reconnecting')));
      await assert.rejects(fanout.publish('x'.repeat(8000)), /too large/);
    } finally {
      await admin.end();
      await fanout.close();
    }
  });
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i += 1) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check());
}
