import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen } from '@sekisho/example-kit/testing/listen';
import { readFormBody } from '@sekisho/example-kit/testing/stub-server';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';

export interface OpaqueClaims {
  client_id?: string;
  sub?: string;
  aud?: string | string[];
  cnf?: Record<string, unknown>;
  authorization_details?: Array<Record<string, unknown>>;
  exp?: number;
  grant_id?: string;
  [claim: string]: unknown;
}

export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface LocalIssuer {
  issuer: string;
  /** Routes added by a test (a stub authorization server's endpoints), by path. */
  routes: Map<string, Route>;
  /** Extra members of the discovery document. */
  metadata: Record<string, unknown>;
  /** Any JWT signed with the issuer's key (an ID token, a JARM response). */
  sign(claims: JWTPayload, typ?: string): Promise<string>;
  /** The bank API's client: its id and private key, to give createBankApi. */
  bankClient: { clientId: string; privateKey: CryptoKey; kid: string };
  /** Introspection calls so far. */
  introspections: number;
  /** When set, introspection answers this status (an issuer in trouble). */
  failIntrospection?: number;
  /** An opaque token (random, as Sekisho's) the issuer will call active with these claims until it expires or is revoked. */
  mint(claims: OpaqueClaims, options?: { expiresIn?: number }): string;
  revoke(token: string): void;
  /** Every token of a grant stops being active (what Grant Management's DELETE does). */
  revokeGrant(grantId: string): void;
  close(): Promise<void>;
}

/**
 * A tiny authorization server for the bank API's tests: a discovery document, a JWKS, and an
 * introspection endpoint (RFC 7662) that authenticates the bank's client with private_key_jwt
 * and answers with a signed JWT (RFC 9701), as Sekisho does for a Message Signing-capable client.
 */
export async function startLocalIssuer(): Promise<LocalIssuer> {
  const signing = await generateKeyPair('ES256', { extractable: true });
  const kid = randomUUID();
  const jwks = { keys: [{ ...(await exportJWK(signing.publicKey)), kid, alg: 'ES256', use: 'sig' } as JWK] };
  const bank = await generateKeyPair('ES256', { extractable: true });
  const bankPublic = await importJWK({ ...(await exportJWK(bank.publicKey)), alg: 'ES256' }, 'ES256');
  const bankClientId = 'bank-api';
  const tokens = new Map<string, OpaqueClaims & { exp: number; iat: number }>();
  const listening = await listen();
  const issuer = listening.origin;

  const routes = new Map<string, Route>();
  const metadata: Record<string, unknown> = {};
  const self: LocalIssuer = {
    issuer, routes, metadata,
    sign: (claims, typ = 'JWT') => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ, kid }).sign(signing.privateKey),
    bankClient: { clientId: bankClientId, privateKey: bank.privateKey, kid: 'bank-key-1' },
    introspections: 0,
    mint(claims, options = {}) {
      const token = randomBytes(32).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      tokens.set(token, { client_id: 'fintech', sub: 'account-hanako', iat: now, exp: now + (options.expiresIn ?? 300), ...claims } as OpaqueClaims & { exp: number; iat: number });
      return token;
    },
    revoke: (token) => { tokens.delete(token); },
    revokeGrant: (grantId) => { for (const [t, c] of tokens) if (c.grant_id === grantId) tokens.delete(t); },
    close: () => listening.close(),
  };

  const json = (res: ServerResponse, status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };

  listening.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    if (path === '/.well-known/openid-configuration') {
      return json(res, 200, { issuer, jwks_uri: `${issuer}/jwks`, token_endpoint: `${issuer}/token`, introspection_endpoint: `${issuer}/introspect`, ...metadata });
    }
    if (path === '/jwks') return json(res, 200, jwks);
    const route = routes.get(path) ?? [...routes].find(([prefix]) => prefix.endsWith('/') && path.startsWith(prefix))?.[1];
    if (route) return void Promise.resolve(route(req, res)).catch((err: unknown) => { res.writeHead(500); res.end(String(err)); });
    if (path !== '/introspect' || req.method !== 'POST') { res.writeHead(404); res.end(); return; }
    void (async () => {
      self.introspections += 1;
      if (self.failIntrospection) return json(res, self.failIntrospection, { error: 'server_error' });
      const params = await readFormBody(req);
      try {
        await jwtVerify(params.get('client_assertion') ?? '', bankPublic, { issuer: bankClientId, subject: bankClientId, audience: issuer, requiredClaims: ['exp', 'jti'] });
      } catch {
        return json(res, 401, { error: 'invalid_client' });
      }
      const claims = tokens.get(params.get('token') ?? '');
      const now = Math.floor(Date.now() / 1000);
      const answer = claims && claims.exp > now ? { active: true, iss: issuer, token_type: 'DPoP', ...claims } : { active: false };
      if (req.headers.accept !== 'application/token-introspection+jwt') return json(res, 200, answer);
      const jwt = await new SignJWT({ token_introspection: answer })
        .setProtectedHeader({ alg: 'ES256', typ: 'token-introspection+jwt', kid })
        .setIssuer(issuer).setAudience(bankClientId).setIssuedAt().sign(signing.privateKey);
      res.writeHead(200, { 'content-type': 'application/token-introspection+jwt' });
      res.end(jwt);
    })().catch((err: unknown) => { res.writeHead(500); res.end(String(err)); });
  });
  return self;
}
