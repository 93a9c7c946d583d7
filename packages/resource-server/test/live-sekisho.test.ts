/**
 * The SDK against a live Sekisho (HTTPS with the test PKI): real tokens from the client
 * credentials grant, obtained by oauth4webapi with DPoP and with an mTLS-bound client, verified
 * the way an API would — an RFC 9068 JWT API verified offline with the issuer's JWKS, an opaque API
 * through introspection (plain and RFC 9701) as one of its `introspectionClients`.
 *
 * Imports are relative (the server package is private; its test support imports server code).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpsServer, type Server } from 'node:https';
import * as oauth from 'oauth4webapi';
import { startTestServer, type TestServer } from '../../server/test/support/server.ts';
import { registerTestClient, type TestClient } from '../../server/test/support/clients.ts';
import { createResourceServer, type ResourceServer, type ResourceServerOptions } from '../src/index.ts';
import { peerCertificate, toWebRequest } from '../src/node.ts';
import { apiRequest } from './support/tokens.ts';
import { clientRequest } from './support/oauth-client.ts';
import { refused } from './support/expect.ts';

const JWT_API = 'https://jwt-api.example.com';
const OPAQUE_API = 'https://opaque-api.example.com';
/** An opaque API whose tokens the opaque API's introspection clients may not see. */
const PRIVATE_API = 'https://private-api.example.com';
const INTROSPECTOR = 'opaque-api';
const INTROSPECTOR_JWT = 'opaque-api-signed';

let server: TestServer;
let dpopClient: TestClient;
let mtlsClient: TestClient;
let otherMtlsClient: TestClient;
let introspector: TestClient;
let jwtIntrospector: TestClient;
let as: oauth.AuthorizationServer;
/** The SDK's fetch: trusts the test CA (as an API would be given a private CA). */
let sdkFetch: typeof fetch;

const kidOf = (tc: TestClient) => String((tc.metadata.jwks as { keys: Array<{ kid: string }> }).keys[0]!.kid);

before(async () => {
  server = await startTestServer({
    config: {
      resourceServers: [
        { identifier: JWT_API, scopes: ['accounts', 'payments'], accessTokenFormat: 'jwt' },
        { identifier: OPAQUE_API, scopes: ['records'], accessTokenFormat: 'opaque', introspectionClients: [INTROSPECTOR, INTROSPECTOR_JWT] },
        { identifier: PRIVATE_API, scopes: ['private'], accessTokenFormat: 'opaque' },
      ],
    },
  });
  const cc = ['client_credentials'];
  [dpopClient, mtlsClient, otherMtlsClient] = await Promise.all([
    registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop', grantTypes: cc }),
    registerTestClient(server, { auth: 'tls_client_auth', binding: 'mtls', grantTypes: cc }),
    registerTestClient(server, { auth: 'tls_client_auth', binding: 'mtls', grantTypes: cc }),
  ]);
  // The opaque API's own clients at Sekisho (private_key_jwt), named in introspectionClients.
  introspector = { ...(await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop', grantTypes: cc, metadata: { client_id: INTROSPECTOR } })), clientId: INTROSPECTOR };
  jwtIntrospector = {
    ...(await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop', grantTypes: cc, metadata: { client_id: INTROSPECTOR_JWT, introspection_signed_response_alg: 'ES256' } })),
    clientId: INTROSPECTOR_JWT,
  };
  const dispatcher = server.dispatcher();
  sdkFetch = ((url: string, init?: RequestInit) => fetch(url, { ...init, dispatcher } as RequestInit)) as typeof fetch;
  const issuer = new URL(server.issuer);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, dpopClient.options));
});
after(() => server?.close());

/** A client_credentials token for `resource`, DPoP-bound (dpop clients) or certificate-bound (mTLS clients). */
async function token(tc: TestClient, resource: string, scope: string): Promise<string> {
  const DPoP = tc.dpopKeys ? oauth.DPoP(tc.client, tc.dpopKeys) : undefined;
  const response = await oauth.clientCredentialsGrantRequest(as, tc.client, tc.clientAuth, { resource, scope }, { ...tc.options, ...(DPoP ? { DPoP } : {}) });
  const tokens = await oauth.processClientCredentialsResponse(as, tc.client, response);
  assert.equal(tokens.token_type, DPoP ? 'dpop' : 'bearer');
  return tokens.access_token;
}

function sdk(audience: string, options: Partial<ResourceServerOptions> = {}): ResourceServer {
  return createResourceServer({ issuer: server.issuer, audience, fetch: sdkFetch, ...options });
}

describe('a JWT API (accessTokenFormat jwt) verifying Sekisho tokens offline', () => {
  it('a DPoP-bound token and oauth4webapi\'s proof → verified, with Sekisho\'s claims', async () => {
    const rs = sdk(JWT_API);
    const accessToken = await token(dpopClient, JWT_API, 'accounts');
    const dpop = oauth.DPoP(dpopClient.client, dpopClient.dpopKeys!);
    const call = await clientRequest(rs, accessToken, dpop, { url: `${JWT_API}/accounts`, verify: { scopes: ['accounts'] } });
    assert.equal(call.response.status, 200, call.error?.code);
    const access = call.access!;
    assert.equal(access.token, 'jwt');
    assert.equal(access.claims.iss, server.issuer);
    assert.equal(access.claims.client_id, dpopClient.clientId);
    assert.deepEqual(access.scopes, ['accounts']);
    assert.deepEqual(access.binding, { kind: 'dpop', jkt: await dpop.calculateThumbprint() });
  });

  it('ERR_WRONG_AUDIENCE: the same token at an API it was not issued for', async () => {
    const accessToken = await token(dpopClient, JWT_API, 'accounts');
    const call = await clientRequest(sdk('https://another-api.example.com'), accessToken, oauth.DPoP(dpopClient.client, dpopClient.dpopKeys!), { url: `${JWT_API}/accounts` });
    assert.equal(call.error?.code, 'ERR_WRONG_AUDIENCE');
    assert.equal(call.response.status, 401);
    assert.equal(call.challenges[0]?.parameters.error, 'invalid_token');
  });

  it('ERR_INSUFFICIENT_SCOPE: a token for accounts at an endpoint that needs payments', async () => {
    const accessToken = await token(dpopClient, JWT_API, 'accounts');
    const call = await clientRequest(sdk(JWT_API), accessToken, oauth.DPoP(dpopClient.client, dpopClient.dpopKeys!), { url: `${JWT_API}/payments`, verify: { scopes: ['payments'] } });
    assert.equal(call.error?.code, 'ERR_INSUFFICIENT_SCOPE');
    assert.equal(call.response.status, 403);
    assert.equal(call.challenges[0]?.parameters.scope, 'payments');
  });

  it('ERR_WRONG_SCHEME / ERR_DPOP_KEY_MISMATCH: the DPoP-bound token as Bearer, or with another key\'s proof', async () => {
    const accessToken = await token(dpopClient, JWT_API, 'accounts');
    await refused(sdk(JWT_API).verify(apiRequest({ authorization: `Bearer ${accessToken}` }, `${JWT_API}/accounts`)), 'ERR_WRONG_SCHEME', { error: 'invalid_token', scheme: 'DPoP' });
    const thief = oauth.DPoP(dpopClient.client, await oauth.generateKeyPair('ES256'));
    const call = await clientRequest(sdk(JWT_API), accessToken, thief, { url: `${JWT_API}/accounts` });
    assert.equal(call.error?.code, 'ERR_DPOP_KEY_MISMATCH');
  });

  it('an mTLS-bound token (obtained over HTTPS with the client\'s certificate): right certificate → verified; another → ERR_CERTIFICATE_MISMATCH; none → ERR_CERTIFICATE_MISSING', async () => {
    const rs = sdk(JWT_API);
    const accessToken = await token(mtlsClient, JWT_API, 'accounts');
    const request = () => apiRequest({ authorization: `Bearer ${accessToken}` }, `${JWT_API}/accounts`);
    const access = await rs.verify(request(), { clientCertificate: mtlsClient.cert!.certPem });
    assert.deepEqual(access.binding, { kind: 'mtls', x5tS256: mtlsClient.cert!.thumbprint });
    await refused(rs.verify(request(), { clientCertificate: otherMtlsClient.cert!.certPem }), 'ERR_CERTIFICATE_MISMATCH', { error: 'invalid_token', scheme: 'Bearer' });
    await refused(rs.verify(request()), 'ERR_CERTIFICATE_MISSING', { error: 'invalid_token', scheme: 'Bearer' });
  });
});

describe('an opaque API (accessTokenFormat opaque) introspecting as one of its introspectionClients', () => {
  const introspecting = (tc: TestClient, jwtResponse = false, cacheSeconds = 0) => sdk(OPAQUE_API, {
    introspection: { clientId: tc.clientId, privateKey: tc.privateKey, kid: kidOf(tc), jwtResponse, cacheSeconds },
  });

  it('a DPoP-bound opaque token → verified through introspection (plain JSON and RFC 9701 JWT answers)', async () => {
    for (const rs of [introspecting(introspector), introspecting(jwtIntrospector, true)]) {
      const accessToken = await token(dpopClient, OPAQUE_API, 'records');
      const dpop = oauth.DPoP(dpopClient.client, dpopClient.dpopKeys!);
      const call = await clientRequest(rs, accessToken, dpop, { url: `${OPAQUE_API}/records`, verify: { scopes: ['records'] } });
      assert.equal(call.response.status, 200, `${call.error?.code} ${String((call.error?.cause as Error | undefined)?.message)}`);
      assert.equal(call.access!.token, 'opaque');
      assert.equal(call.access!.claims.client_id, dpopClient.clientId);
      assert.deepEqual(call.access!.binding, { kind: 'dpop', jkt: await dpop.calculateThumbprint() });
    }
  });

  it('ERR_TOKEN_INACTIVE: after the client revokes its token (RFC 7009)', async () => {
    const rs = introspecting(introspector);
    const accessToken = await token(dpopClient, OPAQUE_API, 'records');
    const dpop = oauth.DPoP(dpopClient.client, dpopClient.dpopKeys!);
    assert.equal((await clientRequest(rs, accessToken, dpop, { url: `${OPAQUE_API}/records` })).response.status, 200);
    const revocation = await oauth.revocationRequest(as, dpopClient.client, dpopClient.clientAuth, accessToken, dpopClient.options);
    await oauth.processRevocationResponse(revocation);
    const call = await clientRequest(rs, accessToken, dpop, { url: `${OPAQUE_API}/records` });
    assert.equal(call.error?.code, 'ERR_TOKEN_INACTIVE');
    assert.equal(call.response.status, 401);
    assert.equal(call.challenges[0]?.parameters.error, 'invalid_token');
  });

  it('an mTLS-bound opaque token: verified with its certificate; ERR_WRONG_AUDIENCE at an API it was not issued for', async () => {
    const accessToken = await token(mtlsClient, OPAQUE_API, 'records');
    const access = await introspecting(introspector).verify(apiRequest({ authorization: `Bearer ${accessToken}` }, `${OPAQUE_API}/records`), { clientCertificate: mtlsClient.cert!.certPem });
    assert.deepEqual(access.binding, { kind: 'mtls', x5tS256: mtlsClient.cert!.thumbprint });
    const elsewhere = sdk('https://another-api.example.com', { introspection: { clientId: INTROSPECTOR, privateKey: introspector.privateKey, kid: kidOf(introspector) } });
    await refused(elsewhere.verify(apiRequest({ authorization: `Bearer ${accessToken}` }, 'https://another-api.example.com/records'), { clientCertificate: mtlsClient.cert!.certPem }), 'ERR_WRONG_AUDIENCE', { error: 'invalid_token', scheme: 'Bearer' });
  });

  it('ERR_TOKEN_INACTIVE: Sekisho shows an API\'s introspection client only tokens for that API (fapi2.md I1)', async () => {
    const accessToken = await token(dpopClient, PRIVATE_API, 'private');
    const call = await clientRequest(sdk(PRIVATE_API, { introspection: { clientId: INTROSPECTOR, privateKey: introspector.privateKey, kid: kidOf(introspector) } }),
      accessToken, oauth.DPoP(dpopClient.client, dpopClient.dpopKeys!), { url: `${PRIVATE_API}/x` });
    assert.equal(call.error?.code, 'ERR_TOKEN_INACTIVE');
  });
});

describe('over HTTPS end to end: an API on node:https that reads the client certificate from the TLS connection', () => {
  let api: Server;
  let apiUrl: string;
  before(async () => {
    const pki = server.pki!;
    const rs = sdk(JWT_API);
    api = createHttpsServer({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const clientCertificate = peerCertificate(req);
      rs.verify(toWebRequest(req, { publicUrl: JWT_API }), { scopes: ['accounts'], ...(clientCertificate ? { clientCertificate } : {}) }).then(
        (access) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ client: access.claims.client_id })),
        (error: { status: number; headers: Record<string, string> }) => res.writeHead(error.status, error.headers).end(),
      );
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    apiUrl = `https://localhost:${(api.address() as { port: number }).port}/accounts`;
  });
  after(() => new Promise<void>((resolve) => api.close(() => resolve())));

  it('the bound client\'s own TLS connection → 200; the same token over another client\'s connection → 401', async () => {
    const accessToken = await token(mtlsClient, JWT_API, 'accounts');
    const own = await fetch(apiUrl, { headers: { authorization: `Bearer ${accessToken}` }, dispatcher: mtlsClient.dispatcher } as RequestInit);
    assert.equal(own.status, 200);
    assert.deepEqual(await own.json(), { client: mtlsClient.clientId });
    const stolen = await fetch(apiUrl, { headers: { authorization: `Bearer ${accessToken}` }, dispatcher: otherMtlsClient.dispatcher } as RequestInit);
    assert.equal(stolen.status, 401);
    assert.match(stolen.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
  });
});
