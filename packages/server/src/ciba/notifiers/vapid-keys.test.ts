import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../../../test/support/engines.ts';
import { createKek, generateKekValue } from '../../keys/kek.ts';
import { loadVapidKeys } from './vapid-keys.ts';

for (const engine of ENGINES) {
  describe(`VAPID keys (${engine.name})`, { skip: engine.skip }, () => {
    it('generates one pair on first start, shared by concurrent starts and kept encrypted', async () => {
      const storage = await engine.open();
      try {
        const kek = createKek(generateKekValue());
        const pairs = await Promise.all([1, 2, 3, 4].map(() => loadVapidKeys(storage.db, kek)));
        for (const p of pairs) assert.deepEqual(p, pairs[0]);
        assert.equal(Buffer.from(pairs[0]!.publicKey, 'base64url').length, 65);
        assert.deepEqual(await loadVapidKeys(storage.db, kek), pairs[0], 'the same after a restart');
        const row = await storage.db.selectFrom('server_secrets').select('value').where('name', '=', 'vapid-keys').executeTakeFirstOrThrow();
        assert.ok(!row.value.includes(pairs[0]!.privateKey));
        await assert.rejects(loadVapidKeys(storage.db, createKek(generateKekValue())), /cannot decrypt/);
        const configured = { publicKey: 'pub', privateKey: 'priv' };
        assert.deepEqual(await loadVapidKeys(storage.db, kek, configured), configured);
        await assert.rejects(loadVapidKeys(storage.db, kek, { publicKey: 'pub' }), /together/);
      } finally { await storage.dispose(); }
    });
  });
}
