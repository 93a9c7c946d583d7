import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { calculateJwkThumbprint, EmbeddedJWK, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import type { ClientPrivateJwk } from '../client-key.ts';

/*
 * Pieces of the stub authorization servers the examples' tests run (a FAPI code flow, CIBA):
 * what they check the way Sekisho does, so the apps' clients meet the same refusals.
 */

/** A test client's key: the private JWK to give the app, and the public key to verify its JWTs with. */
export async function testClientKey(kid: string): Promise<{ privateJwk: ClientPrivateJwk; publicKey: CryptoKey }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' } as ClientPrivateJwk, publicKey };
}

/** A request's urlencoded body, whole (a test's stub trusts its size). */
export async function readFormBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

/** A JSON answer (or an empty one, without `body`), never cached. */
export function sendJson(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), 'cache-control': 'no-store', ...headers });
  res.end(body !== undefined ? JSON.stringify(body) : undefined);
}

/**
 * private_key_jwt (RFC 7523): a client assertion signed with the client's key, iss = sub =
 * client_id, aud = the issuer, with exp and jti; a client_id sent beside it must be the same.
 */
export async function clientAssertionOk(params: URLSearchParams, client: { clientId: string; publicKey: CryptoKey; audience: string }): Promise<boolean> {
  if (params.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return false;
  try {
    const { payload } = await jwtVerify(params.get('client_assertion') ?? '', client.publicKey, {
      issuer: client.clientId, subject: client.clientId, audience: client.audience, requiredClaims: ['exp', 'jti'],
    });
    return params.get('client_id') === null || params.get('client_id') === payload.iss;
  } catch {
    return false;
  }
}

/**
 * The request's DPoP proof (RFC 9449 §4.3): its key's thumbprint and the nonce it carries, or
 * undefined when there is no valid ES256 proof for this method and URL (and this access token).
 */
export async function dpopProofKey(req: IncomingMessage, htm: string, htu: string, accessToken?: string): Promise<{ jkt: string; nonce?: unknown } | undefined> {
  try {
    const { payload, protectedHeader } = await jwtVerify(String(req.headers.dpop), EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'], requiredClaims: ['iat', 'jti'] });
    if (payload.htm !== htm || payload.htu !== htu) return undefined;
    if (accessToken !== undefined && payload.ath !== createHash('sha256').update(accessToken).digest('base64url')) return undefined;
    return { jkt: await calculateJwkThumbprint(protectedHeader.jwk!), nonce: payload.nonce };
  } catch {
    return undefined;
  }
}
