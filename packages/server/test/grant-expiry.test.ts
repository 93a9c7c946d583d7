/**
 * An ongoing consent lasts as long as the person chose, no longer: the grant's expiry is the
 * choice, a merge does not extend it, and once it has passed the grant issues and refreshes
 * nothing and the person is asked again.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { startTestServer, type TestServer } from './support/server.ts';
import { registerTestClient, type TestClient } from './support/clients.ts';
import { discover, pushAuthorizationRequest, redeemCallback, runCodeFlow, withNonceRetry } from './support/flow.ts';
import { createUserAgent } from './support/user-agent.ts';
import { createTestUser, type TestUser } from './support/users.ts';

let server: TestServer;
let tc: TestClient;
let user: TestUser;
before(async () => {
  server = await startTestServer();
  tc = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' });
  user = await createTestUser(server);
});
after(() => server.close());

const DAY = 86_400_000;
async function grantExpiry(grantId: string) {
  const db = server.app.storage.db;
  const grant = await db.selectFrom('oidc_models').select('expires_at').where('model', '=', 'Grant').where('id', '=', grantId).executeTakeFirst();
  const terms = await db.selectFrom('consent_grants').select('expires_at').where('id', '=', grantId).executeTakeFirst();
  return { grant: grant?.expires_at ?? null, terms: terms?.expires_at ?? null };
}

describe('grant expiry', () => {
  it('is what the person chose; a merge keeps it', async () => {
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const flow = await runCodeFlow(server, tc, { username: user.username, password: user.password, answers: { duration: 'ongoing', days: 7 } }, {}, ua);
    const grantId = flow.tokens.grant_id as string;
    const first = await grantExpiry(grantId);
    assert.ok(Math.abs(first.grant!.getTime() - (Date.now() + 7 * DAY)) < 60_000, `7 days: ${first.grant?.toISOString()}`);
    assert.ok(Math.abs(first.terms!.getTime() - first.grant!.getTime()) < 2000, 'My consents shows the same date');

    const merged = await runCodeFlow(server, tc, { username: user.username, password: user.password }, { scope: 'openid phone offline_access', grant_management_action: 'merge', grant_id: grantId }, ua);
    assert.equal(merged.tokens.grant_id, grantId);
    const after = await grantExpiry(grantId);
    assert.ok(Math.abs(after.grant!.getTime() - first.grant!.getTime()) < 2000, 'a merge does not extend the consent');
  });

  it('once passed, refreshes fail and the person is asked again', async () => {
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const flow = await runCodeFlow(server, tc, { username: user.username, password: user.password }, {}, ua);
    const grantId = flow.tokens.grant_id as string;
    await server.app.storage.db.updateTable('oidc_models').set({ expires_at: new Date(Date.now() - 1000) }).where('model', '=', 'Grant').where('id', '=', grantId).execute();

    const DPoP = oauth.DPoP(tc.client, tc.dpopKeys!);
    await assert.rejects(withNonceRetry(async () => oauth.processRefreshTokenResponse(flow.as, tc.client,
      await oauth.refreshTokenGrantRequest(flow.as, tc.client, tc.clientAuth, flow.tokens.refresh_token!, { ...tc.options, DPoP }))),
    (err: unknown) => err instanceof oauth.ResponseBodyError && err.error === 'invalid_grant');

    // The same browser, the same request, no prompt: the consent screen again, not a silent code.
    const par = await pushAuthorizationRequest(await discover(server, tc), tc, { scope: 'openid profile', prompt: '' });
    const again = await ua.authorize(par.authorizationUrl, { stopAtFirstPage: true });
    assert.ok(again.page, 'asked again');
    assert.match(again.page!.body, /Allow access\?/);
    const done = await ua.authorize(par.authorizationUrl, {});
    const tokens = await redeemCallback(flow.as, tc, par, done.callback!);
    assert.notEqual(tokens.grant_id, grantId, 'a new grant');
  });
});
