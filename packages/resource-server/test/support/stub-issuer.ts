/**
 * A stand-in authorization server on a local port: discovery, a JWKS that tests rotate, and an
 * introspection endpoint (RFC 7662, and RFC 9701 JWT answers) that checks the API's
 * private_key_jwt assertion the way an AS must. It counts requests so tests can assert caching.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { jwtVerify, SignJWT, type JWK } from 'jose';
import type { IssuerKeyPair } from './tokens.ts';

export interface StubIssuer {
  issuer: string;
  /** Keys served at /jwks (change it to rotate). */
  keys: JWK[];
  /** The issuer key that signs RFC 9701 answers. */
  signingKey: IssuerKeyPair;
  /** Introspection answers by token; unknown tokens are inactive. */
  answers: Map<string, Record<string, unknown>>;
  /** The API client allowed to introspect, with the public key its assertions must verify with. */
  client: { clientId: string; publicKey: CryptoKey } | undefined;
  /** 'up', '500' (every endpoint answers 500) or 'hang' (never answers). */
  mode: 'up' | '500' | 'hang';
  counts: { discovery: number; jwks: number; introspection: number };
  /** Why the last introspection request was refused, if it was. */
  lastRefusal: string | undefined;
  /** Overrides for the RFC 9701 JWT (header and payload members; undefined removes). */
  jwtAnswerOverrides: { header?: Record<string, unknown>; payload?: Record<string, unknown>; signWith?: CryptoKey };
  close(): Promise<void>;
}

export async function startStubIssuer(signingKey: IssuerKeyPair): Promise<StubIssuer> {
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const stub: StubIssuer = {
    issuer, keys: [signingKey.publicJwk], signingKey, answers: new Map(), client: undefined, mode: 'up',
    counts: { discovery: 0, jwks: 0, introspection: 0 }, lastRefusal: undefined, jwtAnswerOverrides: {},
    close: () => new Promise<void>((resolve) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', issuer).pathname;
    if (path === '/.well-known/openid-configuration') stub.counts.discovery++;
    if (path === '/jwks') stub.counts.jwks++;
    if (path === '/introspect') stub.counts.introspection++;
    if (stub.mode === 'hang') {
      hanging.push(res);
      return;
    }
    if (stub.mode === '500') {
      res.writeHead(500).end();
      return;
    }
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (path === '/.well-known/openid-configuration') return json(200, { issuer, jwks_uri: `${issuer}/jwks`, introspection_endpoint: `${issuer}/introspect` });
    if (path === '/jwks') return json(200, { keys: stub.keys });
    if (path === '/introspect' && req.method === 'POST') {
      let body = '';
      for await (const chunk of req) body += String(chunk);
      const form = new URLSearchParams(body);
      const refusal = await checkClientAuthentication(form);
      stub.lastRefusal = refusal;
      if (refusal) return json(401, { error: 'invalid_client' });
      const answer = stub.answers.get(form.get('token') ?? '') ?? { active: false };
      if (req.headers.accept === 'application/token-introspection+jwt') {
        const { header = {}, payload = {}, signWith } = stub.jwtAnswerOverrides;
        const claims: Record<string, unknown> = { iss: issuer, aud: stub.client!.clientId, iat: Math.floor(Date.now() / 1000), token_introspection: answer, ...payload };
        const protectedHeader: Record<string, unknown> = { alg: 'ES256', kid: signingKey.kid, typ: 'token-introspection+jwt', ...header };
        for (const o of [claims, protectedHeader]) for (const [k, v] of Object.entries(o)) if (v === undefined) delete o[k];
        const jwt = await new SignJWT(claims).setProtectedHeader(protectedHeader as { alg: string }).sign(signWith ?? signingKey.privateKey);
        res.writeHead(200, { 'content-type': 'application/token-introspection+jwt' }).end(jwt);
        return;
      }
      return json(200, answer);
    }
    res.writeHead(404).end();
  }

  /** RFC 7523 §3 as an AS checks it: iss = sub = client_id, aud = issuer, signed by the client's key. */
  async function checkClientAuthentication(form: URLSearchParams): Promise<string | undefined> {
    if (!stub.client) return 'no client registered';
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return 'client_assertion_type';
    if (form.get('client_id') !== stub.client.clientId) return 'client_id';
    if (form.get('token_type_hint') !== 'access_token') return 'token_type_hint';
    try {
      const { payload } = await jwtVerify(form.get('client_assertion') ?? '', stub.client.publicKey, { issuer: stub.client.clientId, subject: stub.client.clientId, audience: issuer, maxTokenAge: 120 });
      if (typeof payload.jti !== 'string' || typeof payload.exp !== 'number') return 'jti/exp';
      if (Array.isArray(payload.aud)) return 'aud must be a string';
    } catch (error) {
      return `assertion: ${String(error)}`;
    }
    return undefined;
  }

  return stub;
}
