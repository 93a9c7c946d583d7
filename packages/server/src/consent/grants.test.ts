import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../../test/support/engines.ts';
import { createGrants, parseGrantPart, type Grants } from './grants.ts';

it('reads a withdrawable part from the form, never signing in itself', () => {
  assert.deepEqual(parseGrantPart('scope:email'), { kind: 'scope', scope: 'email' });
  assert.deepEqual(parseGrantPart('claim:given_name'), { kind: 'claim', claim: 'given_name' });
  assert.deepEqual(parseGrantPart('resource:https://api.example/ accounts'), { kind: 'resource', resource: 'https://api.example/', scope: 'accounts' });
  for (const bad of ['scope:openid', 'scope:', 'email', 'claim:a b', 'resource:https://api.example/', undefined]) assert.equal(parseGrantPart(bad), undefined, String(bad));
});

for (const engine of ENGINES) {
  describe(`grants on ${engine.name}`, { skip: engine.skip }, () => {
    let storage: Awaited<ReturnType<typeof engine.open>>;
    let grants: Grants;
    before(async () => { storage = await engine.open(); grants = createGrants(storage.db); });
    after(() => storage?.dispose());

    async function grant(id: string, accountId: string) {
      const payload = {
        kind: 'Grant', jti: id, accountId, clientId: 'app', iat: Math.floor(Date.now() / 1000),
        openid: { scope: 'openid profile email phone offline_access', claims: ['given_name', 'family_name'] },
        resources: { 'https://api.example/': 'accounts transfers' },
      };
      await storage.db.insertInto('oidc_models').values({ model: 'Grant', id, payload: JSON.stringify(payload), grant_id: null, user_code: null, uid: null, expires_at: new Date(Date.now() + 3600_000), consumed_at: null }).execute();
      await storage.db.insertInto('oidc_models').values({ model: 'RefreshToken', id: `rt-${id}`, payload: JSON.stringify({ grantId: id, iat: 1 }), grant_id: id, user_code: null, uid: null, expires_at: new Date(Date.now() + 3600_000), consumed_at: null }).execute();
    }

    it('withdraws parts at once without losing either; tokens end; the grant stays', async () => {
      await grant('g-1', 'alice');
      const results = await Promise.all([
        grants.withdrawPart('alice', 'g-1', { kind: 'scope', scope: 'email' }),
        grants.withdrawPart('alice', 'g-1', { kind: 'scope', scope: 'phone' }),
        grants.withdrawPart('alice', 'g-1', { kind: 'claim', claim: 'given_name' }),
        grants.withdrawPart('alice', 'g-1', { kind: 'resource', resource: 'https://api.example/', scope: 'transfers' }),
      ]);
      assert.ok(results.every((r) => typeof r === 'object'), JSON.stringify(results));
      const [g] = await grants.listActive('alice');
      assert.deepEqual(g!.parts.scopes, ['openid', 'profile', 'offline_access']);
      assert.deepEqual(g!.parts.claims, ['family_name']);
      assert.deepEqual(g!.parts.resources, { 'https://api.example/': ['accounts'] });
      const tokens = await storage.db.selectFrom('oidc_models').select('id').where('grant_id', '=', 'g-1').execute();
      assert.equal(tokens.length, 0);
      assert.equal(await grants.withdrawPart('bob', 'g-1', { kind: 'scope', scope: 'profile' }), 'not-found', 'only the owner');
    });

    it('one of two concurrent whole withdrawals wins', async () => {
      await grant('g-2', 'carol');
      const results = await Promise.all([grants.revoke('carol', 'g-2'), grants.revoke('carol', 'g-2')]);
      assert.equal(results.filter(Boolean).length, 1);
      assert.deepEqual(await grants.listActive('carol'), []);
    });
  });
}
