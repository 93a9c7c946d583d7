import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientPrivateJwk } from '@sekisho/example-kit/client-key';
import { clientAssertionOk, dpopProofKey, readFormBody, sendJson, testClientKey } from '@sekisho/example-kit/testing/stub-server';
import { startLocalIssuer, type LocalIssuer } from './local-issuer.ts';

export interface CodeFlowScenario {
  /** What the person does on the consent screen. */
  outcome: 'approve' | 'deny';
  /** The patient they pick for every fhir_record_access detail. */
  patient: { id: string; label: string; ref?: string };
  /** Scopes they leave unticked. */
  withheldScopes?: string[];
  /** "Ongoing access": a refresh token (with offline_access). False: "just this once". */
  ongoing: boolean;
  /** Answer the first PAR with use_dpop_nonce. */
  dpopNonce?: boolean;
}

interface Grant { id: string; sub: string; scope: string; details: Array<Record<string, unknown>>; active: boolean }

export interface StubCodeFlow {
  issuer: LocalIssuer;
  clientId: string;
  clientPrivateJwk: ClientPrivateJwk;
  scenario: CodeFlowScenario;
  /** The PAR bodies received (client authentication removed). */
  pushed: Array<Record<string, string>>;
  /** Token requests by grant type, in order. */
  tokenRequests: Array<{ grantType: string; jkt: string }>;
  /** DELETE /grants/{id} calls and their answers. */
  revocations: Array<{ grantId: string; status: number }>;
  grants: Map<string, Grant>;
  /** The person withdraws the grant at the authorization server (My consents). */
  withdraw(grantId: string): void;
  close(): Promise<void>;
}

const NONCE = 'server-nonce-7';
const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');

/**
 * A stand-in for Sekisho's side of the code flow, checking what a FAPI 2.0 client must send:
 * PAR only (the authorization endpoint takes nothing but client_id and request_uri), PKCE S256,
 * private_key_jwt, DPoP at PAR and at the token endpoint with the same key, a refresh with that
 * key, `iss` in the authorization response (RFC 9207). Grant Management's DELETE needs a
 * client-credentials token with `grant_management_revoke`, DPoP-bound, with a proof for the URL.
 * The "person" at /authorize approves or denies as the scenario says, without a page.
 */
export async function startStubCodeFlow(options: { healthAudience: string; redirectUri: string; scenario: CodeFlowScenario }): Promise<StubCodeFlow> {
  const issuer = await startLocalIssuer();
  const clientId = 'portal-example';
  const { privateJwk: clientPrivateJwk, publicKey: clientPublic } = await testClientKey('portal-2026');
  const requests = new Map<string, { params: Record<string, string>; jkt: string; expiresAt: number }>();
  const codes = new Map<string, { params: Record<string, string>; jkt: string; grant: Grant }>();
  const refreshTokens = new Map<string, { grant: Grant; jkt: string }>();
  const managementTokens = new Map<string, { jkt: string; scope: string }>();
  let nonceAsked = false;

  Object.assign(issuer.metadata, {
    pushed_authorization_request_endpoint: `${issuer.issuer}/par`,
    authorization_endpoint: `${issuer.issuer}/authorize`,
    require_pushed_authorization_requests: true,
    authorization_response_iss_parameter_supported: true,
    grant_management_endpoint: `${issuer.issuer}/grants`,
    code_challenge_methods_supported: ['S256'],
  });

  const stub: StubCodeFlow = {
    issuer, clientId, clientPrivateJwk, scenario: options.scenario, pushed: [], tokenRequests: [], revocations: [], grants: new Map(),
    withdraw(grantId) { const g = stub.grants.get(grantId); if (g) g.active = false; },
    close: () => issuer.close(),
  };

  const clientAuthenticated = (params: URLSearchParams) => clientAssertionOk(params, { clientId, publicKey: clientPublic, audience: issuer.issuer });

  issuer.routes.set('/par', async (req, res) => {
    const params = await readFormBody(req);
    if (!(await clientAuthenticated(params))) return sendJson(res, 401, { error: 'invalid_client' });
    const proof = await dpopProofKey(req, 'POST', `${issuer.issuer}/par`);
    if (!proof) return sendJson(res, 400, { error: 'invalid_dpop_proof' });
    if (stub.scenario.dpopNonce && !nonceAsked) { nonceAsked = true; return sendJson(res, 400, { error: 'use_dpop_nonce' }, { 'DPoP-Nonce': NONCE }); }
    const p = Object.fromEntries([...params].filter(([k]) => !k.startsWith('client_assertion')));
    stub.pushed.push(p);
    const fails = p.response_type !== 'code' || p.redirect_uri !== options.redirectUri || p.code_challenge_method !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(p.code_challenge ?? '')
      || !p.state || !p.nonce || p.resource !== options.healthAudience || 'request_uri' in p;
    if (fails) return sendJson(res, 400, { error: 'invalid_request' });
    const requestUri = `urn:ietf:params:oauth:request_uri:${randomBytes(16).toString('base64url')}`;
    requests.set(requestUri, { params: p, jkt: proof.jkt, expiresAt: Date.now() + 60_000 });
    sendJson(res, 201, { request_uri: requestUri, expires_in: 60 });
  });

  issuer.routes.set('/authorize', (req, res) => {
    const url = new URL(req.url ?? '/', issuer.issuer);
    const keys = [...url.searchParams.keys()].sort();
    const pushed = requests.get(url.searchParams.get('request_uri') ?? '');
    if (keys.join() !== 'client_id,request_uri' || !pushed || pushed.expiresAt < Date.now() || url.searchParams.get('client_id') !== clientId) {
      return sendJson(res, 400, { error: 'invalid_request' });
    }
    requests.delete(url.searchParams.get('request_uri')!);
    const back = new URL(pushed.params.redirect_uri!);
    back.searchParams.set('state', pushed.params.state!);
    back.searchParams.set('iss', issuer.issuer);
    const s = stub.scenario;
    if (s.outcome === 'deny') {
      back.searchParams.set('error', 'access_denied');
    } else {
      const scope = (pushed.params.scope ?? '').split(' ').filter((x) => !(s.withheldScopes ?? []).includes(x) && (x !== 'offline_access' || s.ongoing)).join(' ');
      const details = (JSON.parse(pushed.params.authorization_details ?? '[]') as Array<Record<string, unknown>>).map((d) => ({ ...d, patient: s.patient }));
      const grant: Grant = { id: randomBytes(32).toString('base64url'), sub: 'account-taro', scope, details, active: true };
      addGrant(grant);
      const code = randomBytes(16).toString('base64url');
      codes.set(code, { params: pushed.params, jkt: pushed.jkt, grant });
      back.searchParams.set('code', code);
    }
    res.writeHead(303, { location: back.href });
    res.end();
  });

  async function tokens(grant: Grant, jkt: string, nonce?: string) {
    const now = Math.floor(Date.now() / 1000);
    const scope = grant.scope.split(' ').filter((x) => x.startsWith('patient/')).join(' ');
    const accessToken = await issuer.mintAccessToken({
      aud: options.healthAudience, client_id: clientId, sub: grant.sub, cnf: { jkt }, scope, authorization_details: grant.details, grant_id: grant.id,
    });
    return {
      access_token: accessToken, token_type: 'DPoP', expires_in: 300, scope, authorization_details: grant.details, grant_id: grant.id,
      ...(nonce ? { id_token: await issuer.sign({ iss: issuer.issuer, aud: clientId, sub: grant.sub, nonce, iat: now, exp: now + 300, auth_time: now }) } : {}),
    };
  }

  issuer.routes.set('/token', async (req, res) => {
    const params = await readFormBody(req);
    if (!(await clientAuthenticated(params))) return sendJson(res, 401, { error: 'invalid_client' });
    const proof = await dpopProofKey(req, 'POST', `${issuer.issuer}/token`);
    if (!proof) return sendJson(res, 400, { error: 'invalid_dpop_proof' });
    const grantType = params.get('grant_type') ?? '';
    stub.tokenRequests.push({ grantType, jkt: proof.jkt });

    if (grantType === 'authorization_code') {
      const code = codes.get(params.get('code') ?? '');
      codes.delete(params.get('code') ?? '');
      if (!code || params.get('redirect_uri') !== code.params.redirect_uri || sha256(params.get('code_verifier') ?? '') !== code.params.code_challenge) {
        return sendJson(res, 400, { error: 'invalid_grant' });
      }
      // FAPI 2.0 with DPoP: the key of the PAR is the key of the tokens (dpop_jkt binding).
      if (proof.jkt !== code.jkt) return sendJson(res, 400, { error: 'invalid_dpop_proof' });
      const body: Record<string, unknown> = await tokens(code.grant, proof.jkt, code.params.nonce);
      if (code.grant.scope.split(' ').includes('offline_access')) {
        const refresh = randomBytes(32).toString('base64url');
        refreshTokens.set(refresh, { grant: code.grant, jkt: proof.jkt });
        body.refresh_token = refresh;
      }
      return sendJson(res, 200, body);
    }
    if (grantType === 'refresh_token') {
      const held = refreshTokens.get(params.get('refresh_token') ?? '');
      if (!held || !held.grant.active) return sendJson(res, 400, { error: 'invalid_grant' });
      if (held.jkt !== proof.jkt || params.get('resource') !== options.healthAudience) return sendJson(res, 400, { error: 'invalid_request' });
      return sendJson(res, 200, await tokens(held.grant, proof.jkt));
    }
    if (grantType === 'client_credentials') {
      if (params.get('resource') !== null) return sendJson(res, 400, { error: 'invalid_target' });
      const token = randomBytes(32).toString('base64url');
      managementTokens.set(token, { jkt: proof.jkt, scope: params.get('scope') ?? '' });
      return sendJson(res, 200, { access_token: token, token_type: 'DPoP', expires_in: 300, scope: params.get('scope') });
    }
    sendJson(res, 400, { error: 'unsupported_grant_type' });
  });

  issuer.routes.set('/grants', (_req, res) => sendJson(res, 404, { error: 'not_found' }));
  const grantsRoute = async (req: IncomingMessage, res: ServerResponse, grantId: string) => {
    const answer = (status: number, body?: unknown, headers?: Record<string, string>) => { stub.revocations.push({ grantId, status }); sendJson(res, status, body, headers); };
    if (req.method !== 'DELETE') return answer(405, { error: 'invalid_request' });
    const token = /^DPoP (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const held = token ? managementTokens.get(token) : undefined;
    if (!token || !held) return answer(401, { error: 'invalid_token' }, { 'www-authenticate': 'DPoP error="invalid_token"' });
    const proof = await dpopProofKey(req, 'DELETE', `${issuer.issuer}/grants/${grantId}`, token);
    if (!proof || proof.jkt !== held.jkt) return answer(401, { error: 'invalid_dpop_proof' }, { 'www-authenticate': 'DPoP error="invalid_dpop_proof"' });
    if (!held.scope.split(' ').includes('grant_management_revoke')) return answer(403, { error: 'insufficient_scope' }, { 'www-authenticate': 'DPoP error="insufficient_scope"' });
    const grant = stub.grants.get(grantId);
    if (!grant?.active) return answer(404, { error: 'invalid_grant_id' });
    grant.active = false;
    answer(204);
  };
  /** The local issuer routes by exact path: a route per grant, added as grants are made. */
  function addGrant(grant: Grant): void {
    stub.grants.set(grant.id, grant);
    issuer.routes.set(`/grants/${grant.id}`, (req, res) => grantsRoute(req, res, grant.id));
  }
  return stub;
}
