import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import type { Dispatcher } from 'undici';
import type { TestClient } from './clients.ts';

/** Hand-made protocol requests for negative tests, where a real client library would refuse to send them. */
export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface Reply { status: number; headers: Headers; body: Record<string, unknown> }

/** POSTs a form without following redirects; the body is parsed as JSON when it is JSON. */
export async function postForm(url: string, form: Record<string, string>, dispatcher: Dispatcher, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(url, {
    method: 'POST', dispatcher, redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers },
    body: new URLSearchParams(form).toString(),
  } as RequestInit);
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try { body = JSON.parse(text) as Record<string, unknown>; } catch { body = { raw: text }; }
  return { status: res.status, headers: res.headers, body };
}

export const kidOf = (tc: TestClient) => String((tc.metadata.jwks as { keys: Array<{ kid: string }> }).keys[0]!.kid);
export const now = () => Math.floor(Date.now() / 1000);

export interface AuthRequest { params: Record<string, string>; verifier: string }

/** A correct pushed authorization request for `tc`; `extra` overrides, `omit` removes parameters. */
export async function authRequest(tc: TestClient, extra: Record<string, string> = {}, omit: string[] = []): Promise<AuthRequest> {
  const verifier = oauth.generateRandomCodeVerifier();
  const params: Record<string, string> = {
    client_id: tc.clientId, response_type: 'code', redirect_uri: tc.redirectUri, scope: 'openid',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    state: oauth.generateRandomState(), nonce: oauth.generateRandomNonce(), ...extra,
  };
  for (const k of omit) delete params[k];
  return { params, verifier };
}

/** A private_key_jwt client assertion (RFC 7523; FAPI 2.0: aud = the issuer). */
export async function clientAssertion(server: { issuer: string }, tc: TestClient): Promise<Record<string, string>> {
  const issuedAt = now();
  const jwt = await new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: kidOf(tc) })
    .setIssuer(tc.clientId).setSubject(tc.clientId).setAudience(server.issuer)
    .setIssuedAt(issuedAt).setExpirationTime(issuedAt + 60)
    .sign(tc.privateKey);
  return { client_assertion_type: ASSERTION_TYPE, client_assertion: jwt };
}
