import { randomUUID } from 'node:crypto';
import type { ClientPrivateJwk } from '@sekisho/example-kit/client-key';
import { clientAssertionOk, dpopProofKey, readFormBody, sendJson, testClientKey } from '@sekisho/example-kit/testing/stub-server';
import { jwtVerify, type JWTPayload } from 'jose';
import { startLocalIssuer, type LocalIssuer } from './local-issuer.ts';

export interface Scenario {
  /** Token requests answered authorization_pending before the outcome. */
  pending: number;
  outcome: 'approve' | 'deny' | 'expire';
  /** Answer the first token request with slow_down (before the pending ones). */
  slowDown?: boolean;
  /** Require a DPoP nonce at the token endpoint (use_dpop_nonce on the first request). */
  dpopNonce?: boolean;
  /** RFC 8693 `act` in the ID token and the access token: a guardian approved. */
  act?: Record<string, unknown>;
  /** The patient the person picks on the phone: Sekisho's linked-resource id, its label, and `ref` (the FHIR Patient id). */
  patient: { id: string; label: string; ref?: string };
  /** `interval` in the backchannel response. */
  interval?: number;
  /** Scopes the person left unticked on the phone: asked for, not granted. */
  withheldScopes?: string[];
}

export interface TokenRequestRecord { at: number; jkt: string; nonce?: unknown }

export interface StubCiba {
  issuer: LocalIssuer;
  clientId: string;
  clientPrivateJwk: ClientPrivateJwk;
  scenario: Scenario;
  /** The verified request objects received, in order. */
  requestObjects: Array<{ header: Record<string, unknown>; claims: JWTPayload; outer: string[] }>;
  tokenRequests: TokenRequestRecord[];
  /** Sends a CIBA ping to the client's notification endpoint (default: the last request's token and auth_req_id). */
  ping(endpoint: string, override?: { bearer?: string; authReqId?: string }): Promise<number>;
  close(): Promise<void>;
}

const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';
const NONCE = 'server-nonce-1';

/**
 * A stand-in for Sekisho's CIBA side, checking what a FAPI-CIBA client must send: private_key_jwt
 * client authentication, the parameters only inside a request object signed with the client's
 * key (iss, aud, exp ≤ 5 min after iat, nbf, jti), DPoP proofs at the token endpoint with one key
 * per request. It answers as the scenario says and mints tokens the health API accepts.
 */
export async function startStubCiba(options: { healthAudience: string; scenario: Scenario }): Promise<StubCiba> {
  const issuer = await startLocalIssuer();
  const clientId = 'clinic-example';
  const kid = 'clinic-2026';
  const { privateJwk: clientPrivateJwk, publicKey: clientPublic } = await testClientKey(kid);
  const requests = new Map<string, { claims: JWTPayload; polls: number; jkt?: string }>();
  let lastAuthReqId: string | undefined;

  issuer.metadata.backchannel_authentication_endpoint = `${issuer.issuer}/backchannel`;
  issuer.metadata.backchannel_token_delivery_modes_supported = ['poll', 'ping'];
  issuer.metadata.backchannel_authentication_request_signing_alg_values_supported = ['ES256'];
  issuer.metadata.grant_types_supported = [CIBA_GRANT];

  const stub: StubCiba = {
    issuer, clientId, clientPrivateJwk, scenario: options.scenario, requestObjects: [], tokenRequests: [],
    async ping(endpoint, override = {}) {
      const authReqId = override.authReqId ?? lastAuthReqId!;
      const bearer = override.bearer ?? String(requests.get(lastAuthReqId!)!.claims.client_notification_token);
      const response = await fetch(endpoint, {
        method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: JSON.stringify({ auth_req_id: authReqId }),
      });
      await response.body?.cancel();
      return response.status;
    },
    close: () => issuer.close(),
  };

  const clientAuthenticated = (params: URLSearchParams) => clientAssertionOk(params, { clientId, publicKey: clientPublic, audience: issuer.issuer });

  issuer.routes.set('/backchannel', async (req, res) => {
    const params = await readFormBody(req);
    if (!(await clientAuthenticated(params))) return sendJson(res, 401, { error: 'invalid_client' });
    let verified;
    try {
      verified = await jwtVerify(params.get('request') ?? '', clientPublic, {
        issuer: clientId, audience: issuer.issuer, algorithms: ['ES256'], requiredClaims: ['exp', 'iat', 'nbf', 'jti'], maxTokenAge: 300,
      });
    } catch {
      return sendJson(res, 400, { error: 'invalid_request', error_description: 'a signed request object is required' });
    }
    const { payload: claims, protectedHeader } = verified;
    if (claims.exp! - claims.iat! > 300) return sendJson(res, 400, { error: 'invalid_request', error_description: 'exp too far' });
    stub.requestObjects.push({ header: protectedHeader as Record<string, unknown>, claims, outer: [...params.keys()] });
    if (claims.login_hint === 'nobody') return sendJson(res, 400, { error: 'unknown_user_id' });
    const authReqId = randomUUID();
    lastAuthReqId = authReqId;
    requests.set(authReqId, { claims, polls: 0 });
    sendJson(res, 200, { auth_req_id: authReqId, expires_in: 120, ...(stub.scenario.interval ? { interval: stub.scenario.interval } : {}) });
  });

  issuer.routes.set('/token', async (req, res) => {
    const params = await readFormBody(req);
    if (!(await clientAuthenticated(params))) return sendJson(res, 401, { error: 'invalid_client' });
    const request = requests.get(params.get('auth_req_id') ?? '');
    if (params.get('grant_type') !== CIBA_GRANT || !request) return sendJson(res, 400, { error: 'invalid_grant' });
    const proof = await dpopProofKey(req, 'POST', `${issuer.issuer}/token`);
    if (!proof) return sendJson(res, 400, { error: 'invalid_dpop_proof' });
    const { jkt } = proof;
    stub.tokenRequests.push({ at: Date.now(), jkt, nonce: proof.nonce });
    if (stub.scenario.dpopNonce && proof.nonce !== NONCE) return sendJson(res, 400, { error: 'use_dpop_nonce' }, { 'DPoP-Nonce': NONCE });
    // Every poll of one request must come with the same key: the tokens are bound to it.
    if (request.jkt && request.jkt !== jkt) return sendJson(res, 400, { error: 'invalid_dpop_proof', error_description: 'another key' });
    request.jkt = jkt;
    request.polls += 1;
    const s = stub.scenario;
    if (s.slowDown && request.polls === 1) return sendJson(res, 400, { error: 'slow_down' });
    if (request.polls <= s.pending + (s.slowDown ? 1 : 0)) return sendJson(res, 400, { error: 'authorization_pending' });
    if (s.outcome === 'deny') return sendJson(res, 400, { error: 'access_denied' });
    if (s.outcome === 'expire') return sendJson(res, 400, { error: 'expired_token' });

    const asked = request.claims.authorization_details as Array<Record<string, unknown>>;
    const granted = asked.map((d) => ({ ...d, patient: s.patient }));
    // As Sekisho answers for a token with a resource: that API's scopes only (not openid).
    const scope = String(request.claims.scope ?? '').split(' ').filter((x) => x.startsWith('patient/') && !(s.withheldScopes ?? []).includes(x)).join(' ');
    const sub = 'account-taro';
    const now = Math.floor(Date.now() / 1000);
    const accessToken = await issuer.mintAccessToken({
      aud: options.healthAudience, client_id: clientId, sub, cnf: { jkt }, scope, authorization_details: granted, ...(s.act ? { act: s.act } : {}),
    });
    const idToken = await issuer.sign({ iss: issuer.issuer, aud: clientId, sub, iat: now, exp: now + 300, auth_time: now, ...(s.act ? { act: s.act } : {}) });
    sendJson(res, 200, { access_token: accessToken, token_type: 'DPoP', expires_in: 300, scope, id_token: idToken, authorization_details: granted });
  });

  return stub;
}
