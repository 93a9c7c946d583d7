/**
 * Certificate-bound tokens (RFC 8705 §3, fapi2.md R2/T2) with real X.509 certificates: given as
 * PEM, DER or a proxy's URL-encoded PEM, and over a real TLS connection through the Node adapter.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { createResourceServer, certificateThumbprint, ResourceServerError } from '../src/index.ts';
import { peerCertificate, toWebRequest } from '../src/node.ts';
import { createTestCa, createSelfSignedClientCert, type Issued } from '../../server/test/support/pki.ts';
import { AUDIENCE, ISSUER, accessToken, apiRequest, dpopKey, issuerKey, proof } from './support/tokens.ts';
import { refused } from './support/expect.ts';

const issuer = await issuerKey();
const rs = createResourceServer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [issuer.publicJwk as never] } });
const ca = await createTestCa('Resource Server Test CA');
const client = await ca.issue('CN=client-1,O=Test');
const other = await ca.issue('CN=client-2,O=Test');
const mtlsToken = (cert: Issued = client) => accessToken(issuer, { cnf: { 'x5t#S256': cert.thumbprint } });
const bearer = (token: string) => apiRequest({ authorization: `Bearer ${token}` });
const invalidToken = { error: 'invalid_token', scheme: 'Bearer' } as const;

describe('R2: mTLS-bound tokens (cnf x5t#S256) need the certificate they are bound to', () => {
  it('control: the bound certificate as PEM, as DER and URL-encoded (a proxy header) is accepted', async () => {
    const token = await mtlsToken();
    const der = new Uint8Array(new X509Certificate(client.certPem).raw);
    for (const clientCertificate of [client.certPem, der, encodeURIComponent(client.certPem)]) {
      const access = await rs.verify(bearer(token), { clientCertificate });
      assert.deepEqual(access.binding, { kind: 'mtls', x5tS256: client.thumbprint });
    }
    assert.equal(await certificateThumbprint(client.certPem), client.thumbprint);
  });

  it('control: a self-signed client certificate binds as well (RFC 8705 §3 does not need a CA)', async () => {
    const selfSigned = await createSelfSignedClientCert('CN=self');
    await rs.verify(bearer(await mtlsToken(selfSigned)), { clientCertificate: selfSigned.certPem });
  });

  it('R2 ERR_CERTIFICATE_MISSING: no certificate (or an empty one) → 401 invalid_token with a Bearer challenge', async () => {
    const token = await mtlsToken();
    for (const clientCertificate of [undefined, '', new Uint8Array()]) {
      const e = await refused(rs.verify(bearer(token), clientCertificate === undefined ? {} : { clientCertificate }), 'ERR_CERTIFICATE_MISSING', invalidToken);
      assert.ok(!e.headers['www-authenticate']!.includes('algs='), 'a Bearer-only challenge');
    }
    const e = await refused(rs.verify(bearer(token)), 'ERR_CERTIFICATE_MISSING', invalidToken);
    assert.equal(e.headers['www-authenticate'], 'Bearer error="invalid_token", error_description="The access token is bound to a client certificate that was not presented"');
  });

  it('R2 ERR_CERTIFICATE_MISMATCH: another certificate from the same CA, or something that is not a certificate', async () => {
    const token = await mtlsToken();
    await refused(rs.verify(bearer(token), { clientCertificate: other.certPem }), 'ERR_CERTIFICATE_MISMATCH', invalidToken);
    for (const junk of ['-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----', 'hello', '%E0%A4%A']) {
      await refused(rs.verify(bearer(token), { clientCertificate: junk }), 'ERR_CERTIFICATE_MISMATCH', invalidToken);
    }
  });

  it('R2 ERR_WRONG_SCHEME: an mTLS-bound token sent with the DPoP scheme → a Bearer challenge', async () => {
    const token = await mtlsToken();
    const key = await dpopKey();
    const e = await refused(rs.verify(apiRequest({ authorization: `DPoP ${token}`, dpop: await proof(key, token) }), { clientCertificate: client.certPem }), 'ERR_WRONG_SCHEME', invalidToken);
    assert.equal(e.headers['www-authenticate'], 'Bearer error="invalid_token", error_description="The access token was sent with the wrong authentication scheme"');
  });

  it('a token bound both to a DPoP key and a certificate needs both', async () => {
    const key = await dpopKey();
    const token = await accessToken(issuer, { cnf: { jkt: key.jkt, 'x5t#S256': client.thumbprint } });
    const request = async () => apiRequest({ authorization: `DPoP ${token}`, dpop: await proof(key, token) });
    await refused(rs.verify(await request()), 'ERR_CERTIFICATE_MISSING', invalidToken);
    await refused(rs.verify(await request(), { clientCertificate: other.certPem }), 'ERR_CERTIFICATE_MISMATCH', invalidToken);
    const access = await rs.verify(await request(), { clientCertificate: client.certPem });
    assert.equal(access.binding.kind, 'dpop');
  });
});

describe('R2 over real TLS: peerCertificate() hands the connection\'s certificate to verify()', () => {
  let server: Server;
  let port: number;
  const seen: Array<{ status: number; code?: string }> = [];

  before(async () => {
    const serverCert = await ca.issue('CN=localhost', { server: true, dns: ['localhost'] });
    server = createServer({ cert: serverCert.certPem, key: serverCert.keyPem, ca: ca.caPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const request = toWebRequest(req, { publicUrl: AUDIENCE });
      const clientCertificate = peerCertificate(req);
      rs.verify(request, clientCertificate ? { clientCertificate } : {}).then((access) => {
        seen.push({ status: 200 });
        res.end(access.binding.kind);
      }, (error: unknown) => {
        assert.ok(error instanceof ResourceServerError);
        seen.push({ status: error.status, code: error.code });
        res.writeHead(error.status, error.headers as Record<string, string>).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function call(token: string, cert: Issued | undefined): Promise<{ status: number; body: string; challenge: string | undefined }> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest({
        host: '127.0.0.1', port, servername: 'localhost', path: '/accounts', ca: ca.caPem,
        ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}), headers: { authorization: `Bearer ${token}` },
      }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => { body += c.toString(); });
        res.on('end', () => resolve({ status: res.statusCode!, body, challenge: res.headers['www-authenticate'] }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('the bound certificate → 200; another certificate → 401 ERR_CERTIFICATE_MISMATCH; none → 401 ERR_CERTIFICATE_MISSING', async () => {
    const token = await mtlsToken();
    assert.deepEqual(await call(token, client), { status: 200, body: 'mtls', challenge: undefined });
    const wrong = await call(token, other);
    assert.equal(wrong.status, 401);
    assert.match(wrong.challenge ?? '', /^Bearer error="invalid_token"/);
    const none = await call(token, undefined);
    assert.equal(none.status, 401);
    assert.deepEqual(seen.map((s) => s.code), [undefined, 'ERR_CERTIFICATE_MISMATCH', 'ERR_CERTIFICATE_MISSING']);
  });
});
