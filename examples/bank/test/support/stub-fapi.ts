import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { clientAssertionOk, dpopProofKey, readFormBody, sendJson, testClientKey } from '@sekisho/example-kit/testing/stub-server';
import { generateKeyPair, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { PrivateEcJwk } from '../../src/registration.ts';
import { startLocalIssuer, type LocalIssuer } from './local-issuer.ts';

/** What the person does at the authorization server, and how it behaves. */
export interface Decision {
  outcome: 'allow' | 'deny';
  /** The accounts picked for account_information, as Sekisho grants them ({ id, label, ref }). */
  accounts: Array<{ id: string; label: string; ref: string }>;
  /** The account picked to pay from. */
  debtor: { id: string; label: string; ref: string };
  /** The ID token's `sub` (the person). */
  sub: string;
  /** Access token lifetime. */
  expiresIn: number;
  /** Refreshes are refused (invalid_grant), as after a withdrawal. */
  refuseRefresh?: boolean;
  /** The JARM response is signed with another key (a forgery). */
  forgeJarm?: boolean;
}

export interface StubFapi {
  issuer: LocalIssuer;
  clientId: string;
  privateJwk: PrivateEcJwk;
  decision: Decision;
  /** The verified request objects pushed, in order. */
  requestObjects: JWTPayload[];
  /** Grants revoked through DELETE /grants/{id}. */
  revokedGrants: string[];
  refreshes: number;
  /** Follows the app's redirect to /authorize the way a browser would, and returns the app's callback URL. */
  authorize(location: string): Promise<string>;
  close(): Promise<void>;
}

interface Code { params: JWTPayload; jkt: string; grantId: string; used: boolean }

/**
 * A stand-in for Sekisho's FAPI 2.0 Message Signing side, checking what the fintech must send:
 * private_key_jwt, PAR with only a request object signed by the client's key (and a DPoP proof
 * that binds the code), PKCE S256, `response_mode=jwt`; the response as a signed JARM JWT; codes
 * redeemed with the same DPoP key; refresh and client credentials bound the same way; Grant
 * Management's DELETE ends the grant's tokens. Tokens are opaque and introspectable (local-issuer),
 * so the real bank API accepts them.
 */
export async function startStubFapi(options: { bankAudience: string; redirectUri?: string; decision?: Partial<Decision> }): Promise<StubFapi> {
  const issuer = await startLocalIssuer();
  const clientId = 'fintech-example';
  const { privateJwk, publicKey: clientPublic } = await testClientKey('fintech-test');
  const forger = await generateKeyPair('ES256');
  const pushed = new Map<string, { params: JWTPayload; jkt: string }>();
  const codes = new Map<string, Code>();
  const refreshTokens = new Map<string, { jkt: string; grantId: string; details: unknown[]; sub: string }>();
  const managementTokens = new Map<string, string>();
  const base = issuer.issuer;

  issuer.metadata.pushed_authorization_request_endpoint = `${base}/par`;
  issuer.metadata.authorization_endpoint = `${base}/authorize`;
  issuer.metadata.grant_management_endpoint = `${base}/grants`;
  issuer.metadata.authorization_signing_alg_values_supported = ['ES256'];
  issuer.metadata.id_token_signing_alg_values_supported = ['ES256'];

  const stub: StubFapi = {
    issuer, clientId, privateJwk, requestObjects: [], revokedGrants: [], refreshes: 0,
    decision: {
      outcome: 'allow', accounts: [{ id: randomUUID(), label: '普通 ****4567 (Everyday, fictional)', ref: '0001-001-1234567' }],
      debtor: { id: randomUUID(), label: '普通 ****4567 (Everyday, fictional)', ref: '0001-001-1234567' },
      sub: 'account-hanako', expiresIn: 300, ...options.decision,
    },
    async authorize(location) {
      const response = await fetch(location, { redirect: 'manual' });
      await response.body?.cancel();
      if (response.status !== 303) throw new Error(`authorize answered ${response.status}`);
      return response.headers.get('location')!;
    },
    close: () => issuer.close(),
  };

  const clientAuthenticated = (params: URLSearchParams) => clientAssertionOk(params, { clientId, publicKey: clientPublic, audience: base });
  /** The DPoP proof's key thumbprint, when the proof is good for this method and URL (and token). */
  const dpopJkt = async (req: IncomingMessage, htm: string, htu: string, accessToken?: string) => (await dpopProofKey(req, htm, htu, accessToken))?.jkt;
  async function tokens(params: { jkt: string; grantId: string; details: unknown[]; sub: string; nonce?: unknown; refresh: boolean }) {
    const d = stub.decision;
    const accessToken = issuer.mint({ client_id: clientId, sub: params.sub, aud: options.bankAudience, cnf: { jkt: params.jkt }, authorization_details: params.details as Array<Record<string, unknown>>, grant_id: params.grantId }, { expiresIn: d.expiresIn });
    const now = Math.floor(Date.now() / 1000);
    const idToken = await issuer.sign({ iss: base, aud: clientId, sub: params.sub, iat: now, exp: now + 300, ...(params.nonce ? { nonce: params.nonce } : {}) });
    let refreshToken: string | undefined;
    if (params.refresh) {
      refreshToken = randomBytes(32).toString('base64url');
      refreshTokens.set(refreshToken, { jkt: params.jkt, grantId: params.grantId, details: params.details, sub: params.sub });
    }
    return { access_token: accessToken, token_type: 'DPoP', expires_in: d.expiresIn, id_token: idToken, grant_id: params.grantId, authorization_details: params.details, ...(refreshToken ? { refresh_token: refreshToken } : {}) };
  }

  issuer.routes.set('/par', async (req, res) => {
    const params = await readFormBody(req);
    if (!(await clientAuthenticated(params))) return sendJson(res, 401, { error: 'invalid_client' });
    if ([...params.keys()].some((k) => !['client_id', 'request', 'client_assertion', 'client_assertion_type'].includes(k))) return sendJson(res, 400, { error: 'invalid_request', error_description: 'parameters outside the request object' });
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(params.get('request') ?? '', clientPublic, { issuer: clientId, audience: base, typ: 'oauth-authz-req+jwt', requiredClaims: ['exp', 'iat', 'nbf', 'jti'] }));
    } catch {
      return sendJson(res, 400, { error: 'invalid_request_object' });
    }
    if (claims.response_mode !== 'jwt' || claims.code_challenge_method !== 'S256' || typeof claims.code_challenge !== 'string' || claims.resource !== options.bankAudience) {
      return sendJson(res, 400, { error: 'invalid_request' });
    }
    const jkt = await dpopJkt(req, 'POST', `${base}/par`);
    if (!jkt) return sendJson(res, 400, { error: 'invalid_dpop_proof' });
    stub.requestObjects.push(claims);
    const requestUri = `urn:ietf:params:oauth:request_uri:${randomBytes(16).toString('base64url')}`;
    pushed.set(requestUri, { params: claims, jkt });
    sendJson(res, 201, { request_uri: requestUri, expires_in: 60 });
  });

  issuer.routes.set('/authorize', async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    const request = pushed.get(url.searchParams.get('request_uri') ?? '');
    if (!request || url.searchParams.get('client_id') !== clientId) return sendJson(res, 400, { error: 'invalid_request_uri' });
    pushed.delete(url.searchParams.get('request_uri')!);
    const p = request.params;
    const now = Math.floor(Date.now() / 1000);
    const jarm: JWTPayload = { iss: base, aud: clientId, exp: now + 60, state: p.state };
    if (stub.decision.outcome === 'deny') Object.assign(jarm, { error: 'access_denied' });
    else {
      const code = randomBytes(16).toString('base64url');
      codes.set(code, { params: p, jkt: request.jkt, grantId: randomUUID(), used: false });
      jarm.code = code;
    }
    const response = stub.decision.forgeJarm
      ? await new SignJWT(jarm).setProtectedHeader({ alg: 'ES256', kid: 'forged' }).sign(forger.privateKey)
      : await issuer.sign(jarm);
    res.writeHead(303, { location: `${String(p.redirect_uri)}?response=${response}` });
    res.end();
  });

  issuer.routes.set('/token', async (req, res) => {
    const params = await readFormBody(req);
    if (!(await clientAuthenticated(params))) return sendJson(res, 401, { error: 'invalid_client' });
    const jkt = await dpopJkt(req, 'POST', `${base}/token`);
    if (!jkt) return sendJson(res, 400, { error: 'invalid_dpop_proof' });
    const grantType = params.get('grant_type');
    if (grantType === 'authorization_code') {
      const code = codes.get(params.get('code') ?? '');
      if (!code || code.used || code.jkt !== jkt) return sendJson(res, 400, { error: 'invalid_grant' });
      code.used = true;
      const challenge = createHash('sha256').update(params.get('code_verifier') ?? '').digest('base64url');
      if (challenge !== code.params.code_challenge || params.get('redirect_uri') !== code.params.redirect_uri) return sendJson(res, 400, { error: 'invalid_grant' });
      // issueRequestObject puts authorization_details in the request object as JSON, not as a string.
      const asked = code.params.authorization_details as Array<Record<string, unknown>>;
      const d = stub.decision;
      const granted = asked.map((x) => (x.type === 'account_information' ? { ...x, accounts: d.accounts } : { ...x, debtor_account: d.debtor }));
      const ongoing = String(code.params.scope).split(' ').includes('offline_access');
      return sendJson(res, 200, await tokens({ jkt, grantId: code.grantId, details: granted, sub: d.sub, nonce: code.params.nonce, refresh: ongoing }));
    }
    if (grantType === 'refresh_token') {
      stub.refreshes += 1;
      const held = refreshTokens.get(params.get('refresh_token') ?? '');
      if (!held || held.jkt !== jkt || stub.decision.refuseRefresh || stub.revokedGrants.includes(held.grantId)) return sendJson(res, 400, { error: 'invalid_grant' });
      const fresh = await tokens({ ...held, jkt, refresh: false });
      return sendJson(res, 200, { ...fresh, id_token: undefined });
    }
    if (grantType === 'client_credentials' && params.get('scope') === 'grant_management_revoke') {
      const token = randomBytes(32).toString('base64url');
      managementTokens.set(token, jkt);
      return sendJson(res, 200, { access_token: token, token_type: 'DPoP', expires_in: 300, scope: 'grant_management_revoke' });
    }
    return sendJson(res, 400, { error: 'unsupported_grant_type' });
  });

  issuer.routes.set('/grants/', async (req, res) => {
    const grantId = decodeURIComponent(new URL(req.url ?? '/', base).pathname.slice('/grants/'.length));
    const token = /^DPoP (\S+)$/.exec(String(req.headers.authorization))?.[1] ?? '';
    const jkt = managementTokens.get(token);
    if (req.method !== 'DELETE' || !jkt || (await dpopJkt(req, 'DELETE', `${base}/grants/${grantId}`, token)) !== jkt) {
      res.writeHead(401, { 'www-authenticate': 'DPoP error="invalid_token"' });
      return void res.end();
    }
    stub.revokedGrants.push(grantId);
    issuer.revokeGrant(grantId);
    res.writeHead(204);
    res.end();
  });

  return stub;
}
