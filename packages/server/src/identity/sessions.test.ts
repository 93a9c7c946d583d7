import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ENGINES } from '../../test/support/engines.ts';
import type { Storage } from '../storage/db.ts';
import { createSessions } from './sessions.ts';
import { createLoginHistory } from './login-history.ts';

for (const engine of ENGINES) {
  describe(`sessions and sign-in history on ${engine.name}`, { skip: engine.skip }, () => {
    let storage: Storage & { dispose(): Promise<void> };
    let sessions: ReturnType<typeof createSessions>;
    let history: ReturnType<typeof createLoginHistory>;
    before(async () => {
      storage = await engine.open();
      sessions = createSessions(storage.db);
      history = createLoginHistory(storage.db);
    });
    after(() => storage?.dispose());

    const newAccount = async () => {
      const id = randomUUID();
      await storage.db.insertInto('accounts').values({ id, username: `u-${id}`, claims: '{}' }).execute();
      return id;
    };
    /** A Session record as oidc-provider's adapter stores it. */
    const newSession = async (accountId: string, loginTs: number, expiresInSeconds = 3600) => {
      const uid = randomUUID();
      await storage.db.insertInto('oidc_models').values({
        model: 'Session', id: randomUUID(), uid, payload: JSON.stringify({ accountId, uid, loginTs, acr: 'urn:sekisho:aal3' }),
        expires_at: new Date(Date.now() + expiresInSeconds * 1000),
      }).execute();
      return uid;
    };

    it('lists a person\'s live sessions newest first, with what was noted when each began', async () => {
      const me = await newAccount();
      const other = await newAccount();
      const older = await newSession(me, 1_700_000_000);
      const newer = await newSession(me, 1_700_000_100);
      await newSession(me, 1_700_000_200, -10); // expired
      await newSession(other, 1_700_000_300);
      await sessions.noteStarted({ sessionUid: newer, accountId: me, ip: '192.0.2.1', userAgent: 'Chrome', method: 'passkey', acr: 'urn:sekisho:aal3' });
      const list = await sessions.list(me);
      assert.deepEqual(list.map((s) => s.uid), [newer, older]);
      assert.equal(list[0]!.method, 'passkey');
      assert.equal(list[0]!.ip, '192.0.2.1');
      assert.equal(list[1]!.method, null, 'a session without details is still listed');
      assert.equal(list[0]!.signedInAt?.getTime(), 1_700_000_100_000);
    });

    it('ends one session of the person, never someone else\'s', async () => {
      const me = await newAccount();
      const other = await newAccount();
      const mine = await newSession(me, 1);
      const theirs = await newSession(other, 1);
      assert.equal(await sessions.end(me, theirs), false);
      assert.equal((await sessions.list(other)).length, 1);
      assert.equal(await sessions.end(me, mine), true);
      assert.equal((await sessions.list(me)).length, 0);
    });

    it('ends every session but the one kept', async () => {
      const me = await newAccount();
      const keep = await newSession(me, 1);
      await newSession(me, 2);
      await newSession(me, 3);
      assert.equal(await sessions.endAll(me, keep), 2);
      assert.deepEqual((await sessions.list(me)).map((s) => s.uid), [keep]);
      assert.equal(await sessions.endAll(me), 1);
      assert.equal((await sessions.list(me)).length, 0);
    });

    it('history: newest first; a device is known only after a successful sign-in from it', async () => {
      const me = await newAccount();
      assert.equal(await history.hasSignedInBefore(me), false);
      await history.record({ accountId: me, ip: '192.0.2.1', deviceId: 'dev-a', method: 'password', result: 'failure' });
      assert.equal(await history.isKnownDevice(me, 'dev-a'), false, 'a failure does not make a device known');
      await history.record({ accountId: me, ip: '192.0.2.1', deviceId: 'dev-a', method: 'passkey', result: 'success', acr: 'urn:sekisho:aal3' });
      assert.equal(await history.isKnownDevice(me, 'dev-a'), true);
      assert.equal(await history.isKnownDevice(me, 'dev-b'), false);
      assert.equal(await history.isKnownDevice(me, undefined), false);
      assert.equal(await history.hasSignedInBefore(me), true);
      const list = await history.list(me);
      assert.deepEqual(list.map((r) => r.result), ['success', 'failure']);
      assert.equal(list[0]!.acr, 'urn:sekisho:aal3');
    });
  });
}
