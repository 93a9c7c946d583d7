import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ENGINES } from '../../test/support/engines.ts';
import type { Storage } from '../storage/db.ts';
import { createDelegations, DelegationError, whoMayEnd, type DelegationInput } from './delegations.ts';

const HOUR = 3_600_000;
const RACERS = 8;

for (const engine of ENGINES) {
  describe(`delegations on ${engine.name}`, { skip: engine.skip }, () => {
    let storage: Storage & { dispose(): Promise<void> };
    let delegations: ReturnType<typeof createDelegations>;
    before(async () => {
      storage = await engine.open();
      delegations = createDelegations(storage.db);
    });
    after(() => storage?.dispose());

    const newAccount = async (name = 'Someone') => {
      const id = randomUUID();
      await storage.db.insertInto('accounts').values({ id, username: `u-${id}`, claims: JSON.stringify({ name }) }).execute();
      return id;
    };
    const input = (principal: string, delegate: string, more: Partial<DelegationInput> = {}): DelegationInput => ({
      principal, delegate, relationship: 'appointed_proxy', evidence: 'POA-2026-0042 (scanned, file 17)', verifiedBy: 'Suzuki (branch 001)',
      verifiedAt: new Date(Date.now() - HOUR), constraints: { scopes: ['openid', 'profile'] }, validFrom: new Date(Date.now() - HOUR), ...more,
    });
    const refusal = async (promise: Promise<unknown>) => {
      try { await promise; } catch (err) { assert.ok(err instanceof DelegationError, String(err)); return err; }
      assert.fail('resolved');
    };

    it('registers one with a random id and finds it as it was given', async () => {
      const [p, d] = [await newAccount(), await newAccount()];
      const until = new Date(Date.now() + 24 * HOUR);
      const made = await delegations.register(input(p, d, { relationship: 'legal_guardian', validUntil: until, constraints: { scopes: ['records'], authorizationDetailTypes: ['fhir_record_access'], excludeSensitive: true } }));
      assert.match(made.id, /^dlg_[A-Za-z0-9_-]{22}$/);
      assert.equal(made.status, 'active');
      assert.deepEqual(await delegations.find(made.id), made);
      assert.deepEqual(made.constraints, { scopes: ['records'], authorizationDetailTypes: ['fhir_record_access'], excludeSensitive: true });
      assert.equal(made.validUntil?.getTime(), until.getTime());
      assert.equal(made.endedAt, null);
      assert.equal(await delegations.find('dlg_nothing'), undefined);
    });

    it('refuses oneself, unknown accounts, an end before the start, bad input and an overlapping duplicate', async () => {
      const [p, d] = [await newAccount(), await newAccount()];
      assert.equal((await refusal(delegations.register(input(p, p)))).code, 'self-delegation');
      const unknown = await refusal(delegations.register(input(p, randomUUID())));
      assert.deepEqual([unknown.code, unknown.issues.map((i) => i.field)], ['unknown-account', ['delegate']]);
      const start = new Date();
      assert.deepEqual((await refusal(delegations.register(input(p, d, { validFrom: start, validUntil: start })))).issues, [{ field: 'validUntil', message: 'must be after the start of the delegation' }]);
      const bad = await refusal(delegations.register(input(p, d, { evidence: ' ', verifiedAt: new Date(Date.now() + 24 * HOUR), constraints: { claims: ['x'] } as never })));
      assert.equal(bad.code, 'invalid-input');
      assert.deepEqual(bad.issues.map((i) => i.field).sort(), ['constraints', 'evidence', 'verifiedAt']);
      assert.equal((await refusal(delegations.register({ ...input(p, d), relationship: 'friend' as never }))).issues[0]?.field, 'relationship');

      const first = await delegations.register(input(p, d));
      const dup = await refusal(delegations.register(input(p, d, { validFrom: new Date(Date.now() + HOUR) })));
      assert.equal(dup.code, 'duplicate');
      assert.match(dup.message, new RegExp(first.id));
      // Another relationship, or the reverse direction, is another delegation.
      await delegations.register(input(p, d, { relationship: 'caregiver' }));
      await delegations.register(input(d, p));
      // Once it ended, the same delegation can be registered again.
      assert.equal(await delegations.end(first.id, { by: 'operator', reason: 'renewed with new evidence' }), true);
      await delegations.register(input(p, d));
    });

    it('a duplicate is refused under concurrency too: one of several simultaneous registrations wins', async () => {
      const [p, d] = [await newAccount(), await newAccount()];
      const results = await Promise.allSettled(Array.from({ length: RACERS }, () => delegations.register(input(p, d))));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as DelegationError).code, 'duplicate');
    });

    it('a later, separate period of the same delegation is not a duplicate', async () => {
      const [p, d] = [await newAccount(), await newAccount()];
      const now = Date.now();
      await delegations.register(input(p, d, { validFrom: new Date(now - HOUR), validUntil: new Date(now + HOUR) }));
      await delegations.register(input(p, d, { validFrom: new Date(now + HOUR), validUntil: new Date(now + 2 * HOUR) }));
      assert.equal((await refusal(delegations.register(input(p, d, { validFrom: new Date(now + 90 * 60_000) })))).code, 'duplicate');
    });

    it('active means status active and inside the validity window, at the time asked', async () => {
      const [p, d, other] = [await newAccount(), await newAccount(), await newAccount()];
      const now = Date.now();
      const current = await delegations.register(input(p, d, { validUntil: new Date(now + HOUR) }));
      const future = await delegations.register(input(p, other, { validFrom: new Date(now + 2 * HOUR) }));
      const lapsed = await delegations.register(input(other, d, { validFrom: new Date(now - 3 * HOUR), validUntil: new Date(now - HOUR) }));
      const ids = (list: Array<{ id: string }>) => list.map((x) => x.id).sort();

      assert.deepEqual(ids(await delegations.activeForPrincipal(p)), [current.id]);
      assert.deepEqual(ids(await delegations.activeForDelegate(d)), [current.id]);
      assert.deepEqual(ids(await delegations.activeForPrincipal(p, new Date(now + 3 * HOUR))), [future.id], 'later: the first ended, the second began');
      assert.deepEqual(ids(await delegations.activeForDelegate(d, new Date(now - 2 * HOUR))), [lapsed.id]);
      assert.deepEqual(await delegations.activeForPrincipal(p, new Date(now - 2 * HOUR)), [], 'before either began');
      assert.equal(await delegations.isActive(current.id, p, d), true);
      assert.equal(await delegations.isActive(current.id, d, p), false, 'the other way round is not the same delegation');
      assert.equal(await delegations.isActive(future.id, p, other), false);
      assert.equal(await delegations.isActive(lapsed.id, other, d), false);

      // Ended: it stops at once, whatever its dates say.
      assert.equal(await delegations.end(current.id, { by: 'delegate', reason: 'stepping down' }), true);
      assert.equal(await delegations.isActive(current.id, p, d), false);
      assert.deepEqual(await delegations.activeForDelegate(d), []);
      const ended = await delegations.find(current.id);
      assert.equal(ended?.status, 'ended');
      assert.deepEqual([ended?.endedBy, ended?.endReason], ['delegate', 'stepping down']);
      assert.ok(ended?.endedAt instanceof Date);
    });

    it(`end() is one atomic statement: of ${RACERS} concurrent calls exactly one ends it`, async () => {
      const made = await delegations.register(input(await newAccount(), await newAccount()));
      const results = await Promise.all(Array.from({ length: RACERS }, (_, i) => delegations.end(made.id, { by: 'operator', reason: `call ${i}` })));
      assert.equal(results.filter(Boolean).length, 1);
      const winner = results.indexOf(true);
      assert.equal((await delegations.find(made.id))?.endReason, `call ${winner}`, 'the first end is kept, not overwritten');
      assert.equal(await delegations.end(made.id, { by: 'operator', reason: 'again' }), false);
      assert.equal(await delegations.end('dlg_unknown', { by: 'operator', reason: 'x' }), false);
      assert.equal((await refusal(delegations.end(made.id, { by: 'operator', reason: '' }))).issues[0]?.field, 'reason');
      assert.equal((await refusal(delegations.end(made.id, { by: 'someone' as never, reason: 'x' }))).issues[0]?.field, 'by');
    });

    it('listForAccount: both sides, ended ones included, active first, with the people\'s names', async () => {
      const [me, mother, daughter, helper] = [await newAccount('山田 花子'), await newAccount('山田 和子'), await newAccount('山田 さくら'), await newAccount('佐藤 一郎')];
      const byMother = await delegations.register(input(me, mother, { relationship: 'appointed_proxy' }));
      const byHelper = await delegations.register(input(me, helper, { relationship: 'caregiver' }));
      const forDaughter = await delegations.register(input(daughter, me, { relationship: 'parent' }));
      await delegations.end(byHelper.id, { by: 'principal', reason: 'no longer needed' });

      const { actingForMe, iActFor } = await delegations.listForAccount(me);
      assert.deepEqual(actingForMe.map((x) => [x.id, x.status, x.delegateName]), [[byMother.id, 'active', '山田 和子'], [byHelper.id, 'ended', '佐藤 一郎']]);
      assert.deepEqual(iActFor.map((x) => [x.id, x.principalName, x.relationship]), [[forDaughter.id, '山田 さくら', 'parent']]);
      assert.equal(actingForMe[0]?.principalName, '山田 花子');
      assert.match(actingForMe[0]!.delegateUsername, /^u-/);
      assert.deepEqual(await delegations.listForAccount(await newAccount()), { actingForMe: [], iActFor: [] });
      assert.ok((await delegations.list()).some((x) => x.id === forDaughter.id));
    });

    it('who may end one from their page: the delegate always; the principal only a proxy or caregiver', () => {
      const d = (relationship: 'parent' | 'legal_guardian' | 'appointed_proxy' | 'caregiver') => ({ principal: 'p', delegate: 'd', relationship });
      assert.equal(whoMayEnd(d('parent'), 'd'), 'delegate');
      assert.equal(whoMayEnd(d('legal_guardian'), 'd'), 'delegate');
      assert.equal(whoMayEnd(d('appointed_proxy'), 'p'), 'principal');
      assert.equal(whoMayEnd(d('caregiver'), 'p'), 'principal');
      assert.equal(whoMayEnd(d('parent'), 'p'), 'operator-only');
      assert.equal(whoMayEnd(d('legal_guardian'), 'p'), 'operator-only');
      assert.equal(whoMayEnd(d('caregiver'), 'x'), 'unrelated');
    });
  });
}
