import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { ENGINES } from '../../test/support/engines.ts';
import { canonicalJson } from './canonical-json.ts';
import { createConsentLedger, DecisionAlreadyRecordedError, GENESIS, shownHash, type ConsentLedger, type ConsentRecordInput } from './ledger.ts';

const decision = (subject: string, extra: Partial<ConsentRecordInput> = {}): ConsentRecordInput => ({
  subject, clientId: 'fintech-app', grantId: 'g-1', action: 'create', decision: 'approved', channel: 'web',
  shown: { client: 'Fintech App', scopes: ['accounts'], notice: 'fintech@3' },
  requested: { scopes: ['openid', 'accounts'], claims: [], resources: {}, authorizationDetails: [{ type: 'account_information', actions: ['read'] }] },
  granted: { scopes: ['openid', 'accounts'], claims: [], resources: {}, authorizationDetails: [{ type: 'account_information', actions: ['read'], accounts: ['0123456'] }] },
  context: { ip: '192.0.2.1', userAgent: 'Mozilla/5.0', acr: 'urn:sekisho:aal3' },
  ...extra,
});

it('canonical JSON sorts members at every depth and drops undefined', () => {
  assert.equal(canonicalJson({ b: 1, a: [{ d: true, c: 'x' }], u: undefined, z: null }), '{"a":[{"c":"x","d":true}],"b":1,"z":null}');
  assert.equal(canonicalJson('日本'), '"日本"');
  assert.throws(() => canonicalJson({ t: new Date() }));
  assert.equal(shownHash({ b: 1, a: 2 }), shownHash({ a: 2, b: 1 }), 'the same content hashes the same whatever the key order');
});

for (const engine of ENGINES) {
  describe(`consent ledger on ${engine.name}`, { skip: engine.skip }, () => {
    let storage: Awaited<ReturnType<typeof engine.open>>;
    let ledger: ConsentLedger;
    before(async () => {
      storage = await engine.open();
      ledger = createConsentLedger(storage.db, { retentionDays: 1096 });
    });
    after(() => storage?.dispose());

    it('chains each record to the one before, from the genesis; reads back what was written', async () => {
      const first = await ledger.append(decision('alice'));
      const second = await ledger.append(decision('alice', { action: 'revoke', decision: 'revoked', granted: { scopes: [], claims: [], resources: {}, authorizationDetails: [] } }));
      assert.equal(first.prevHash, GENESIS);
      assert.equal(second.prevHash, first.hash);
      assert.equal(first.shownHash, shownHash({ client: 'Fintech App', scopes: ['accounts'], notice: 'fintech@3' }));
      const read = await ledger.find(first.id);
      assert.deepEqual(read, first);
      assert.equal(Math.round((first.retainUntil.getTime() - first.recordedAt.getTime()) / 86_400_000), 1096);
      assert.deepEqual((await ledger.forSubject('alice')).map((r) => r.id), [second.id, first.id], 'newest first');
      assert.deepEqual(await ledger.verify(), { ok: true, records: 2, head: second.hash });
    });

    it('refuses UPDATE, DELETE and TRUNCATE in the database itself, and a second record linking to the same one', async () => {
      await assert.rejects(sql`UPDATE consent_records SET decision = 'denied'`.execute(storage.db), /append-only/);
      await assert.rejects(sql`DELETE FROM consent_records`.execute(storage.db), /append-only/);
      await assert.rejects(sql`TRUNCATE consent_records`.execute(storage.db), /append-only/);
      const [head] = await ledger.forSubject('alice', 1);
      await assert.rejects(sql`INSERT INTO consent_records (id, recorded_at, subject, client_id, action, decision, channel, requested, granted, context, retain_until, prev_hash, hash)
        SELECT gen_random_uuid()::text, now(), 'mallory', client_id, action, decision, channel, requested, granted, context, retain_until, prev_hash, 'f' || hash
        FROM consent_records WHERE id = ${head!.id}`.execute(storage.db), /prev_hash/, 'a fork is refused, not only detected');
    });

    it('one decision per consent screen: a second record for the same interaction is refused', async () => {
      const screen = { ip: '192.0.2.9', interaction: `uid-${Date.now()}` };
      const results = await Promise.allSettled([
        ledger.append(decision('dave', { context: screen })),
        ledger.append(decision('dave', { context: screen, decision: 'denied' })),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.ok(rejected.reason instanceof DecisionAlreadyRecordedError);
    });

    it('twenty decisions at once still make one unbroken chain', async () => {
      await Promise.all(Array.from({ length: 20 }, (_, i) => ledger.append(decision(`person-${i}`))));
      const check = await ledger.verify(7);
      assert.equal(check.ok, true, JSON.stringify(check));
      assert.equal(check.records, 23);
    });

    it('an edited record is found by verification (hash), and so is a removed one (link)', async () => {
      const target = (await ledger.forSubject('person-3'))[0]!;
      // Someone with the database owner's rights goes around the trigger and widens a grant.
      await sql`ALTER TABLE consent_records DISABLE TRIGGER consent_records_append_only`.execute(storage.db);
      try {
        await sql`UPDATE consent_records SET granted = jsonb_set(granted, '{scopes}', '["openid","accounts","transfers"]') WHERE id = ${target.id}`.execute(storage.db);
        const edited = await ledger.verify();
        assert.deepEqual(edited.ok ? edited : { ok: edited.ok, seq: edited.seq, reason: edited.reason }, { ok: false, seq: target.seq, reason: 'hash' });
        // Put it back exactly: the chain verifies again (the check is about content, nothing else).
        await sql`UPDATE consent_records SET granted = ${JSON.stringify(target.granted)}::jsonb WHERE id = ${target.id}`.execute(storage.db);
        assert.equal((await ledger.verify()).ok, true);
        await sql`DELETE FROM consent_records WHERE id = ${target.id}`.execute(storage.db);
        const removed = await ledger.verify();
        assert.equal(removed.ok, false);
        assert.equal(!removed.ok && removed.reason, 'link');
        assert.ok(!removed.ok && removed.seq > target.seq, 'reported at the record after the gap');
      } finally {
        await sql`ALTER TABLE consent_records ENABLE TRIGGER consent_records_append_only`.execute(storage.db);
      }
    });
  });
}
