/**
 * Grant Management for OAuth 2.0 (draft -03/-04, consent.md) with a real client (oauth4webapi):
 * create → merge → replace → query → revoke, the error codes of the request side, and the API's
 * access rules.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { startTestServer, type TestServer } from '../support/server.ts';
import { registerTestClient, type TestClient } from '../support/clients.ts';
import { discover, parErrorCode, pushAuthorizationRequest, redeemCallback, runCodeFlow, withNonceRetry } from '../support/flow.ts';
import { createUserAgent } from '../support/user-agent.ts';
import { createTestUser, type TestUser } from '../support/users.ts';
import { createConsentLedger } from '../../src/consent/ledger.ts';
import { createGrants } from '../../src/consent/grants.ts';
import { consentForm } from '../support/consent-form.ts';

let server: TestServer;
let tc: TestClient;
let other: TestClient;
let user: TestUser;
before(async () => {
  server = await startTestServer();
  const grantTypes = ['authorization_code', 'refresh_token', 'client_credentials'];
  tc = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop', grantTypes });
  other = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop', grantTypes });
  user = await createTestUser(server);
});
after(() => server.close());

const signIn = () => ({ username: user.username, password: user.password });

/** The client's own token for the grant management endpoint (client credentials, DPoP-bound). */
async function managementToken(client: TestClient, scope: string): Promise<string> {
  const as = await discover(server, client);
  const DPoP = oauth.DPoP(client.client, client.dpopKeys!);
  const res = await withNonceRetry(async () => oauth.processClientCredentialsResponse(as, client.client,
    await oauth.clientCredentialsGrantRequest(as, client.client, client.clientAuth, { scope }, { ...client.options, DPoP })));
  assert.equal(res.scope, scope);
  return res.access_token;
}

async function callGrant(client: TestClient, method: 'GET' | 'DELETE', grantId: string, token: string): Promise<Response> {
  const as = await discover(server, client);
  const DPoP = oauth.DPoP(client.client, client.dpopKeys!);
  const url = new URL(`${as.grant_management_endpoint as string}/${grantId}`);
  try {
    return await withNonceRetry(() => oauth.protectedResourceRequest(token, method, url, new Headers(), null, { ...client.options, DPoP } as oauth.ProtectedResourceRequestOptions));
  } catch (err) {
    // oauth4webapi throws on a 401/403 challenge; the tests look at its status.
    if (err instanceof oauth.WWWAuthenticateChallengeError) return new Response(null, { status: err.status });
    throw err;
  }
}

async function refreshFails(client: TestClient, refreshToken: string) {
  const as = await discover(server, client);
  const DPoP = oauth.DPoP(client.client, client.dpopKeys!);
  await assert.rejects(withNonceRetry(async () => oauth.processRefreshTokenResponse(as, client.client,
    await oauth.refreshTokenGrantRequest(as, client.client, client.clientAuth, refreshToken, { ...client.options, DPoP }))),
  (err: unknown) => err instanceof oauth.ResponseBodyError && err.error === 'invalid_grant');
}

const parError = async (client: TestClient, extra: Record<string, string>) => parErrorCode(await discover(server, client), client, extra);

describe('Grant Management: create, merge, replace, query, revoke', () => {
  it('discovery advertises the endpoint and the actions', async () => {
    const as = await discover(server, tc);
    assert.equal(as.grant_management_endpoint, `${server.issuer}/grants`);
    assert.deepEqual(as.grant_management_actions_supported, ['create', 'merge', 'replace']);
    assert.equal(as.grant_management_action_required, false);
  });

  it('walks a grant through its life with a real client', async () => {
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    // create: a new grant, its id in the token response.
    const created = await runCodeFlow(server, tc, signIn(), { scope: 'openid profile offline_access', grant_management_action: 'create' }, ua);
    const grantId = created.tokens.grant_id as string;
    assert.match(grantId, /^[A-Za-z0-9_-]{43}$/, 'high entropy, nothing personal');
    assert.ok(created.tokens.refresh_token);

    // merge: only what is new is asked; the grant then holds both; earlier refresh tokens end.
    const as = await discover(server, tc);
    const par = await pushAuthorizationRequest(as, tc, { scope: 'openid email offline_access', grant_management_action: 'merge', grant_id: grantId });
    const screen = await ua.authorize(par.authorizationUrl, { ...signIn(), stopAtFirstPage: true });
    assert.match(screen.page!.body, /adds to the consent you already gave/);
    assert.match(screen.page!.body, /See your e-mail address/);
    assert.match(screen.page!.body, /Already allowed, and kept:[\s\S]*See your name and basic profile/);
    const merged = await ua.authorize(par.authorizationUrl, signIn());
    const mergedTokens = await redeemCallback(as, tc, par, merged.callback!);
    assert.equal(mergedTokens.grant_id, grantId, 'the same grant');
    // A token carries what its request asked for (and the grant allows); the grant holds more.
    assert.deepEqual(String(mergedTokens.scope).split(' ').sort(), ['email', 'offline_access', 'openid']);
    await refreshFails(tc, created.tokens.refresh_token!);

    // query: what the grant holds, in the draft's shape.
    const query = await managementToken(tc, 'grant_management_query');
    const got = await callGrant(tc, 'GET', grantId, query);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('cache-control'), 'no-store');
    const body = await got.json() as { scopes: Array<{ scope: string }>; created_at: number; expires_at: number };
    assert.deepEqual(body.scopes[0]!.scope.split(' ').sort(), ['email', 'offline_access', 'openid', 'profile']);
    assert.ok(body.created_at > 0 && body.expires_at > body.created_at);

    // replace: the grant becomes exactly the new consent; what is left out is shown as removed.
    const par2 = await pushAuthorizationRequest(as, tc, { scope: 'openid email offline_access', grant_management_action: 'replace', grant_id: grantId });
    const replaceScreen = await ua.authorize(par2.authorizationUrl, { ...signIn(), stopAtFirstPage: true });
    assert.match(replaceScreen.page!.body, /No longer asked for, and removed:[\s\S]*See your name and basic profile/);
    const replaced = await redeemCallback(as, tc, par2, (await ua.authorize(par2.authorizationUrl, signIn())).callback!);
    assert.equal(replaced.grant_id, grantId);
    assert.deepEqual(String(replaced.scope).split(' ').sort(), ['email', 'offline_access', 'openid']);
    await refreshFails(tc, mergedTokens.refresh_token!);
    const afterReplace = await (await callGrant(tc, 'GET', grantId, query)).json() as { scopes: Array<{ scope: string }> };
    assert.deepEqual(afterReplace.scopes[0]!.scope.split(' ').sort(), ['email', 'offline_access', 'openid']);

    // Another client may neither read nor revoke it; an unknown grant is 404.
    const otherQuery = await managementToken(other, 'grant_management_query');
    assert.equal((await callGrant(other, 'GET', grantId, otherQuery)).status, 403);
    assert.equal((await callGrant(tc, 'GET', 'A'.repeat(43), query)).status, 404);
    // The query scope does not revoke.
    assert.equal((await callGrant(tc, 'DELETE', grantId, query)).status, 403);

    // revoke: 204; its refresh token ends; the grant is gone; the ledger records who revoked it.
    const revoke = await managementToken(tc, 'grant_management_revoke');
    assert.equal((await callGrant(other, 'DELETE', grantId, await managementToken(other, 'grant_management_revoke'))).status, 403);
    const deleted = await callGrant(tc, 'DELETE', grantId, revoke);
    assert.equal(deleted.status, 204);
    await refreshFails(tc, replaced.refresh_token!);
    assert.equal((await callGrant(tc, 'GET', grantId, query)).status, 404);
    const [record] = await createConsentLedger(server.app.storage.db, { retentionDays: 1 }).forSubject(user.id, 1);
    assert.equal(record!.action, 'revoke');
    assert.equal(record!.channel, 'api');
    assert.equal(record!.grantId, grantId);
  });
});

describe('Grant Management: bad requests get the draft\'s errors, and nothing is granted', () => {
  it('invalid combinations are invalid_request at PAR', async () => {
    assert.equal(await parError(tc, { grant_id: 'abc' }), 'invalid_request');
    assert.equal(await parError(tc, { grant_management_action: 'create', grant_id: 'abc' }), 'invalid_request');
    assert.equal(await parError(tc, { grant_management_action: 'merge' }), 'invalid_request');
    assert.equal(await parError(tc, { grant_management_action: 'update', grant_id: 'abc' }), 'invalid_request');
  });

  it('an unknown grant, or another client\'s, is invalid_grant_id', async () => {
    assert.equal(await parError(tc, { grant_management_action: 'merge', grant_id: 'A'.repeat(43) }), 'invalid_grant_id');
    const mine = await runCodeFlow(server, tc, signIn(), { grant_management_action: 'create' });
    assert.equal(await parError(other, { grant_management_action: 'replace', grant_id: mine.tokens.grant_id as string }), 'invalid_grant_id');
  });

  it('another person\'s grant is invalid_grant_id once they sign in, and nothing is recorded for them', async () => {
    const owner = await runCodeFlow(server, tc, signIn(), { grant_management_action: 'create' });
    const intruder = await createTestUser(server);
    const as = await discover(server, tc);
    const par = await pushAuthorizationRequest(as, tc, { grant_management_action: 'merge', grant_id: owner.tokens.grant_id as string, scope: 'openid phone' });
    const { callback } = await createUserAgent(server.dispatcher(), server.issuer).authorize(par.authorizationUrl, { username: intruder.username, password: intruder.password });
    assert.match(callback ?? '', /error=invalid_grant_id/);
    assert.deepEqual(await createConsentLedger(server.app.storage.db, { retentionDays: 1 }).forSubject(intruder.id), []);
  });

  it('the endpoint refuses tokens for an API, a missing proof, and no token', async () => {
    const as = await discover(server, tc);
    const url = `${as.grant_management_endpoint as string}/${'A'.repeat(43)}`;
    const none = await fetch(url, { dispatcher: server.dispatcher() } as RequestInit);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /DPoP/);
    const token = await managementToken(tc, 'grant_management_query');
    const bearer = await fetch(url, { headers: { authorization: `Bearer ${token}` }, dispatcher: server.dispatcher() } as RequestInit);
    assert.equal(bearer.status, 401, 'a DPoP-bound token is not a bearer token');
  });
});

describe('Grant Management: merges show and honour what they add (security review F3, F4)', () => {
  it('ongoing access added by a merge is an item the person ticks, never granted in passing', async () => {
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const created = await runCodeFlow(server, tc, signIn(), { scope: 'openid profile', grant_management_action: 'create' }, ua);
    const grantId = created.tokens.grant_id as string;
    const as = await discover(server, tc);
    const par = await pushAuthorizationRequest(as, tc, { scope: 'openid profile offline_access', grant_management_action: 'merge', grant_id: grantId });
    const screen = await ua.authorize(par.authorizationUrl, { stopAtFirstPage: true });
    assert.match(screen.page!.body, /type="checkbox" name="item" value="scope:offline_access"/);
    const declined = await redeemCallback(as, tc, par, (await ua.authorize(par.authorizationUrl, { answers: { items: 'none' } })).callback!);
    assert.equal(declined.refresh_token, undefined, 'not ticked: no background access');
    const par2 = await pushAuthorizationRequest(as, tc, { scope: 'openid profile offline_access', grant_management_action: 'merge', grant_id: grantId });
    const allowed = await redeemCallback(as, tc, par2, (await ua.authorize(par2.authorizationUrl, {})).callback!);
    assert.ok(allowed.refresh_token, 'ticked: ongoing access');
  });

  it('a grant withdrawn while the merge screen is open is not brought back', async () => {
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const created = await runCodeFlow(server, tc, signIn(), { scope: 'openid profile', grant_management_action: 'create' }, ua);
    const grantId = created.tokens.grant_id as string;
    const as = await discover(server, tc);
    const par = await pushAuthorizationRequest(as, tc, { scope: 'openid email', grant_management_action: 'merge', grant_id: grantId });
    const screen = await ua.authorize(par.authorizationUrl, { stopAtFirstPage: true });
    const uid = /\/interaction\/([^/?"]+)/.exec(screen.page!.url)![1]!;
    const form = consentForm(screen.page!.body);
    // Meanwhile, on My consents, the person withdraws the whole grant.
    const revoked = await createGrants(server.app.storage.db).revoke(user.id, grantId);
    assert.ok(revoked, `revoked ${grantId}`);
    // Withdrawing a grant ends what is in flight under it too (this screen's interaction included).
    const stale = await ua.post(`${server.issuer}/interaction/${uid}/confirm`, form);
    assert.ok(stale.status === 400 || stale.status === 409, `refused: ${stale.status}`);
    const row = await server.app.storage.db.selectFrom('oidc_models').select('id').where('model', '=', 'Grant').where('id', '=', grantId).executeTakeFirst();
    assert.equal(row, undefined, 'the revoked grant stays revoked');
    const terms = await server.app.storage.db.selectFrom('consent_grants').select('status').where('id', '=', grantId).executeTakeFirstOrThrow();
    assert.equal(terms.status, 'revoked');
  });
});

describe('Grant Management: a merge does not undo a part withdrawn while its screen was open (security review F4)', () => {
  it('the screen is shown again with the grant as it is now; the withdrawn part stays withdrawn', async () => {
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const created = await runCodeFlow(server, tc, signIn(), { scope: 'openid profile email', grant_management_action: 'create' }, ua);
    const grantId = created.tokens.grant_id as string;
    const as = await discover(server, tc);
    const par = await pushAuthorizationRequest(as, tc, { scope: 'openid phone', grant_management_action: 'merge', grant_id: grantId });
    const screen = await ua.authorize(par.authorizationUrl, { stopAtFirstPage: true });
    const uid = /\/interaction\/([^/?"]+)/.exec(screen.page!.url)![1]!;
    const withdrawn = await createGrants(server.app.storage.db).withdrawPart(user.id, grantId, { kind: 'scope', scope: 'email' });
    assert.equal(typeof withdrawn, 'object');
    const stale = await ua.post(`${server.issuer}/interaction/${uid}/confirm`, consentForm(screen.page!.body));
    assert.equal(stale.status, 400);
    const page = await stale.text();
    assert.match(page, /changed while it was open/);
    const confirmed = await ua.post(`${server.issuer}/interaction/${uid}/confirm`, consentForm(page));
    assert.equal(confirmed.status, 303);
    const view = await createGrants(server.app.storage.db).managementView(grantId);
    const scopes = String((view!.body.scopes as Array<{ scope: string }>)[0]!.scope).split(' ');
    assert.ok(scopes.includes('phone'), 'the merge applied');
    assert.ok(!scopes.includes('email'), 'the withdrawal stands');
  });
});
