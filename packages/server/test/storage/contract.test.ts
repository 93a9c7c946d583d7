/**
 * The storage contract: one suite, run against every engine (PGlite and PostgreSQL). Includes the
 * races the architecture promises: many concurrent redemptions of one single-use record, exactly
 * one winner.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { ENGINES } from '../support/engines.ts';
import type { Storage } from '../../src/storage/db.ts';
import { migrate } from '../../src/storage/migrate.ts';
import { createOidcAdapterFactory, createReplayStore, purgeExpired, deleteGrantRecords } from '../../src/storage/oidc-adapter.ts';
import { createClientsRepository } from '../../src/storage/clients-repo.ts';
import { createSigningKeyStore } from '../../src/keys/signing-keys.ts';
import { getOrCreateSecret } from '../../src/keys/server-secrets.ts';
import { createKek, generateKekValue } from '../../src/keys/kek.ts';
import { createAuditLog } from '../../src/audit/audit-log.ts';
import { createLogger } from '../../src/shared/logger.ts';

class Conflict extends Error {}
const RACERS = 32;

for (const engine of ENGINES) {
  describe(`storage contract on ${engine.name}`, { skip: engine.skip }, () => {
    let storage: Storage & { dispose(): Promise<void> };
    before(async () => { storage = await engine.open(); });
    after(() => storage?.dispose());

    const adapter = (model: string) => createOidcAdapterFactory(storage.db, {
      async onConsumeConflict(m, id) { throw new Conflict(`${m} ${id} already consumed`); },
    })(model);

    it('migrations are idempotent', async () => {
      assert.deepEqual(await migrate(storage.db), []);
    });

    it('upsert / find / findByUid / findByUserCode / destroy', async () => {
      const a = adapter('Session');
      await a.upsert('s1', { uid: 'u1', accountId: 'acc', kind: 'Session' }, 60);
      assert.equal((await a.find('s1'))?.accountId, 'acc');
      assert.equal((await a.findByUid('u1'))?.accountId, 'acc');
      await a.upsert('s1', { uid: 'u1', accountId: 'acc2', kind: 'Session' }, 60);
      assert.equal((await a.find('s1'))?.accountId, 'acc2', 'upsert replaces');
      await a.destroy('s1');
      assert.equal(await a.find('s1'), undefined);
      const d = adapter('DeviceCode');
      await d.upsert('d1', { userCode: 'ABCD-EFGH' }, 60);
      assert.ok(await d.findByUserCode('ABCD-EFGH'));
    });

    it('models do not see each other\'s records', async () => {
      await adapter('AccessToken').upsert('same-id', { kind: 'AccessToken' }, 60);
      assert.equal(await adapter('RefreshToken').find('same-id'), undefined);
    });

    it('expired records are not returned and are purged', async () => {
      const a = adapter('AccessToken');
      await a.upsert('old', { kind: 'AccessToken' }, 60);
      await storage.db.updateTable('oidc_models').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', 'old').execute();
      assert.equal(await a.find('old'), undefined);
      assert.ok(await purgeExpired(storage.db) >= 1);
      const left = await storage.db.selectFrom('oidc_models').select('id').where('id', '=', 'old').executeTakeFirst();
      assert.equal(left, undefined);
    });

    it('revokeByGrantId removes only that model\'s records of the grant; deleteGrantRecords removes all', async () => {
      await adapter('AccessToken').upsert('at-g', { grantId: 'g1' }, 60);
      await adapter('RefreshToken').upsert('rt-g', { grantId: 'g1' }, 60);
      await adapter('Grant').upsert('g1', { accountId: 'a', clientId: 'c' }, 60);
      await adapter('AccessToken').revokeByGrantId('g1');
      assert.equal(await adapter('AccessToken').find('at-g'), undefined);
      assert.ok(await adapter('RefreshToken').find('rt-g'));
      await deleteGrantRecords(storage.db, 'g1');
      assert.equal(await adapter('RefreshToken').find('rt-g'), undefined);
      assert.equal(await adapter('Grant').find('g1'), undefined, 'the grant itself is gone');
    });

    it('consume marks the record consumed (seen on find)', async () => {
      const a = adapter('AuthorizationCode');
      await a.upsert('c-once', { grantId: 'g2' }, 60);
      await a.consume('c-once');
      assert.ok((await a.find('c-once'))?.consumed);
      await assert.rejects(a.consume('c-once'), Conflict);
    });

    for (const model of ['AuthorizationCode', 'RefreshToken', 'PushedAuthorizationRequest', 'BackchannelAuthenticationRequest']) {
      it(`race: ${RACERS} concurrent consumptions of one ${model}, exactly one wins`, async () => {
        const a = adapter(model);
        const id = `race-${model}`;
        await a.upsert(id, { grantId: `g-${model}` }, 60);
        const results = await Promise.allSettled(Array.from({ length: RACERS }, () => a.consume(id)));
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        assert.ok(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof Conflict));
      });
    }

    const inAMinute = () => Math.floor(Date.now() / 1000) + 60;

    it(`race: ${RACERS} concurrent first uses of one jti in one process (coalesced), exactly one is new`, async () => {
      const store = createReplayStore(storage.db);
      const results = await Promise.all(Array.from({ length: RACERS }, () => store.insertIfNew('jti-race-1', inAMinute())));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await store.insertIfNew('jti-race-1', inAMinute()), false, 'a replay later is refused too');
    });

    it(`race: ${RACERS} concurrent first uses of one jti from separate stores (as separate processes), exactly one is new`, async () => {
      const results = await Promise.all(Array.from({ length: RACERS }, () => createReplayStore(storage.db).insertIfNew('jti-race-2', inAMinute())));
      assert.equal(results.filter(Boolean).length, 1);
    });

    it('a batch mixing new and replayed jtis answers each caller for its own jti', async () => {
      const store = createReplayStore(storage.db);
      await store.insertIfNew('seen-before', inAMinute());
      const [a1, seen, b, a2] = await Promise.all(['new-a', 'seen-before', 'new-b', 'new-a'].map((id) => store.insertIfNew(id, inAMinute())));
      assert.equal(seen, false);
      assert.equal(b, true);
      assert.equal(Number(a1) + Number(a2), 1, 'exactly one of the two uses of new-a is new (which one depends on timing)');
    });

    it('a jti whose replay window has passed can be recorded again, and is purged', async () => {
      const store = createReplayStore(storage.db);
      assert.equal(await store.insertIfNew('jti-old', inAMinute()), true);
      await storage.db.updateTable('replay_jtis').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', 'jti-old').execute();
      assert.equal(await store.insertIfNew('jti-old', inAMinute()), true);
      await storage.db.updateTable('replay_jtis').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', 'jti-old').execute();
      await purgeExpired(storage.db);
      assert.equal(await storage.db.selectFrom('replay_jtis').select('id').where('id', '=', 'jti-old').executeTakeFirst(), undefined);
    });

    it('concurrent saves of one model are coalesced and each caller reads its own write', async () => {
      const a = adapter('AccessToken');
      await Promise.all(Array.from({ length: 20 }, (_, i) => a.upsert(`batch-${i}`, { n: i }, 60)));
      for (let i = 0; i < 20; i++) assert.equal((await a.find(`batch-${i}`))?.n, i);
      await Promise.all([a.upsert('same', { n: 1 }, 60), a.upsert('same', { n: 2 }, 60)]);
      assert.equal((await a.find('same'))?.n, 2, 'the later save wins');
    });

    it('clients: insert refuses an existing client_id, remove deletes its protocol records', async () => {
      const clients = createClientsRepository(storage.db);
      assert.equal(await clients.insert({ client_id: 'c1', client_name: 'one' }), true);
      assert.equal(await clients.insert({ client_id: 'c1', client_name: 'two' }), false);
      assert.equal((await clients.get('c1'))?.client_name, 'one');
      await adapter('AccessToken').upsert('at-c1', { clientId: 'c1' }, 60);
      assert.equal(await clients.remove('c1'), true);
      assert.equal(await adapter('AccessToken').find('at-c1'), undefined);
      assert.equal(await clients.remove('c1'), false);
    });

    it('signing keys: generated encrypted, rotated with overlap, purged after it', async () => {
      const kek = createKek(generateKekValue());
      const keys = createSigningKeyStore(storage.db, kek);
      const created = await keys.ensureKeys();
      assert.equal(created.length, 3);
      assert.deepEqual(await keys.ensureKeys(), [], 'second start creates nothing');
      const row = await storage.db.selectFrom('signing_keys').select('private_jwk').executeTakeFirstOrThrow();
      assert.match(row.private_jwk, /^v1\./, 'private key stored encrypted');
      assert.doesNotMatch(row.private_jwk, /"d"/);
      const before = await keys.loadPrivateJwks();
      const { retired, created: fresh } = await keys.rotate(3600);
      assert.deepEqual(retired.sort(), created.sort());
      const afterRotation = await keys.loadPrivateJwks();
      assert.equal(afterRotation.length, 6, 'old keys still published during the overlap');
      assert.deepEqual(afterRotation.slice(0, 3).map((k) => k.kid).sort(), fresh.sort(), 'new keys come first, so they sign');
      assert.ok(before.every((k) => afterRotation.some((n) => n.kid === k.kid)));
      await storage.db.updateTable('signing_keys').set({ purge_after: new Date(Date.now() - 1000) }).where('retired_at', 'is not', null).execute();
      assert.deepEqual((await keys.purgeRetired()).sort(), created.sort());
      assert.equal((await keys.loadPrivateJwks()).length, 3);
      await assert.rejects(createSigningKeyStore(storage.db, createKek(generateKekValue())).loadPrivateJwks(), /wrong keyEncryptionKey/);
    });

    it('server secrets: created once, shared, concurrent first use agrees', async () => {
      const kek = createKek(generateKekValue());
      const values = await Promise.all(Array.from({ length: 8 }, () => getOrCreateSecret(storage.db, kek, 'shared-secret')));
      assert.equal(new Set(values).size, 1);
    });

    it('audit log is append-only', async () => {
      const audit = createAuditLog(storage.db, createLogger('error', {}, () => {}));
      await audit.record({ type: 'test.event', outcome: 'success', details: { password: 'hunter2', note: 'ok' } });
      const [event] = await audit.query({ type: 'test.event' });
      assert.equal(event?.details?.password, '[redacted]');
      assert.equal(event?.details?.note, 'ok');
      await assert.rejects(sql`UPDATE audit_events SET outcome = 'failure'`.execute(storage.db), /append-only/);
      await assert.rejects(sql`DELETE FROM audit_events`.execute(storage.db), /append-only/);
    });
  });
}
