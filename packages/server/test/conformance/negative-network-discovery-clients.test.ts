/**
 * Negative conformance tests for fapi2.md sections N (network, cryptography), D (discovery) and
 * C (clients and client authentication). Every test names its rule ID and asserts what a client
 * or the OpenID conformance suite observes from outside. Requests real clients would never send
 * are hand-made with fetch + jose; a positive control sits beside each refusal so that a refusal
 * for the wrong reason cannot pass. PAR and the authorization response: negative-par-authorization.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { connect } from 'node:tls';
import * as oauth from 'oauth4webapi';
import { decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { Dispatcher } from 'undici';
import { startTestServer, type TestServer } from '../support/server.ts';
import { registerTestClient, REDIRECT_URI, type TestClient } from '../support/clients.ts';
import { discover, runCodeFlow, type FlowResult } from '../support/flow.ts';
import { createUserAgent, type UserAgent } from '../support/user-agent.ts';
import { createSelfSignedClientCert } from '../support/pki.ts';
import { createTestUser, type TestUser } from '../support/users.ts';
import { ASSERTION_TYPE, authRequest, kidOf, now, postForm, type Reply } from '../support/requests.ts';
import { registerClient, ClientRegistrationError } from '../../src/protocol/client-registration.ts';
import { createClientsRepository } from '../../src/storage/clients-repo.ts';

const FAPI_ALGS = new Set(['PS256', 'ES256', 'EdDSA']);
const PAR_URN = 'urn:ietf:params:oauth:request_uri:';

let server: TestServer;
let user: TestUser;
let as: oauth.AuthorizationServer;
let meta: Record<string, unknown>;
/** private_key_jwt × DPoP, the main client; `ua` holds its signed-in session and consent. */
let pkj: TestClient;
let other: TestClient;
let tls: TestClient;
let ua: UserAgent;
let first: FlowResult;

before(async () => {
  server = await startTestServer();
  user = await createTestUser(server);
  [pkj, other, tls] = await Promise.all([
    registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' }),
    registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' }),
    registerTestClient(server, { auth: 'tls_client_auth', binding: 'mtls' }),
  ]);
  as = await discover(server, pkj);
  meta = as as unknown as Record<string, unknown>;
  ua = createUserAgent(server.dispatcher(), server.issuer);
  first = await runCodeFlow(server, pkj, { username: user.username, password: user.password }, {}, ua);
});
after(() => server.close());

// ---------------------------------------------------------------------------------------------
// Hand-made requests



/** A client assertion (RFC 7523) for `tc`; `claims` override the correct defaults (undefined removes). */
async function clientAssertion(tc: TestClient, claims: Record<string, unknown> = {}, header: { alg?: string; kid?: string; key?: CryptoKey | KeyObject } = {}): Promise<string> {
  const payload = { iss: tc.clientId, sub: tc.clientId, aud: server.issuer, jti: randomUUID(), iat: now(), exp: now() + 60, ...claims };
  return new SignJWT(payload).setProtectedHeader({ alg: header.alg ?? 'ES256', kid: header.kid ?? kidOf(tc) }).sign(header.key ?? tc.privateKey);
}


/** POST /par authenticated as `tc` (client assertion unless given, or mTLS through tc.dispatcher). */
async function par(tc: TestClient, params: Record<string, string>, auth: { assertion?: string | null; headers?: Record<string, string>; dispatcher?: Dispatcher } = {}): Promise<Reply> {
  const form = { ...params };
  if (tc.metadata.token_endpoint_auth_method === 'private_key_jwt' && auth.assertion !== null) {
    form.client_assertion_type = ASSERTION_TYPE;
    form.client_assertion = auth.assertion ?? await clientAssertion(tc);
  }
  return postForm(as.pushed_authorization_request_endpoint!, form, auth.dispatcher ?? tc.dispatcher, auth.headers);
}

/** A token request with a bogus code: 400 invalid_grant proves the client authenticated, 401 that it did not. */
async function tokenWithAssertion(tc: TestClient, assertion: string, extra: Record<string, string> = {}): Promise<Reply> {
  return postForm(as.token_endpoint!, {
    grant_type: 'authorization_code', code: 'not-a-real-code', redirect_uri: tc.redirectUri, code_verifier: oauth.generateRandomCodeVerifier(),
    client_assertion_type: ASSERTION_TYPE, client_assertion: assertion, ...extra,
  }, tc.dispatcher);
}

async function pushed(tc: TestClient, extra: Record<string, string> = {}, omit: string[] = []) {
  const req = await authRequest(tc, extra, omit);
  const res = await par(tc, req.params);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { ...req, requestUri: String(res.body.request_uri), expiresIn: Number(res.body.expires_in) };
}

const authUrl = (clientId: string, requestUri: string, extra: Record<string, string> = {}) =>
  `${as.authorization_endpoint}?${new URLSearchParams({ client_id: clientId, request_uri: requestUri, ...extra })}`;

async function dpopProof(keys: { privateKey: CryptoKey | KeyObject; publicKey: CryptoKey | KeyObject }, htm: string, htu: string, alg = 'ES256'): Promise<string> {
  return new SignJWT({ htm, htu, jti: randomUUID(), iat: now() })
    .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk: await exportJWK(keys.publicKey) }).sign(keys.privateKey);
}

async function tlsHandshake(options: Record<string, unknown>): Promise<{ ok: boolean; protocol?: string | null; cipher?: string; code?: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(new URL(server.issuer).port), servername: 'localhost', ca: server.pki!.caPem, ...options }, () => {
      resolve({ ok: true, protocol: socket.getProtocol(), cipher: socket.getCipher().name });
      socket.end();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, code: err.code }));
  });
}

/** Expects registerClient to refuse `metadata` with `error` and a description naming `field`. */
async function refused(metadata: Record<string, unknown>, error: string, field: string) {
  await assert.rejects(registerClient(server.app.provider, createClientsRepository(server.app.storage.db), metadata), (err: unknown) => {
    assert.ok(err instanceof ClientRegistrationError, String(err));
    assert.equal(err.error, error, err.message);
    assert.ok(err.message.includes(field), `description names ${field}: ${err.message}`);
    return true;
  });
}

async function fapiMetadata(extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const { publicKey } = await generateKeyPair('ES256', { extractable: true });
  return {
    client_id: `reg-${randomBytes(6).toString('hex')}`, token_endpoint_auth_method: 'private_key_jwt', redirect_uris: [REDIRECT_URI],
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', use: 'sig' }] }, dpop_bound_access_tokens: true, ...extra,
  };
}

// ---------------------------------------------------------------------------------------------

describe('N: network and cryptography', () => {
  it('N1: TLS 1.1 and TLS 1.0 handshakes are refused by the server (protocol_version alert)', async () => {
    for (const version of ['TLSv1.1', 'TLSv1']) {
      const r = await tlsHandshake({ minVersion: version, maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0' });
      assert.equal(r.ok, false, `${version} negotiated`);
      assert.equal(r.code, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', `${version}: the server itself refuses (${r.code})`);
    }
  });

  it('N1: TLS 1.2 suites outside BCP 195 (no ECDHE, CBC, ChaCha20) are refused; ECDHE-ECDSA-AES-GCM works', async () => {
    // The test server's certificate is ECDSA, so RSA key-exchange suites could never be negotiated
    // anyway; the ECDHE-ECDSA CBC and ChaCha20 cases are the ones that exercise the listener's list.
    for (const cipher of ['AES128-SHA256', 'AES128-GCM-SHA256', 'ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES128-SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305']) {
      const r = await tlsHandshake({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: cipher });
      assert.equal(r.ok, false, `${cipher} negotiated`);
      assert.equal(r.code, 'ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE', `${cipher}: handshake_failure alert from the server (${r.code})`);
    }
    for (const cipher of ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384']) {
      const r = await tlsHandshake({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: cipher });
      assert.deepEqual([r.ok, r.protocol, r.cipher], [true, 'TLSv1.2', cipher]);
    }
    // A client preferring weak suites still gets a BCP 195 one.
    const r = await tlsHandshake({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384' });
    assert.equal(r.cipher, 'ECDHE-ECDSA-AES256-GCM-SHA384');
    assert.equal((await tlsHandshake({ minVersion: 'TLSv1.3' })).protocol, 'TLSv1.3');
  });

  it('N1: no CORS on the authorization endpoint (GET with Origin, and preflight)', async () => {
    const { requestUri } = await pushed(pkj);
    const init = { headers: { origin: 'https://evil.example' }, redirect: 'manual', dispatcher: server.dispatcher() };
    const get = await fetch(authUrl(pkj.clientId, requestUri), init as RequestInit);
    assert.equal(get.headers.get('access-control-allow-origin'), null);
    assert.equal(get.headers.get('access-control-allow-credentials'), null);
    const preflight = await fetch(as.authorization_endpoint!, { ...init, method: 'OPTIONS', headers: { ...init.headers, 'access-control-request-method': 'GET' } } as RequestInit);
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    assert.equal(preflight.headers.get('access-control-allow-methods'), null);
  });

  it('N2: every *_alg_values_supported in discovery ⊆ {PS256, ES256, EdDSA}, without none or RS256', () => {
    const lists = Object.entries(meta).filter(([k]) => k.endsWith('_alg_values_supported'));
    assert.ok(lists.length >= 6, lists.map(([k]) => k).join());
    for (const [k, v] of lists) {
      assert.ok(Array.isArray(v) && v.length > 0, k);
      for (const alg of v as string[]) assert.ok(FAPI_ALGS.has(alg), `${k} contains ${alg}`);
    }
  });

  it('N2: every server JWKS key has a kid and an allowed alg, RSA ≥ 2048 bits, EC ≥ P-256, no private parts', async () => {
    const res = await fetch(as.jwks_uri!, { dispatcher: server.dispatcher() } as RequestInit);
    const { keys } = await res.json() as { keys: Array<Record<string, string>> };
    assert.ok(keys.length > 0);
    for (const key of keys) {
      assert.ok(key.kid, `kid on ${JSON.stringify(key)}`);
      assert.ok(FAPI_ALGS.has(key.alg!), `alg ${key.alg}`);
      for (const p of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.equal(key[p], undefined, `private member ${p}`);
      if (key.kty === 'RSA') assert.ok(Buffer.from(key.n!, 'base64url').length * 8 >= 2048, 'RSA ≥ 2048');
      if (key.kty === 'EC') assert.ok(['P-256', 'P-384', 'P-521'].includes(key.crv!), key.crv);
      if (key.kty === 'OKP') assert.equal(key.crv, 'Ed25519');
    }
    assert.equal(new Set(keys.map((k) => k.kid)).size, keys.length, 'kids are unique');
  });

  it('N2: the ID token is signed with an allowed alg and a kid from the JWKS', async () => {
    const header = decodeProtectedHeader(first.tokens.id_token!);
    assert.ok(FAPI_ALGS.has(header.alg!), header.alg);
    const { keys } = await (await fetch(as.jwks_uri!, { dispatcher: server.dispatcher() } as RequestInit)).json() as { keys: Array<{ kid: string; alg: string }> };
    assert.equal(keys.find((k) => k.kid === header.kid)?.alg, header.alg, `kid ${header.kid}`);
  });

  describe('a client whose JWKS holds an RSA key without alg', () => {
    let rsa: TestClient;
    let rsaKey: KeyObject;
    before(async () => {
      // A node KeyObject, not a WebCrypto key, so one RSA key can sign both RS256 and PS256.
      const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
      rsaKey = keys.privateKey;
      const metadata = await fapiMetadata({ jwks: { keys: [{ ...keys.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', use: 'sig' }] } });
      await registerClient(server.app.provider, createClientsRepository(server.app.storage.db), metadata);
      rsa = { ...pkj, clientId: String(metadata.client_id), metadata: { ...metadata } };
    });

    it('N2: a client assertion signed with RS256 → 401 invalid_client (PS256 with the same key → 201)', async () => {
      const { params } = await authRequest(rsa);
      const rs = await par(rsa, params, { assertion: await clientAssertion(rsa, {}, { alg: 'RS256', kid: 'rsa-1', key: rsaKey }) });
      assert.deepEqual([rs.status, rs.body.error], [401, 'invalid_client'], JSON.stringify(rs.body));
      const ps = await par(rsa, params, { assertion: await clientAssertion(rsa, {}, { alg: 'PS256', kid: 'rsa-1', key: rsaKey }) });
      assert.equal(ps.status, 201, JSON.stringify(ps.body));
    });

    it('N2: a client assertion with alg none → 401 invalid_client', async () => {
      const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify({ iss: rsa.clientId, sub: rsa.clientId, aud: server.issuer, jti: randomUUID(), exp: now() + 60 })).toString('base64url')}.`;
      const res = await par(rsa, (await authRequest(rsa)).params, { assertion: unsigned });
      assert.deepEqual([res.status, res.body.error], [401, 'invalid_client'], JSON.stringify(res.body));
    });

    it('N2: a request object signed with RS256 → 400 invalid_request_object (PS256 → 201)', async () => {
      const { params } = await authRequest(rsa);
      const object = (alg: string) => new SignJWT({ ...params, iss: rsa.clientId, aud: server.issuer, nbf: now(), exp: now() + 60, jti: randomUUID() })
        .setProtectedHeader({ alg, kid: 'rsa-1', typ: 'oauth-authz-req+jwt' }).sign(rsaKey);
      const assertion = () => clientAssertion(rsa, {}, { alg: 'PS256', kid: 'rsa-1', key: rsaKey });
      const rs = await par(rsa, { client_id: rsa.clientId, request: await object('RS256') }, { assertion: await assertion() });
      assert.deepEqual([rs.status, rs.body.error], [400, 'invalid_request_object'], JSON.stringify(rs.body));
      const ps = await par(rsa, { client_id: rsa.clientId, request: await object('PS256') }, { assertion: await assertion() });
      assert.equal(ps.status, 201, JSON.stringify(ps.body));
    });
  });

  it('N2: a DPoP proof signed with RS256 at PAR → 400 invalid_dpop_proof (PS256 with the same key → 201)', async () => {
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const htu = as.pushed_authorization_request_endpoint!;
    const rs = await par(pkj, (await authRequest(pkj)).params, { headers: { dpop: await dpopProof(keys, 'POST', htu, 'RS256') } });
    assert.deepEqual([rs.status, rs.body.error], [400, 'invalid_dpop_proof'], JSON.stringify(rs.body));
    const ps = await par(pkj, (await authRequest(pkj)).params, { headers: { dpop: await dpopProof(keys, 'POST', htu, 'PS256') } });
    assert.equal(ps.status, 201, JSON.stringify(ps.body));
  });

  it('N3: request_uris, codes, access and refresh tokens carry ≥ 128 bits (≥ 22 base64url chars) and never repeat', async () => {
    const second = await runCodeFlow(server, pkj, { username: user.username, password: user.password }, {}, ua);
    const requestUris = await Promise.all([1, 2, 3, 4, 5].map(async () => (await pushed(pkj)).requestUri));
    const samples: Record<string, string[]> = {
      request_uri: requestUris.map((u) => { assert.ok(u.startsWith(PAR_URN), u); return u.slice(PAR_URN.length); }),
      code: [first, second].map((f) => new URL(f.callback).searchParams.get('code')!),
      access_token: [first, second].map((f) => f.tokens.access_token),
      refresh_token: [first, second].map((f) => f.tokens.refresh_token!),
    };
    for (const [kind, values] of Object.entries(samples)) {
      for (const v of values) {
        assert.match(v, /^[A-Za-z0-9_-]{22,}$/, `${kind} ${v}`);
        assert.ok(new Set(v).size >= 12, `${kind} ${v} uses a varied alphabet`);
      }
      assert.equal(new Set(values).size, values.length, `${kind} values are unique`);
      // A counter or timestamp would show as a long shared prefix.
      for (let i = 1; i < values.length; i++) {
        let p = 0;
        while (values[0]![p] === values[i]![p]) p++;
        assert.ok(p < 6, `${kind} values share a ${p}-char prefix`);
      }
    }
  });
  // auth_req_ids: the CIBA suite (ciba.test.ts, N3/B5) measures them.
});

describe('D: discovery', () => {
  it('D1: issuer equals the URL the metadata was fetched from, minus the well-known suffix (OIDC and RFC 8414)', async () => {
    for (const suffix of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const res = await fetch(`${server.issuer}${suffix}`, { dispatcher: server.dispatcher() } as RequestInit);
      assert.equal(res.status, 200, suffix);
      const doc = await res.json() as Record<string, unknown>;
      assert.equal(doc.issuer, server.issuer, suffix);
    }
    assert.ok(!server.issuer.endsWith('/'));
    for (const [k, v] of Object.entries(meta)) {
      if (k.endsWith('_endpoint') || k === 'jwks_uri') assert.ok(String(v).startsWith(`${server.issuer}/`), `${k}=${String(v)}`);
    }
  });

  it('D2: advertises PAR (required), code only, S256 only, iss response parameter', () => {
    assert.equal(meta.pushed_authorization_request_endpoint, `${server.issuer}/par`);
    assert.equal(meta.require_pushed_authorization_requests, true);
    assert.deepEqual(meta.response_types_supported, ['code']);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.equal(meta.authorization_response_iss_parameter_supported, true);
  });

  it('D2: only FAPI client authentication methods are advertised, on every endpoint', () => {
    const allowed = new Set(['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth']);
    assert.deepEqual([...(meta.token_endpoint_auth_methods_supported as string[])].sort(), [...allowed].sort());
    for (const [k, v] of Object.entries(meta).filter(([key]) => key.endsWith('_auth_methods_supported'))) {
      for (const m of v as string[]) assert.ok(allowed.has(m), `${k} contains ${m}`);
    }
  });

  it('D2: mTLS binding and aliases, DPoP algs advertised', () => {
    assert.equal(meta.tls_client_certificate_bound_access_tokens, true);
    const aliases = meta.mtls_endpoint_aliases as Record<string, string> | undefined;
    assert.ok(aliases, 'mtls_endpoint_aliases');
    for (const k of ['token_endpoint', 'pushed_authorization_request_endpoint']) assert.match(aliases[k] ?? '', /^https:\/\//, k);
    const dpop = meta.dpop_signing_alg_values_supported as string[];
    assert.ok(Array.isArray(dpop) && dpop.length > 0 && dpop.every((a) => FAPI_ALGS.has(a)), String(dpop));
  });
});

describe('C: clients and client authentication', () => {
  it('C1: client secrets are refused: Basic, client_secret_post, or client_id alone → 401 invalid_client', async () => {
    const { params } = await authRequest(pkj);
    const basic = await par(pkj, params, { assertion: null, headers: { authorization: `Basic ${Buffer.from(`${pkj.clientId}:secret`).toString('base64')}` } });
    assert.deepEqual([basic.status, basic.body.error], [401, 'invalid_client'], JSON.stringify(basic.body));
    const post = await par(pkj, { ...params, client_secret: 'secret' }, { assertion: null });
    assert.deepEqual([post.status, post.body.error], [401, 'invalid_client'], JSON.stringify(post.body));
    const none = await par(pkj, params, { assertion: null });
    assert.deepEqual([none.status, none.body.error], [401, 'invalid_client'], JSON.stringify(none.body));
  });

  it('C1: tls_client_auth without a certificate, with a self-signed look-alike, or another client\'s → 401 invalid_client', async () => {
    const { params } = await authRequest(tls);
    assert.equal((await par(tls, params)).status, 201, 'control: own CA-issued certificate');
    const cases: Array<[string, Dispatcher]> = [
      ['no certificate', server.dispatcher()],
      ['self-signed, same subject', server.dispatcher(await createSelfSignedClientCert(tls.cert!.subject))],
      ['CA-issued, other subject', server.dispatcher(await server.pki!.issueClient('CN=someone-else,O=Sekisho Test'))],
    ];
    for (const [label, dispatcher] of cases) {
      const res = await par(tls, params, { dispatcher });
      assert.deepEqual([res.status, res.body.error], [401, 'invalid_client'], `${label}: ${JSON.stringify(res.body)}`);
    }
  });

  it('C2: assertion aud = issuer string → accepted (control)', async () => {
    assert.equal((await par(pkj, (await authRequest(pkj)).params)).status, 201);
    assert.equal((await tokenWithAssertion(pkj, await clientAssertion(pkj))).body.error, 'invalid_grant');
  });

  it('C2: assertion aud as an array [issuer] → 401 invalid_client (PAR and token)', async () => {
    const res = await par(pkj, (await authRequest(pkj)).params, { assertion: await clientAssertion(pkj, { aud: [server.issuer] }) });
    assert.deepEqual([res.status, res.body.error], [401, 'invalid_client'], JSON.stringify(res.body));
    const tok = await tokenWithAssertion(pkj, await clientAssertion(pkj, { aud: [server.issuer] }));
    assert.deepEqual([tok.status, tok.body.error], [401, 'invalid_client'], JSON.stringify(tok.body));
  });

  it('C2: assertion aud = token endpoint URL or PAR endpoint URL → 401 invalid_client', async () => {
    for (const aud of [as.token_endpoint!, as.pushed_authorization_request_endpoint!, `${server.issuer}/`]) {
      const res = await par(pkj, (await authRequest(pkj)).params, { assertion: await clientAssertion(pkj, { aud }) });
      assert.deepEqual([res.status, res.body.error], [401, 'invalid_client'], `PAR aud=${aud}: ${JSON.stringify(res.body)}`);
      const tok = await tokenWithAssertion(pkj, await clientAssertion(pkj, { aud }));
      assert.deepEqual([tok.status, tok.body.error], [401, 'invalid_client'], `token aud=${aud}: ${JSON.stringify(tok.body)}`);
    }
  });

  it('C3: iss ≠ sub, iss/sub of another client, expired, no exp, no jti → 401 invalid_client', async () => {
    const cases: Record<string, Record<string, unknown>> = {
      'iss ≠ sub': { iss: other.clientId },
      'iss = sub = client_id = another client, signed with our key': { iss: other.clientId, sub: other.clientId },
      'exp in the past': { iat: now() - 120, exp: now() - 30 },
      'no exp': { exp: undefined },
      'no jti': { jti: undefined },
    };
    for (const [label, claims] of Object.entries(cases)) {
      const { params } = await authRequest(pkj, claims.sub ? { client_id: String(claims.sub) } : {});
      const res = await par(pkj, params, { assertion: await clientAssertion(pkj, claims) });
      assert.deepEqual([res.status, res.body.error], [401, 'invalid_client'], `${label}: ${JSON.stringify(res.body)}`);
    }
  });

  it('C3: a replayed jti → 401 invalid_client (same endpoint, and another endpoint)', async () => {
    const assertion = await clientAssertion(pkj);
    const { params } = await authRequest(pkj);
    assert.equal((await par(pkj, params, { assertion })).status, 201);
    const again = await par(pkj, params, { assertion });
    assert.deepEqual([again.status, again.body.error], [401, 'invalid_client'], JSON.stringify(again.body));
    const atToken = await tokenWithAssertion(pkj, assertion);
    assert.deepEqual([atToken.status, atToken.body.error], [401, 'invalid_client'], JSON.stringify(atToken.body));
  });

  it('C3: iat and nbf 10 s in the future are accepted', async () => {
    for (const claims of [{ iat: now() + 10 }, { nbf: now() + 10 }, { iat: now() + 10, nbf: now() + 10 }]) {
      const res = await par(pkj, (await authRequest(pkj)).params, { assertion: await clientAssertion(pkj, { ...claims, exp: now() + 120 }) });
      assert.equal(res.status, 201, `${JSON.stringify(claims)}: ${JSON.stringify(res.body)}`);
    }
  });

  it('C3: nbf more than 60 s in the future → 401 invalid_client', async () => {
    const res = await par(pkj, (await authRequest(pkj)).params, { assertion: await clientAssertion(pkj, { nbf: now() + 120, exp: now() + 180 }) });
    assert.deepEqual([res.status, res.body.error], [401, 'invalid_client'], JSON.stringify(res.body));
  });

  it('C3: iat more than 60 s in the future → 401 invalid_client', async () => {
    const res = await par(pkj, (await authRequest(pkj)).params, { assertion: await clientAssertion(pkj, { iat: now() + 120, exp: now() + 180 }) });
    assert.deepEqual([res.status, res.body.error], [401, 'invalid_client'], JSON.stringify(res.body));
  });

  it('C4: at PAR, a client_id parameter naming another client than the assertion → 401 invalid_client', async () => {
    const { params } = await authRequest(pkj, { client_id: other.clientId });
    const res = await par(pkj, params);
    assert.deepEqual([res.status, res.body.error], [401, 'invalid_client'], JSON.stringify(res.body));
  });

  it('C4: at the token endpoint, a client_id parameter naming another client than the assertion → 401 invalid_client', async () => {
    const tok = await tokenWithAssertion(pkj, await clientAssertion(pkj), { client_id: other.clientId });
    assert.deepEqual([tok.status, tok.body.error], [401, 'invalid_client'], JSON.stringify(tok.body));
  });

  it('C4: mTLS client_id naming another mTLS client than the certificate\'s → 401 invalid_client', async () => {
    const tls2 = await registerTestClient(server, { auth: 'tls_client_auth', binding: 'mtls' });
    const res = await par(tls, (await authRequest(tls, { client_id: tls2.clientId })).params);
    assert.deepEqual([res.status, res.body.error], [401, 'invalid_client'], JSON.stringify(res.body));
  });

  it('C5: registration accepts FAPI metadata (control), including an http loopback redirect URI', async () => {
    const ok = await registerClient(server.app.provider, createClientsRepository(server.app.storage.db), await fapiMetadata({ redirect_uris: [REDIRECT_URI, 'http://127.0.0.1:8080/cb'] }));
    assert.ok(ok.client_id);
  });

  it('C5: non-https redirect URIs other than loopback → invalid_redirect_uri naming redirect_uris', async () => {
    for (const uri of ['http://client.example.com/cb', 'http://127.0.0.1.example.com/cb', 'com.example.app:/cb', 'https://client.example.com/cb#frag']) {
      await refused(await fapiMetadata({ redirect_uris: [uri] }), 'invalid_redirect_uri', 'redirect_uris');
    }
  });

  it('C5: client_secret_* methods, a client_secret, or a public client → invalid_client_metadata naming the field', async () => {
    for (const method of ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'none']) {
      await refused(await fapiMetadata({ token_endpoint_auth_method: method }), 'invalid_client_metadata', 'token_endpoint_auth_method');
    }
    await refused(await fapiMetadata({ client_secret: 'shh' }), 'invalid_client_metadata', 'client_secret');
  });

  it('C5: RS256 / none anywhere → invalid_client_metadata naming the field', async () => {
    for (const field of ['token_endpoint_auth_signing_alg', 'id_token_signed_response_alg', 'request_object_signing_alg', 'authorization_signed_response_alg', 'introspection_signed_response_alg']) {
      await refused(await fapiMetadata({ [field]: 'RS256' }), 'invalid_client_metadata', field);
    }
    await refused(await fapiMetadata({ request_object_signing_alg: 'none' }), 'invalid_client_metadata', 'request_object_signing_alg');
    const base = await fapiMetadata();
    const key = (base.jwks as { keys: Array<Record<string, unknown>> }).keys[0]!;
    await refused({ ...base, jwks: { keys: [{ ...key, alg: 'RS256' }] } }, 'invalid_client_metadata', 'jwks.keys[0].alg');
  });

  it('C5: private_key_jwt without jwks/jwks_uri, short RSA keys, private keys → invalid_client_metadata naming jwks', async () => {
    const base = await fapiMetadata();
    delete base.jwks;
    await refused(base, 'invalid_client_metadata', 'jwks');
    await refused({ ...base, jwks_uri: 'http://client.example.com/jwks' }, 'invalid_client_metadata', 'jwks_uri');
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    await refused(await fapiMetadata({ jwks: { keys: [{ ...small.publicKey.export({ format: 'jwk' }), kid: 'small' }] } }), 'invalid_client_metadata', 'jwks.keys[0]');
    const big = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await refused(await fapiMetadata({ jwks: { keys: [{ ...big.privateKey.export({ format: 'jwk' }), kid: 'private' }] } }), 'invalid_client_metadata', 'jwks.keys[0]');
  });

  it('C5: response types other than code, implicit/password grants → invalid_client_metadata naming the field', async () => {
    for (const types of [['code id_token'], ['token'], ['id_token'], ['code', 'code id_token']]) {
      await refused(await fapiMetadata({ response_types: types }), 'invalid_client_metadata', 'response_types');
    }
    for (const grant of ['implicit', 'password']) {
      await refused(await fapiMetadata({ grant_types: ['authorization_code', grant] }), 'invalid_client_metadata', 'grant_types');
    }
  });
});
