import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen } from '@sekisho/example-kit/testing/listen';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';

export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface LocalIssuer {
  issuer: string;
  jwks: { keys: JWK[] };
  /** Routes added by a test (e.g. a stub CIBA endpoint), by path. */
  routes: Map<string, Route>;
  /** Extra members of the discovery document. */
  metadata: Record<string, unknown>;
  /** Requests for the JWKS so far. */
  jwksRequests: number;
  /** An RFC 9068 access token (typ at+jwt) signed with the issuer's key; any claim can be replaced. */
  mintAccessToken(claims: JWTPayload, options?: { typ?: string; expiresIn?: number; signWith?: CryptoKey }): Promise<string>;
  /** Any JWT signed with the issuer's key (an ID token). */
  sign(claims: JWTPayload, typ?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * A tiny authorization server for tests: an ES256 key, its JWKS, a discovery document, and the
 * routes a test adds. Enough for a resource server to verify tokens it mints.
 */
export async function startLocalIssuer(): Promise<LocalIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomUUID();
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] };
  const routes = new Map<string, Route>();
  const metadata: Record<string, unknown> = {};
  const listening = await listen();
  const issuer = listening.origin;

  const self: LocalIssuer = {
    issuer, jwks, routes, metadata, jwksRequests: 0,
    async mintAccessToken(claims, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ client_id: 'clinic', jti: randomUUID(), sub: 'account-1', iss: issuer, iat: now, exp: now + (options.expiresIn ?? 300), ...claims })
        .setProtectedHeader({ alg: 'ES256', typ: options.typ ?? 'at+jwt', kid })
        .sign(options.signWith ?? privateKey);
    },
    sign: (claims, typ = 'JWT') => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ, kid }).sign(privateKey),
    close: () => listening.close(),
  };

  listening.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    const json = (body: unknown) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    if (path === '/.well-known/openid-configuration') {
      return json({
        issuer, jwks_uri: `${issuer}/jwks`, token_endpoint: `${issuer}/token`,
        id_token_signing_alg_values_supported: ['ES256'], dpop_signing_alg_values_supported: ['ES256'], ...metadata,
      });
    }
    if (path === '/jwks') { self.jwksRequests += 1; return json(jwks); }
    const route = routes.get(path);
    if (route) return void Promise.resolve(route(req, res)).catch((err: unknown) => { res.writeHead(500); res.end(String(err)); });
    res.writeHead(404);
    res.end();
  });
  return self;
}
