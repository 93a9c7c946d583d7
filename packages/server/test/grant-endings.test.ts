/**
 * However a grant ends — the client revokes its refresh token, a code is used twice, time runs
 * out, the client is removed — the person's history says so (a ledger record) and My consents
 * lists it as ended. A consent given once is remembered on the person's next sign-in.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import * as oauth from 'oauth4webapi';
import { startTestServer, type TestServer } from './support/server.ts';
import { registerTestClient, type TestClient } from './support/clients.ts';
import { discover, pushAuthorizationRequest, redeemCallback, runCodeFlow } from './support/flow.ts';
import { createUserAgent } from './support/user-agent.ts';
import { createTestUser } from './support/users.ts';
import { createConsentLedger, type ConsentRecord } from '../src/consent/ledger.ts';
import { createGrantEndings } from '../src/consent/grant-endings.ts';
import { createGrantTerms } from '../src/consent/grant-terms.ts';

let server: TestServer;
let tc: TestClient;
before(async () => {
  server = await startTestServer();
  tc = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' });
});
after(() => server.close());

const db = () => server.app.storage.db;
const ledger = () => createConsentLedger(db(), { retentionDays: 1 });
const terms = () => createGrantTerms(db());

/** The grant's newest ledger record, once the background recording has run. */
async function lastRecordOf(subject: string, grantId: string): Promise<ConsentRecord | undefined> {
  for (let i = 0; i < 50; i++) {
    const [r] = (await ledger().forSubject(subject, 5)).filter((x) => x.grantId === grantId);
    if (r && r.action !== 'create') return r;
    await sleep(50);
  }
  return undefined;
}

describe('grants that end outside My consents', () => {
  it('the client revoking its refresh token ends the consent, in the ledger too', async () => {
    const user = await createTestUser(server);
    const flow = await runCodeFlow(server, tc, { username: user.username, password: user.password });
    const grantId = flow.tokens.grant_id as string;
    const res = await oauth.revocationRequest(flow.as, tc.client, tc.clientAuth, flow.tokens.refresh_token!, tc.options);
    await oauth.processRevocationResponse(res);
    const record = await lastRecordOf(user.id, grantId);
    assert.equal(record?.action, 'revoke');
    assert.equal(record?.context.by, 'client');
    assert.equal((await terms().find(grantId))?.status, 'revoked');
  });

  it('an authorization code used twice ends the consent, recorded as reuse', async () => {
    const user = await createTestUser(server);
    const as = await discover(server, tc);
    const par = await pushAuthorizationRequest(as, tc);
    const { callback } = await createUserAgent(server.dispatcher(), server.issuer).authorize(par.authorizationUrl, { username: user.username, password: user.password });
    const params = oauth.validateAuthResponse(as, tc.client, new URL(callback!), par.state);
    const DPoP = oauth.DPoP(tc.client, tc.dpopKeys!);
    const redeem = () => oauth.authorizationCodeGrantRequest(as, tc.client, tc.clientAuth, params, tc.redirectUri, par.verifier, { ...tc.options, DPoP });
    let first = await redeem();
    if (first.status === 400 && first.headers.get('dpop-nonce')) first = await redeem();
    const tokens = await first.json() as { grant_id: string };
    assert.equal((await redeem()).status, 400);
    const record = await lastRecordOf(user.id, tokens.grant_id);
    assert.equal(record?.context.by, 'reuse');
  });

  it('time running out is recorded once, by the sweep', async () => {
    const user = await createTestUser(server);
    const flow = await runCodeFlow(server, tc, { username: user.username, password: user.password });
    const grantId = flow.tokens.grant_id as string;
    await db().updateTable('consent_grants').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', grantId).execute();
    const endings = createGrantEndings({ terms: terms(), ledger: ledger(), audit: server.app.audit });
    const [a, b] = await Promise.all([endings.sweepExpired(), endings.sweepExpired()]);
    assert.ok(a + b >= 1);
    const records = (await ledger().forSubject(user.id)).filter((r) => r.grantId === grantId && r.action === 'expire');
    assert.equal(records.length, 1, 'once');
    assert.equal(records[0]!.decision, 'expired');
    assert.equal((await terms().find(grantId))?.status, 'expired');
  });

  it('a removed client ends every consent given to it', async () => {
    const gone = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' });
    const user = await createTestUser(server);
    const flow = await runCodeFlow(server, gone, { username: user.username, password: user.password });
    const endings = createGrantEndings({ terms: terms(), ledger: ledger(), audit: server.app.audit });
    assert.equal(await endings.clientRemoved(gone.clientId), 1);
    const t = await terms().find(flow.tokens.grant_id as string);
    assert.equal(t?.status, 'revoked');
    assert.equal(t?.endedBy, 'admin');
  });
});

describe('a consent is remembered across sign-ins', () => {
  it('a new browser session of the same person reuses the ongoing grant: no screen, same grant_id', async () => {
    const user = await createTestUser(server);
    const first = await runCodeFlow(server, tc, { username: user.username, password: user.password }, { scope: 'openid profile offline_access' });
    const as = await discover(server, tc);
    const par = await pushAuthorizationRequest(as, tc, { scope: 'openid profile', prompt: '' });
    const fresh = createUserAgent(server.dispatcher(), server.issuer);
    // Deny, were a consent screen shown: it is not.
    const { callback, page } = await fresh.authorize(par.authorizationUrl, { username: user.username, password: user.password, consent: 'deny' });
    assert.ok(callback && !/error=/.test(callback), `no consent screen: ${page?.body.slice(0, 200)}`);
    const tokens = await redeemCallback(as, tc, par, callback!);
    assert.equal(tokens.grant_id, first.tokens.grant_id, 'the same grant');
  });
});
