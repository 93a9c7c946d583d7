import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ENGINES } from '../../test/support/engines.ts';
import type { Storage } from '../storage/db.ts';
import { createLinkedResources, LinkedResourceError } from './linked-resources.ts';

for (const engine of ENGINES) {
  describe(`linked resources on ${engine.name}`, { skip: engine.skip }, () => {
    let storage: Storage & { dispose(): Promise<void> };
    let linked: ReturnType<typeof createLinkedResources>;
    before(async () => {
      storage = await engine.open();
      linked = createLinkedResources(storage.db);
    });
    after(() => storage?.dispose());

    const newAccount = async () => {
      const id = randomUUID();
      await storage.db.insertInto('accounts').values({ id, username: `u-${id}`, claims: '{}' }).execute();
      return id;
    };
    const rejection = async (promise: Promise<unknown>) => {
      try { await promise; } catch (err) { assert.ok(err instanceof LinkedResourceError, String(err)); return err; }
      assert.fail('resolved');
    };

    it('adds and lists a person\'s resources by kind, oldest first; the id is random, not the ref', async () => {
      const me = await newAccount();
      const main = await linked.add({ accountId: me, kind: 'bank_account', ref: '0001-001-1234567', label: '普通 ****4567 (Main)' });
      const savings = await linked.add({ accountId: me, kind: 'bank_account', ref: '0001-001-7654321', label: '貯蓄 ****4321' });
      const patient = await linked.add({ accountId: me, kind: 'fhir_patient', ref: 'Patient/8f2c', label: '山田 花子' });
      assert.equal(main.accountId, me);
      assert.equal(main.ref, '0001-001-1234567');
      assert.ok(main.createdAt instanceof Date);
      assert.ok(!main.id.includes('1234567'));
      assert.notEqual(main.id, savings.id);
      assert.deepEqual((await linked.list(me, 'bank_account')).map((r) => r.id).sort(), [main.id, savings.id].sort());
      assert.deepEqual((await linked.list(me, 'fhir_patient')).map((r) => r.label), ['山田 花子']);
      assert.equal((await linked.list(me)).length, 3);
      assert.deepEqual(await linked.list(me, 'insurance_policy'), []);
      assert.deepEqual((await linked.forAccount(me)('fhir_patient')).map((r) => r.id), [patient.id]);
    });

    it('keeps each person\'s resources to themselves', async () => {
      const me = await newAccount();
      const other = await newAccount();
      const theirs = await linked.add({ accountId: other, kind: 'bank_account', ref: '0005-100-1111111', label: '普通 ****1111' });
      assert.deepEqual(await linked.list(me, 'bank_account'), []);
      assert.deepEqual(await linked.forAccount(me)('bank_account'), []);
      assert.equal(await linked.remove(me, theirs.id), false, 'not mine to remove');
      assert.equal((await linked.list(other, 'bank_account')).length, 1);
      // The same account number may be linked to two people (a joint account).
      await linked.add({ accountId: me, kind: 'bank_account', ref: '0005-100-1111111', label: '普通 ****1111' });
    });

    it('refuses a duplicate (same kind and ref) with a typed error; another kind with that ref is fine', async () => {
      const me = await newAccount();
      await linked.add({ accountId: me, kind: 'bank_account', ref: '0001-001-1234567', label: 'A' });
      const err = await rejection(linked.add({ accountId: me, kind: 'bank_account', ref: '0001-001-1234567', label: 'B' }));
      assert.equal(err.code, 'duplicate');
      await linked.add({ accountId: me, kind: 'fhir_patient', ref: '0001-001-1234567', label: 'C' });
      assert.deepEqual((await linked.list(me, 'bank_account')).map((r) => r.label), ['A']);
    });

    it('two concurrent links of the same resource: one wins, the other is a duplicate', async () => {
      const me = await newAccount();
      const results = await Promise.allSettled(Array.from({ length: 5 }, () =>
        linked.add({ accountId: me, kind: 'bank_account', ref: '0009-009-9999999', label: 'Race' })));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as LinkedResourceError).code, 'duplicate');
    });

    it('refuses invalid input naming the field, and an unknown account', async () => {
      const me = await newAccount();
      const cases: Array<[Record<string, string>, RegExp]> = [
        [{ kind: 'Bank-Account' }, /^kind: /],
        [{ kind: '' }, /^kind: /],
        [{ kind: 'a'.repeat(51) }, /^kind: /],
        [{ ref: '' }, /^ref: must not be empty/],
        [{ ref: '   ' }, /^ref: must not be empty/],
        [{ ref: 'x'.repeat(201) }, /^ref: at most 200/],
        [{ label: '' }, /^label: must not be empty/],
        [{ label: 'x'.repeat(101) }, /^label: at most 100/],
        [{ label: 'a\u0000b' }, /^label: must not contain control characters/],
        [{ label: '普通\u202e7654' }, /^label: must not contain control characters/],
      ];
      for (const [change, message] of cases) {
        const err = await rejection(linked.add({ accountId: me, kind: 'bank_account', ref: '0001-001-1234567', label: 'A', ...change }));
        assert.equal(err.code, 'invalid-input');
        assert.match(err.issues.join('; '), message, JSON.stringify(change));
      }
      assert.equal((await rejection(linked.add({ accountId: randomUUID(), kind: 'bank_account', ref: 'r', label: 'l' }))).code, 'unknown-account');
      const trimmed = await linked.add({ accountId: me, kind: 'bank_account', ref: ' 0001-001-1234567 ', label: ' Main ' });
      assert.equal(trimmed.ref, '0001-001-1234567');
      assert.equal(trimmed.label, 'Main');
    });

    it('removes one resource of the person; goes with the account', async () => {
      const me = await newAccount();
      const a = await linked.add({ accountId: me, kind: 'bank_account', ref: '1', label: 'One' });
      await linked.add({ accountId: me, kind: 'bank_account', ref: '2', label: 'Two' });
      assert.equal(await linked.remove(me, a.id), true);
      assert.equal(await linked.remove(me, a.id), false);
      assert.equal(await linked.remove(me, 'no-such-id'), false);
      assert.deepEqual((await linked.list(me, 'bank_account')).map((r) => r.label), ['Two']);
      await storage.db.deleteFrom('accounts').where('id', '=', me).execute();
      assert.deepEqual(await linked.list(me), []);
    });

    it('the database refuses what the repository would: a bad kind, an empty ref or label', async () => {
      const me = await newAccount();
      const insert = (values: { kind: string; ref: string; label: string }) =>
        storage.db.insertInto('linked_resources').values({ id: randomUUID(), account_id: me, ...values }).execute();
      await assert.rejects(insert({ kind: 'Bank', ref: 'r', label: 'l' }));
      await assert.rejects(insert({ kind: 'bank_account', ref: '', label: 'l' }));
      await assert.rejects(insert({ kind: 'bank_account', ref: 'r', label: '' }));
    });
  });
}
