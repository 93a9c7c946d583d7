/**
 * Behind a TLS-terminating proxy: the client certificate arrives in a header, and is believed only
 * when the request comes from a configured trusted proxy address (and, for tls_client_auth, the
 * proxy says it verified the chain).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { startTestServer, type TestServer } from './support/server.ts';
import { createTestCa, type Issued } from './support/pki.ts';
import { registerClient } from '../src/protocol/client-registration.ts';
import { createClientsRepository } from '../src/storage/clients-repo.ts';
import { X509Certificate } from 'node:crypto';

const RESOURCE = 'https://api.example.com';

async function setUp(trustedProxies: string[]) {
  const server = await startTestServer({
    behindProxy: true,
    config: {
      trustProxy: true,
      mtls: { trustedProxies },
      resourceServers: [{ identifier: RESOURCE, scopes: ['accounts'], accessTokenFormat: 'opaque' }],
    },
  });
  const ca = await createTestCa('Proxy Test CA');
  const cert = await ca.issue('CN=proxy-client,O=Sekisho Test');
  await registerClient(server.app.provider, createClientsRepository(server.app.storage.db), {
    client_id: 'proxy-client', token_endpoint_auth_method: 'tls_client_auth',
    tls_client_auth_subject_dn: new X509Certificate(cert.certPem).subject.split('\n').reverse().join(','),
    tls_client_certificate_bound_access_tokens: true, grant_types: ['client_credentials'],
  }).catch(async (err: unknown) => { await server.close(); throw err; });
  return { server, cert };
}

/** Plays the proxy: sends to the plain-HTTP listener with the certificate and verify result in headers. */
function viaProxy(server: TestServer, cert: Issued | undefined, verified = 'SUCCESS'): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    url.protocol = 'http:';
    url.hostname = '127.0.0.1';
    const headers = new Headers(init?.headers);
    headers.set('x-forwarded-proto', 'https');
    headers.set('x-forwarded-host', `localhost:${server.port}`);
    if (cert) {
      headers.set('x-ssl-client-cert', encodeURIComponent(cert.certPem));
      headers.set('x-ssl-client-verify', verified);
    }
    return fetch(url, { ...init, headers });
  }) as typeof fetch;
}

async function clientCredentials(server: TestServer, cert: Issued | undefined, verified?: string) {
  const options = { [oauth.customFetch]: viaProxy(server, cert, verified) };
  const issuer = new URL(server.issuer);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, options));
  const client = { client_id: 'proxy-client', use_mtls_endpoint_aliases: true };
  return { as, client, response: await oauth.clientCredentialsGrantRequest(as, client, oauth.TlsClientAuth(), { resource: RESOURCE, scope: 'accounts' }, options) };
}

describe('mTLS through a trusted proxy', () => {
  let server: TestServer;
  let cert: Issued;
  before(async () => ({ server, cert } = await setUp(['127.0.0.1'])));
  after(() => server?.close());

  it('authenticates tls_client_auth from the proxy header and binds the token to that certificate', async () => {
    const { as, client, response } = await clientCredentials(server, cert);
    const tokens = await oauth.processClientCredentialsResponse(as, client, response);
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    const introspection = await oauth.processIntrospectionResponse(as, client,
      await oauth.introspectionRequest(as, client, oauth.TlsClientAuth(), tokens.access_token, { [oauth.customFetch]: viaProxy(server, cert) }));
    assert.equal(introspection.active, true);
    assert.equal((introspection.cnf as Record<string, string>)['x5t#S256'], cert.thumbprint);
  });

  it('refuses a certificate the proxy did not verify (tls_client_auth needs a verified chain)', async () => {
    const { response } = await clientCredentials(server, cert, 'FAILED:unable to verify');
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_client');
  });

  it('refuses a request without a certificate', async () => {
    const { response } = await clientCredentials(server, undefined);
    assert.equal(response.status, 401);
  });
});

describe('mTLS header from an untrusted peer', () => {
  let server: TestServer;
  let cert: Issued;
  before(async () => ({ server, cert } = await setUp(['192.0.2.10'])));
  after(() => server?.close());

  it('ignores the certificate header when the peer is not a trusted proxy', async () => {
    const { response } = await clientCredentials(server, cert);
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_client');
  });
});
