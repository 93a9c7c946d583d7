import { randomUUID } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { SignJWT } from 'jose';
import { registerTestClient, type TestClient } from './clients.ts';
import { kidOf } from './requests.ts';
import type { TestServer } from './server.ts';
import { withNonceRetry } from './flow.ts';

export const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';

/** A FAPI-CIBA client: private_key_jwt, DPoP, signed authentication requests, poll or ping. */
export async function registerCibaClient(server: TestServer, mode: 'poll' | 'ping' = 'poll', metadata: Record<string, unknown> = {}): Promise<TestClient> {
  return registerTestClient(server, {
    auth: 'private_key_jwt', binding: 'dpop', grantTypes: [CIBA_GRANT, 'refresh_token'],
    metadata: {
      redirect_uris: undefined, backchannel_token_delivery_mode: mode, backchannel_authentication_request_signing_alg: 'ES256',
      client_name: 'Kakuu Clinic (fictional)', ...metadata,
    },
  });
}

/** The signed request object (FAPI-CIBA): aud, iss, exp, iat, nbf, jti with the parameters. */
export async function signedCibaRequest(server: TestServer, tc: TestClient, params: Record<string, unknown>, claims: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...params })
    .setProtectedHeader({ alg: 'ES256', kid: kidOf(tc), typ: 'JWT' })
    .setIssuer(tc.clientId).setAudience(server.issuer).setIssuedAt(now).setNotBefore(now).setExpirationTime(now + 300).setJti(randomUUID())
    .sign(tc.privateKey).then(async (jwt) => Object.keys(claims).length ? resign(tc, jwt, claims) : jwt);
}

async function resign(tc: TestClient, jwt: string, claims: Record<string, unknown>): Promise<string> {
  const payload = { ...JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()), ...claims };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: kidOf(tc), typ: 'JWT' }).sign(tc.privateKey);
}

/** Starts a backchannel request with oauth4webapi, as a real client would. */
export async function startCiba(as: oauth.AuthorizationServer, server: TestServer, tc: TestClient, params: Record<string, unknown>) {
  const request = await signedCibaRequest(server, tc, { scope: 'openid', ...params });
  const response = await oauth.backchannelAuthenticationRequest(as, tc.client, tc.clientAuth, { request }, tc.options);
  return oauth.processBackchannelAuthenticationResponse(as, tc.client, response);
}

/** One poll at the token endpoint (DPoP-bound); throws oauth4webapi's ResponseBodyError for pending, slow_down, denial … */
export async function pollOnce(as: oauth.AuthorizationServer, tc: TestClient, authReqId: string) {
  const DPoP = oauth.DPoP(tc.client, tc.dpopKeys!);
  return withNonceRetry(async () => oauth.processBackchannelAuthenticationGrantResponse(as, tc.client,
    await oauth.backchannelAuthenticationGrantRequest(as, tc.client, tc.clientAuth, authReqId, { ...tc.options, DPoP })));
}

/** The OAuth error of a failed poll (or 'ok'). */
export async function pollError(as: oauth.AuthorizationServer, tc: TestClient, authReqId: string): Promise<string> {
  try {
    await pollOnce(as, tc, authReqId);
    return 'ok';
  } catch (err) {
    if (err instanceof oauth.ResponseBodyError) return err.error;
    throw err;
  }
}
