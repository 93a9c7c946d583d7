/**
 * What the SDK benchmark verifies, made before any clock starts: an issuer key and its inline
 * JWKS, RFC 9068 access tokens (DPoP-bound and certificate-bound), DPoP proofs (one fresh proof
 * per verification, since the replay store is on), the Web Requests that carry them, and a local
 * introspection stub for the opaque arms.
 */
import { createServer, type Server } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { createSelfSignedClientCert } from '../../packages/server/test/support/pki.ts';

export const ISSUER = 'https://sekisho.bench.example';
export const AUDIENCE = 'https://api.bench.example/';
export const API_URL = 'https://api.bench.example/accounts';

export interface Fixtures {
  jwks: { keys: JWK[] };
  /** The one DPoP-bound JWT every JWT arm (and the baseline) verifies. */
  dpopToken: string;
  /** A certificate-bound JWT and the DER certificate it is bound to. */
  mtlsToken: string;
  certificateDer: Uint8Array;
  opaqueToken: string;
  /** `count` requests for `token`, each with its own fresh proof. */
  dpopRequests(token: string, count: number): Promise<Request[]>;
  /** `count` requests, each with its own freshly signed DPoP-bound JWT and proof. */
  freshTokenRequests(count: number): Promise<Request[]>;
  mtlsRequest(): Request;
  introspection: IntrospectionStub;
  close(): Promise<void>;
}

export interface IntrospectionStub {
  endpoint: string;
  clientId: string;
  privateKey: CryptoKey;
  /** Introspection requests answered so far. */
  calls: number;
}

const now = () => Math.floor(Date.now() / 1000);

export async function createFixtures(runSeconds: number): Promise<Fixtures> {
  const issuerKeys = await generateKeyPair('ES256', { extractable: true });
  const kid = 'bench-1';
  const jwks = { keys: [{ ...(await exportJWK(issuerKeys.publicKey)), kid, alg: 'ES256', use: 'sig' }] };
  const dpop = await generateKeyPair('ES256', { extractable: true });
  const dpopJwk = await exportJWK(dpop.publicKey);
  const jkt = await calculateJwkThumbprint(dpopJwk);
  // Tokens outlive the whole run (a real one lives 300 s; the claims are Sekisho's).
  const lifetime = Math.ceil(runSeconds) + 600;

  const signToken = (cnf: Record<string, string>) => new SignJWT({ client_id: 'bench-client', scope: 'accounts payments', cnf })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
    .setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('person-1').setJti(randomUUID())
    .setIssuedAt().setExpirationTime(now() + lifetime)
    .sign(issuerKeys.privateKey);

  const ath = async (token: string) => Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))).toString('base64url');
  const proof = async (token: string, tokenHash: string) => new SignJWT({ htm: 'GET', htu: API_URL, ath: tokenHash })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: dpopJwk })
    .setJti(randomUUID()).setIssuedAt()
    .sign(dpop.privateKey);
  const request = (token: string, dpopProof: string) => new Request(API_URL, { headers: { authorization: `DPoP ${token}`, dpop: dpopProof } });

  const certificate = await createSelfSignedClientCert('CN=bench-client');
  const certificateDer = new Uint8Array(Buffer.from(certificate.certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));

  const dpopToken = await signToken({ jkt });
  const mtlsToken = await signToken({ 'x5t#S256': certificate.thumbprint });
  const opaqueToken = randomBytes(32).toString('base64url');
  const introspection = await startIntrospectionStub(jkt, lifetime);

  return {
    jwks, dpopToken, mtlsToken, certificateDer, opaqueToken, introspection: introspection.stub,
    async dpopRequests(token, count) {
      const hash = await ath(token);
      const out: Request[] = [];
      for (let i = 0; i < count; i++) out.push(request(token, await proof(token, hash)));
      return out;
    },
    async freshTokenRequests(count) {
      const out: Request[] = [];
      for (let i = 0; i < count; i++) {
        const token = await signToken({ jkt });
        out.push(request(token, await proof(token, await ath(token))));
      }
      return out;
    },
    mtlsRequest: () => new Request(API_URL, { headers: { authorization: `Bearer ${mtlsToken}` } }),
    close: introspection.close,
  };
}

/**
 * An introspection endpoint on a local port answering every token as an active DPoP-bound access
 * token for the API. It does not verify the client assertion: it stands in for an AS on another
 * machine, and its own CPU would otherwise be charged to the SDK in this one process.
 */
async function startIntrospectionStub(jkt: string, lifetime: number): Promise<{ stub: IntrospectionStub; close: () => Promise<void> }> {
  const client = await generateKeyPair('ES256', { extractable: true });
  const exp = now() + lifetime;
  const answer = JSON.stringify({
    active: true, iss: ISSUER, aud: AUDIENCE, client_id: 'bench-client', sub: 'person-1', scope: 'accounts payments',
    token_type: 'DPoP', exp, iat: now(), cnf: { jkt },
  });
  const stub: IntrospectionStub = { endpoint: '', clientId: 'bench-api', privateKey: client.privateKey, calls: 0 };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      stub.calls++;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(answer);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}/introspect`;
  return {
    stub,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
