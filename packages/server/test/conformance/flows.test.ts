/**
 * Full FAPI 2.0 flows with unmodified oauth4webapi for every combination of client
 * authentication × sender constraint × profile (Security Profile, or Message Signing with
 * JAR + JARM + JWT introspection).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { decodeJwt } from 'jose';
import { startTestServer, type TestServer } from '../support/server.ts';
import { registerTestClient, type AuthMethod, type Binding } from '../support/clients.ts';
import { runCodeFlow, withNonceRetry } from '../support/flow.ts';
import { createTestUser, type TestUser } from '../support/users.ts';

let server: TestServer;
let user: TestUser;

before(async () => {
  server = await startTestServer();
  user = await createTestUser(server);
});
after(() => server.close());

const combos: Array<[AuthMethod, Binding, boolean]> = [];
for (const auth of ['private_key_jwt', 'tls_client_auth'] as const) {
  for (const binding of ['dpop', 'mtls'] as const) {
    for (const ms of [false, true]) combos.push([auth, binding, ms]);
  }
}

for (const [auth, binding, messageSigning] of combos) {
  describe(`${auth} × ${binding} × ${messageSigning ? 'Message Signing' : 'Security Profile'}`, () => {
    it('completes PAR → authorize → token → userinfo → refresh → introspect → revoke', async () => {
      const tc = await registerTestClient(server, { auth, binding, messageSigning });
      const { as, tokens, claims, callback } = await runCodeFlow(server, tc, { username: user.username, password: user.password });

      // A1: iss in the authorization response (inside the JARM JWT for Message Signing).
      const cb = new URL(callback);
      if (messageSigning) {
        const jarm = decodeJwt(cb.searchParams.get('response')!);
        assert.equal(jarm.iss, server.issuer);
        assert.equal(jarm.aud, tc.clientId);
        assert.ok(jarm.exp);
      } else {
        assert.equal(cb.searchParams.get('iss'), server.issuer);
      }

      // T2: sender-constrained access token.
      const DPoP = tc.dpopKeys ? oauth.DPoP(tc.client, tc.dpopKeys) : undefined;
      assert.equal(tokens.token_type.toLowerCase(), binding === 'dpop' ? 'dpop' : 'bearer');
      // T5: ID token claims.
      assert.ok(claims);
      assert.equal(claims.iss, server.issuer);
      assert.equal(claims.aud, tc.clientId);
      assert.equal(claims.sub, user.id);
      assert.equal(claims.acr, 'urn:sekisho:aal1');
      assert.deepEqual(claims.amr, ['pwd'], JSON.stringify(claims));
      assert.equal(claims.auth_time, undefined, 'auth_time only when max_age or the claim is requested');
      assert.ok(tokens.scope?.split(' ').includes('openid'));
      assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');

      // O1: UserInfo with the sender-constrained token; sub matches the ID token.
      const userinfo = await withNonceRetry(async () => oauth.processUserInfoResponse(as, tc.client, claims.sub,
        await oauth.userInfoRequest(as, tc.client, tokens.access_token, { ...tc.options, ...(DPoP ? { DPoP } : {}) })));
      assert.equal(userinfo.sub, user.id);
      assert.equal(userinfo.email, `${user.username}@example.jp`);
      assert.equal(userinfo.name, 'Hanako Yamada');

      // T3: refresh keeps the same binding and is not rotated.
      const refreshed = await withNonceRetry(async () => oauth.processRefreshTokenResponse(as, tc.client,
        await oauth.refreshTokenGrantRequest(as, tc.client, tc.clientAuth, tokens.refresh_token!, { ...tc.options, ...(DPoP ? { DPoP } : {}) })));
      assert.equal(refreshed.token_type.toLowerCase(), binding === 'dpop' ? 'dpop' : 'bearer');
      assert.ok(refreshed.refresh_token === undefined || refreshed.refresh_token === tokens.refresh_token, 'refresh token not rotated');

      // I1 / M4: introspection by the token's own client, JWT response for Message Signing clients.
      const introspection = await oauth.processIntrospectionResponse(as, tc.client,
        await oauth.introspectionRequest(as, tc.client, tc.clientAuth, refreshed.access_token, { ...tc.options, requestJwtResponse: messageSigning }));
      assert.equal(introspection.active, true);
      assert.equal(introspection.client_id, tc.clientId);
      assert.equal(introspection.sub, user.id);
      const cnf = introspection.cnf as Record<string, string> | undefined;
      if (binding === 'dpop') assert.ok(cnf?.jkt, 'cnf.jkt present');
      else assert.equal(cnf?.['x5t#S256'], tc.cert!.thumbprint);

      // I2: revoking the refresh token revokes the grant's access tokens.
      await oauth.processRevocationResponse(await oauth.revocationRequest(as, tc.client, tc.clientAuth, tokens.refresh_token!, tc.options));
      const after = await oauth.processIntrospectionResponse(as, tc.client,
        await oauth.introspectionRequest(as, tc.client, tc.clientAuth, refreshed.access_token, { ...tc.options, requestJwtResponse: messageSigning }));
      assert.equal(after.active, false);
    });
  });
}
