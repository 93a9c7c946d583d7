/**
 * The server on each storage engine: flows and tokens survive a restart, and concurrent
 * redemptions of one code, one client assertion or one DPoP proof have exactly one winner.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { startTestServer, type TestServer } from './support/server.ts';
import { registerTestClient } from './support/clients.ts';
import { discover, pushAuthorizationRequest, runCodeFlow, validateCallback } from './support/flow.ts';
import { createTestUser, type TestUser } from './support/users.ts';
import { createUserAgent } from './support/user-agent.ts';
import { POSTGRES_SKIP } from './support/databases.ts';

const RACERS = 16;

for (const engine of ['pglite', 'postgres'] as const) {
  describe(`server on ${engine}`, { skip: engine === 'postgres' ? POSTGRES_SKIP : false }, () => {
    let server: TestServer;
    let user: TestUser;
    before(async () => {
      server = await startTestServer({ engine });
      user = await createTestUser(server);
    });
    after(() => server?.close());

    it('tokens, sessions and a pending request survive a restart', async () => {
      const tc = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' });
      const ua = createUserAgent(server.dispatcher(), server.issuer);
      const { as, tokens } = await runCodeFlow(server, tc, { username: user.username, password: user.password }, {}, ua);
      const pending = await pushAuthorizationRequest(as, tc, { prompt: 'none', scope: 'openid' });

      await server.restart();

      const DPoP = oauth.DPoP(tc.client, tc.dpopKeys!);
      const introspection = await oauth.processIntrospectionResponse(as, tc.client,
        await oauth.introspectionRequest(as, tc.client, tc.clientAuth, tokens.access_token, tc.options));
      assert.equal(introspection.active, true, 'access token still valid');
      const refreshed = await oauth.processRefreshTokenResponse(as, tc.client,
        await oauth.refreshTokenGrantRequest(as, tc.client, tc.clientAuth, tokens.refresh_token!, { ...tc.options, DPoP }));
      assert.ok(refreshed.access_token);

      // The request pushed before the restart completes after it, on the session from before it
      // (prompt=none: no sign-in page may appear).
      const { callback } = await ua.authorize(pending.authorizationUrl);
      assert.ok(callback, 'redirected back without a sign-in page');
      const params = await validateCallback(as, tc, callback, pending.state);
      assert.ok(params.get('code'));
    });

    it(`race: ${RACERS} concurrent redemptions of one authorization code, exactly one succeeds`, async () => {
      const tc = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' });
      const as = await discover(server, tc);
      const par = await pushAuthorizationRequest(as, tc, { scope: 'openid', prompt: 'login' });
      const ua = createUserAgent(server.dispatcher(), server.issuer);
      const { callback } = await ua.authorize(par.authorizationUrl, { username: user.username, password: user.password });
      const params = await validateCallback(as, tc, callback!, par.state);
      const DPoP = oauth.DPoP(tc.client, tc.dpopKeys!);
      const responses = await Promise.all(Array.from({ length: RACERS }, () =>
        oauth.authorizationCodeGrantRequest(as, tc.client, tc.clientAuth, params, tc.redirectUri, par.verifier, { ...tc.options, DPoP })));
      const statuses = responses.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses.join(',')}`);
      for (const r of responses.filter((x) => x.status !== 200)) {
        assert.equal(r.status, 400);
        assert.equal(((await r.json()) as { error: string }).error, 'invalid_grant');
      }
      const winner = responses.find((r) => r.status === 200)!;
      const { access_token } = (await winner.json()) as { access_token: string };
      const check = await oauth.processIntrospectionResponse(as, tc.client,
        await oauth.introspectionRequest(as, tc.client, tc.clientAuth, access_token, tc.options));
      assert.equal(check.active, false, 'a code redeemed twice revokes what it issued (RFC 6749 §4.1.2)');
    });

    it(`race: one client assertion sent ${RACERS} times at once is accepted once`, async () => {
      const tc = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop', grantTypes: ['client_credentials'] });
      const as = await discover(server, tc);
      const assertion = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer(tc.clientId).setSubject(tc.clientId).setAudience(server.issuer)
        .setJti(randomUUID()).setIssuedAt().setExpirationTime('60s')
        .sign(tc.privateKey);
      const fetchWith = tc.options[oauth.customFetch];
      const responses = await Promise.all(Array.from({ length: RACERS }, async () => {
        const DPoP = oauth.DPoP(tc.client, tc.dpopKeys!);
        // oauth4webapi builds a fresh DPoP proof per call; the assertion is the shared part.
        return oauth.genericTokenEndpointRequest(as, tc.client, oauth.None(), 'client_credentials', {
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion,
        }, { [oauth.customFetch]: fetchWith, DPoP });
      }));
      const statuses = responses.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses.join(',')}`);
      assert.ok(statuses.filter((s) => s !== 200).every((s) => s === 401 || s === 400));
    });
  });
}
