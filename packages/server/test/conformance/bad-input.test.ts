/**
 * Bad input at every endpoint a stranger can reach: PAR, token, introspection, revocation,
 * UserInfo, the authorization endpoint and the sign-in / consent forms. Whatever arrives, the
 * answer is a 4xx with the right OAuth `error` (or a 4xx HTML page for browser endpoints): never a
 * 5xx, never a hang, never a stack trace, and the server keeps answering afterwards. Nothing a
 * caller sent as a credential reaches the log.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { exportJWK, SignJWT } from 'jose';
import type { Dispatcher } from 'undici';
import { startTestServer, type TestServer } from '../support/server.ts';
import { registerTestClient, type TestClient } from '../support/clients.ts';
import { consentForm } from '../support/consent-form.ts';
import { createUserAgent } from '../support/user-agent.ts';
import { createTestUser, type TestUser } from '../support/users.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const FORM = 'application/x-www-form-urlencoded';
const MB = 1024 * 1024;

let server: TestServer;
let user: TestUser;
let pkj: TestClient; // private_key_jwt × DPoP
let mtls: TestClient; // tls_client_auth × certificate-bound, every grant type

/** Everything we sent that is a credential: none of it may appear in the server log. */
const secrets = new Set<string>();
const secret = <T extends string>(value: T): T => { secrets.add(value); return value; };

interface Reply { status: number; headers: Headers; text: string; json: Record<string, unknown> | undefined }

/** One request with a hard 10 s deadline; a network error or a timeout fails the test with its cause. */
async function raw(path: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer | ReadableStream<Uint8Array>; dispatcher?: Dispatcher } = {}): Promise<Reply> {
  const target = path.startsWith('https://') ? path : `${server.issuer}${path}`;
  let res: Response;
  try {
    res = await fetch(target, {
      method: init.method ?? 'POST', headers: init.headers ?? {}, redirect: 'manual', signal: AbortSignal.timeout(10_000),
      ...(init.body !== undefined ? { body: init.body } : {}),
      ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
      dispatcher: init.dispatcher ?? server.dispatcher(),
    } as RequestInit);
  } catch (err) {
    throw new Error(`${init.method ?? 'POST'} ${path}: no answer (${(err as Error).name}: ${(err as Error).message}; cause ${String((err as { cause?: unknown }).cause)})`);
  }
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try { json = JSON.parse(text) as Record<string, unknown>; } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json };
}

const form = (fields: Array<[string, string]>) => fields.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

/** An OAuth endpoint's refusal: 4xx, JSON with an `error` from `allowed`, 401 only for invalid_client, no internals. */
function assertOAuthError(r: Reply, allowed: string[], what: string) {
  assert.ok(r.status >= 400 && r.status < 500, `${what}: status ${r.status} ${r.text.slice(0, 300)}`);
  assert.ok(r.json, `${what}: JSON body expected, got ${r.headers.get('content-type')} ${r.text.slice(0, 200)}`);
  assert.ok(allowed.includes(String(r.json.error)), `${what}: error ${String(r.json.error)} not in [${allowed.join(', ')}]: ${r.text.slice(0, 300)}`);
  if (r.status === 401) assert.equal(r.json.error, 'invalid_client', `${what}: 401 only for invalid_client`);
  assertNoInternals(r, what);
}

/**
 * A browser endpoint's refusal: 4xx and an HTML page. Only a route or method that does not exist
 * (404/405) or a refusal by the HTTP layer (414/431) may answer without a page.
 */
function assertPageError(r: Reply, what: string) {
  assert.ok(r.status >= 400 && r.status < 500, `${what}: status ${r.status} ${r.text.slice(0, 300)}`);
  assert.equal(r.headers.get('location'), null, `${what}: no redirect`);
  if (r.text.length && ![404, 405, 414, 431].includes(r.status)) assert.match(r.headers.get('content-type') ?? '', /text\/html/, `${what}: HTML page`);
  assertNoInternals(r, what);
}

function assertNoInternals(r: Reply, what: string) {
  assert.doesNotMatch(r.text, /node_modules|\bat [\w.<>]+ \(|TypeError|RangeError|SyntaxError|Kysely|PGlite/, `${what}: internals leaked: ${r.text.slice(0, 300)}`);
}

async function healthy() {
  const r = await raw('/healthz', { method: 'GET' });
  assert.equal(r.status, 200, 'the server still answers /healthz');
  assert.deepEqual(r.json, { status: 'ok' });
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** 1 MB of form body, with a Content-Length or chunked (no length announced). */
function oversized(prefix: string, chunked: boolean): string | ReadableStream<Uint8Array> {
  if (!chunked) return `${prefix}&padding=${'x'.repeat(MB)}`;
  return new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(Buffer.from(`${prefix}&padding=`));
      for (let i = 0; i < 64; i++) c.enqueue(new Uint8Array(16 * 1024).fill(0x78));
      c.close();
    },
  });
}

/**
 * After a refused oversized body, the same keep-alive connection must still carry requests: an
 * unread remainder left on the socket would be parsed as the next request and reset it.
 */
async function connectionStillUsable(dispatcher: Dispatcher, what: string) {
  for (let i = 0; i < 5; i++) {
    let status: number | string;
    try {
      status = (await raw('/healthz', { method: 'GET', dispatcher })).status;
    } catch (err) {
      status = (err as Error).message;
    }
    assert.equal(status, 200, `${what}: request ${i + 1} on the same connection afterwards`);
  }
}

/** Assertions that are not JWTs, or JWTs that must never get as far as a key lookup. */
function garbageAssertions(): Array<[string, string]> {
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: pkj.clientId, sub: pkj.clientId, aud: server.issuer, jti: randomUUID(), iat: now, exp: now + 60 };
  return [
    ['abc', secret(`abc-${randomBytes(4).toString('hex')}`)],
    ['a.b.c', secret(`a${randomBytes(3).toString('hex')}.b.c`)],
    ['10k-character header', secret(`${b64({ alg: 'ES256', kid: 'k'.repeat(10_000) })}.${b64(claims)}.${randomBytes(64).toString('base64url')}`)],
    ['alg none', secret(`${b64({ alg: 'none' })}.${b64(claims)}.`)],
    ['header not JSON', secret(`${Buffer.from('{not json').toString('base64url')}.${b64(claims)}.c2ln`)],
    ['payload an array', secret(`${b64({ alg: 'ES256' })}.${b64([1, 2, 3])}.c2ln`)],
    ['empty', ''],
  ];
}

// Endpoints that authenticate the client with form fields.
const AUTHENTICATED = [
  { name: 'PAR', path: '/par' },
  { name: 'token', path: '/token' },
  { name: 'introspection', path: '/token/introspection' },
  { name: 'revocation', path: '/token/revocation' },
] as const;

/** A body that is otherwise acceptable for each endpoint, for cases that break one thing only. */
async function validFields(path: string): Promise<Array<[string, string]>> {
  switch (path) {
    case '/par': return [['response_type', 'code'], ['redirect_uri', mtls.redirectUri], ['scope', 'openid'], ['code_challenge_method', 'S256'], ['code_challenge', await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier())]];
    case '/token': return [['grant_type', 'client_credentials']];
    default: return [['token', secret(randomBytes(32).toString('base64url'))]];
  }
}

before(async () => {
  server = await startTestServer();
  user = await createTestUser(server);
  secret(user.password);
  [pkj, mtls] = await Promise.all([
    registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' }),
    registerTestClient(server, { auth: 'tls_client_auth', binding: 'mtls', grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] }),
  ]);
});
after(() => server.close());

for (const endpoint of AUTHENTICATED) {
  describe(`bad input at ${endpoint.name} (${endpoint.path})`, () => {
    const post = (body: string | Buffer, contentType: string | undefined = FORM, dispatcher?: Dispatcher) =>
      raw(endpoint.path, { body, headers: contentType ? { 'content-type': contentType } : {}, ...(dispatcher ? { dispatcher } : {}) });

    it(`${endpoint.name}: malformed form bodies → 400/401 OAuth error`, async () => {
      for (const body of ['%%%&&&===', '=&=&=', 'client_id=%E0%A4%A', '&&&&', 'a'.repeat(1000), '\u0000\u0001\u0002']) {
        assertOAuthError(await post(body), ['invalid_request', 'invalid_client'], `body ${JSON.stringify(body.slice(0, 20))}`);
      }
      await healthy();
    });

    it(`${endpoint.name}: wrong content types (JSON, text, multipart) → 400 invalid_request`, async () => {
      const fields = [['client_id', mtls.clientId], ...(await validFields(endpoint.path))] as Array<[string, string]>;
      const asJson = JSON.stringify(Object.fromEntries(fields));
      for (const [contentType, body] of [
        ['application/json', asJson], ['text/plain', form(fields)], ['multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="client_id"\r\n\r\n${mtls.clientId}\r\n--x--\r\n`],
      ] as const) {
        assertOAuthError(await post(body, contentType, mtls.dispatcher), ['invalid_request'], contentType);
      }
      await healthy();
    });

    it(`${endpoint.name}: an unknown charset parameter is ignored (the body is read as UTF-8) or refused with invalid_request, never 5xx`, async () => {
      const fields = [['client_id', mtls.clientId], ...(await validFields(endpoint.path))] as Array<[string, string]>;
      const r = await post(form(fields), `${FORM}; charset=no-such-charset`, mtls.dispatcher);
      if (r.status >= 400) assertOAuthError(r, ['invalid_request'], 'unknown charset');
      else assert.ok(r.status === 200 || r.status === 201, `unknown charset: ${r.status} ${r.text.slice(0, 200)}`);
      await healthy();
    });

    for (const chunked of [false, true]) {
      it(`${endpoint.name}: a 1 MB body (${chunked ? 'chunked' : 'Content-Length'}) → 4xx within 10 s; the connection stays usable`, async () => {
        const dispatcher = server.dispatcher(mtls.cert);
        const r = await raw(endpoint.path, { body: oversized(`client_id=${mtls.clientId}`, chunked), headers: { 'content-type': FORM }, dispatcher });
        assert.ok(r.status === 413 || r.status === 400, `status ${r.status}`);
        if (r.status === 400) assertOAuthError(r, ['invalid_request'], '1 MB body');
        await connectionStillUsable(dispatcher, `${endpoint.name} 1 MB`);
      });
    }

    it(`${endpoint.name}: duplicated parameters → 400 invalid_request`, async () => {
      const fields = [['client_id', mtls.clientId], ...(await validFields(endpoint.path))] as Array<[string, string]>;
      for (const dup of fields.map(([k]) => k)) {
        const body = form([...fields, [dup, fields.find(([k]) => k === dup)![1]]]);
        assertOAuthError(await post(body, FORM, mtls.dispatcher), ['invalid_request'], `${dup} twice`);
      }
      await healthy();
    });

    it(`${endpoint.name}: missing parameters (empty body, no client, no endpoint-specific fields) → 400/401 OAuth error`, async () => {
      assertOAuthError(await post(''), ['invalid_request', 'invalid_client'], 'empty body');
      assertOAuthError(await post(form(await validFields(endpoint.path))), ['invalid_request', 'invalid_client'], 'no client_id');
      assertOAuthError(await post(form([['client_id', mtls.clientId]]), FORM, mtls.dispatcher), ['invalid_request', 'unsupported_grant_type'], 'only client_id');
      await healthy();
    });

    // RFC 7521 §4.2.1: an assertion that is not valid → `invalid_client` (401, RFC 6749 §5.2). Without
    // a client_id the client cannot be named, so invalid_request is acceptable there too.
    it(`${endpoint.name}: garbage client assertions ('abc', 'a.b.c', 10k-char header, alg none…) with client_id → 401 invalid_client`, async () => {
      const extra = await validFields(endpoint.path);
      const failures: string[] = [];
      const check = (r: Reply, allowed: string[], what: string) => {
        try { assertOAuthError(r, allowed, what); } catch (err) { failures.push((err as Error).message); }
      };
      for (const [name, assertion] of garbageAssertions()) {
        const withId = form([['client_id', pkj.clientId], ['client_assertion_type', JWT_BEARER], ['client_assertion', assertion], ...extra]);
        check(await post(withId), ['invalid_client', ...(assertion === '' ? ['invalid_request'] : [])], `${name} with client_id`);
        const withoutId = form([['client_assertion_type', JWT_BEARER], ['client_assertion', assertion], ...extra]);
        check(await post(withoutId), ['invalid_client', 'invalid_request'], `${name} without client_id`);
      }
      const wrongType = form([['client_id', pkj.clientId], ['client_assertion_type', 'urn:example:nope'], ['client_assertion', secret(`x${randomUUID()}`)], ...extra]);
      check(await post(wrongType), ['invalid_client', 'invalid_request'], 'unknown client_assertion_type');
      await healthy();
      assert.deepEqual(failures, []);
    });

    it(`${endpoint.name}: unknown client_id (plain, 10k characters, non-ASCII) → 401 invalid_client`, async () => {
      const extra = await validFields(endpoint.path);
      for (const clientId of ['no-such-client', 'c'.repeat(10_000), 'クライアント', '../../etc/passwd', "' OR 1=1 --"]) {
        assertOAuthError(await post(form([['client_id', clientId], ...extra]), FORM, mtls.dispatcher), ['invalid_client', 'invalid_request'], `client_id ${clientId.slice(0, 20)}`);
      }
      await healthy();
    });

    it(`${endpoint.name}: non-UTF-8 bytes in the body → 4xx OAuth error`, async () => {
      const bytes = Buffer.concat([Buffer.from(`client_id=${mtls.clientId}&`), Buffer.from([0x73, 0x63, 0x6f, 0x70, 0x65, 0x3d, 0xff, 0xfe, 0xc0, 0xaf, 0x80])]);
      const r = await post(bytes, FORM, mtls.dispatcher);
      assertOAuthError(r, ['invalid_request', 'invalid_client', 'invalid_scope', 'unsupported_grant_type'], 'non-UTF-8 body');
      const latin1 = Buffer.from([0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x5f, 0x69, 0x64, 0x3d, 0xe9, 0xe8]);
      assertOAuthError(await post(latin1, `${FORM}; charset=utf-8`), ['invalid_request', 'invalid_client'], 'latin-1 client_id');
      await healthy();
    });
  });
}

describe('bad input at the token endpoint (grant-specific)', () => {
  it('token: grant types and codes that are garbage → 400 OAuth error', async () => {
    const cases: Array<[Array<[string, string]>, string[]]> = [
      [[['grant_type', '']], ['invalid_request', 'unsupported_grant_type']],
      [[['grant_type', 'x'.repeat(5000)]], ['unsupported_grant_type', 'invalid_request']],
      [[['grant_type', 'authorization_code'], ['code', secret(randomBytes(16).toString('hex'))], ['redirect_uri', mtls.redirectUri], ['code_verifier', secret(oauth.generateRandomCodeVerifier())]], ['invalid_grant']],
      [[['grant_type', 'authorization_code'], ['code', 'x'.repeat(20_000)], ['redirect_uri', mtls.redirectUri], ['code_verifier', 'short']], ['invalid_grant', 'invalid_request']],
      [[['grant_type', 'refresh_token'], ['refresh_token', secret(randomBytes(32).toString('base64url'))]], ['invalid_grant']],
      [[['grant_type', 'refresh_token'], ['refresh_token', 'a.b.c']], ['invalid_grant', 'invalid_request']],
      [[['grant_type', 'client_credentials'], ['scope', '\u0000 \u0001 openid']], ['invalid_scope', 'invalid_request']],
      [[['grant_type', 'client_credentials'], ['resource', 'not a url']], ['invalid_target', 'invalid_request']],
    ];
    for (const [fields, allowed] of cases) {
      const r = await raw('/token', { body: form([['client_id', mtls.clientId], ...fields]), headers: { 'content-type': FORM }, dispatcher: mtls.dispatcher });
      assertOAuthError(r, allowed, JSON.stringify(fields).slice(0, 80));
    }
    await healthy();
  });
});

describe('bad input at UserInfo', () => {
  it('UserInfo: garbage Authorization headers and tokens → 400/401 with WWW-Authenticate, never 5xx', async () => {
    const token = secret(randomBytes(32).toString('base64url'));
    const cases: Array<[string, Record<string, string>, string?]> = [
      ['no credentials', {}],
      ['scheme only (Bearer)', { authorization: 'Bearer' }],
      ['scheme only (DPoP)', { authorization: 'DPoP' }],
      ['unknown token', { authorization: `Bearer ${token}` }],
      ['10k-character token', { authorization: `Bearer ${'t'.repeat(10_000)}` }],
      ['spaces in token', { authorization: 'Bearer a b c' }],
      ['Basic credentials', { authorization: `Basic ${Buffer.from(`x:${secret(`pw-${randomUUID()}`)}`).toString('base64')}` }],
      ['DPoP token with a garbage proof', { authorization: `DPoP ${token}`, dpop: secret(`garbage-${randomUUID()}`) }],
      ['DPoP token with a 10k-character proof header', { authorization: `DPoP ${token}`, dpop: `${b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'EC', x: 'x'.repeat(10_000) } })}.${b64({})}.c2ln` }],
    ];
    for (const [name, headers] of cases) {
      for (const method of ['GET', 'POST']) {
        const r = await raw('/userinfo', { method, headers: { ...headers, ...(method === 'POST' ? { 'content-type': FORM } : {}) }, ...(method === 'POST' ? { body: '' } : {}) });
        assert.ok(r.status === 400 || r.status === 401, `${method} ${name}: ${r.status} ${r.text.slice(0, 200)}`);
        assert.ok(r.headers.get('www-authenticate'), `${method} ${name}: WWW-Authenticate`);
        assert.ok(r.json && typeof r.json.error === 'string', `${method} ${name}: OAuth error body`);
        assertNoInternals(r, name);
      }
    }
    await healthy();
  });

  it('UserInfo: token in header and body at once, a JSON body, a 1 MB body, a token in the query → 4xx', async () => {
    const token = secret(randomBytes(32).toString('base64url'));
    const cases: Array<[string, Parameters<typeof raw>[1]]> = [
      ['header and body', { headers: { authorization: `Bearer ${token}`, 'content-type': FORM }, body: `access_token=${token}` }],
      ['access_token twice in the body', { headers: { 'content-type': FORM }, body: `access_token=${token}&access_token=${token}` }],
      ['JSON body', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ access_token: token }) }],
      ['1 MB body', { headers: { authorization: `Bearer ${token}`, 'content-type': FORM }, body: `x=${'y'.repeat(MB)}` }],
      ['non-UTF-8 body', { headers: { 'content-type': FORM }, body: Buffer.from([0x61, 0x3d, 0xff, 0xfe]) }],
    ];
    for (const [name, init] of cases) {
      const r = await raw('/userinfo', init);
      assert.ok(r.status >= 400 && r.status < 500, `${name}: ${r.status} ${r.text.slice(0, 200)}`);
      assert.ok(r.status === 413 || (r.json && typeof r.json.error === 'string'), `${name}: OAuth error body`);
      assertNoInternals(r, name);
    }
    const q = await raw(`/userinfo?access_token=${token}`, { method: 'GET' });
    assert.ok(q.status === 400 || q.status === 401, `query token: ${q.status}`);
    await healthy();
  });
});

describe('bad input at the authorization endpoint', () => {
  it('authorization: garbage queries → a 4xx HTML page, never a redirect or a 5xx', async () => {
    const queries = [
      '',
      '?client_id=no-such-client',
      `?client_id=${mtls.clientId}&client_id=${mtls.clientId}`,
      `?client_id=${mtls.clientId}&request_uri=abc`,
      `?client_id=${mtls.clientId}&request_uri=urn:ietf:params:oauth:request_uri:${'x'.repeat(5000)}`,
      `?client_id=${mtls.clientId}&request_uri=urn:ietf:params:oauth:request_uri:a&request_uri=urn:ietf:params:oauth:request_uri:b`,
      `?client_id=${mtls.clientId}&request=${secret(`a${randomBytes(4).toString('hex')}.b.c`)}`,
      '?client_id=%ff%fe%c0%af',
      `?client_id=${mtls.clientId}&request_uri=%00%01`,
      `?client_id=${mtls.clientId}&response_type=code&scope=openid&redirect_uri=javascript:alert(1)`,
      `?${'a'.repeat(4000)}=${'b'.repeat(4000)}`,
    ];
    for (const q of queries) {
      assertPageError(await raw(`/auth${q}`, { method: 'GET' }), `GET /auth${q.slice(0, 60)}`);
    }
    // An oversized request line is refused by the HTTP layer (431/414), still a 4xx.
    assertPageError(await raw(`/auth?client_id=${'x'.repeat(64 * 1024)}`, { method: 'GET' }), 'GET /auth with a 64 KB query');
    await healthy();
  });

  it('authorization: bad POST bodies → a 4xx HTML page', async () => {
    const cases: Array<[string, string | Buffer, string]> = [
      ['JSON', JSON.stringify({ client_id: mtls.clientId }), 'application/json'],
      ['1 MB form', `client_id=${mtls.clientId}&x=${'y'.repeat(MB)}`, FORM],
      ['malformed form', '%%%&&==', FORM],
      ['duplicate client_id', `client_id=${mtls.clientId}&client_id=other`, FORM],
      ['non-UTF-8', Buffer.from([0x63, 0x3d, 0xff, 0xfe]), FORM],
      ['bogus charset', `client_id=${mtls.clientId}`, `${FORM}; charset=no-such-charset`],
    ];
    for (const [name, body, contentType] of cases) {
      assertPageError(await raw('/auth', { body, headers: { 'content-type': contentType } }), `POST /auth ${name}`);
    }
    await healthy();
  });
});

/** A live interaction to attack: PAR, then a browser (own connection pool) on the sign-in page. */
async function startInteraction(extra: Array<[string, string]> = []) {
  const verifier = oauth.generateRandomCodeVerifier();
  const par = await raw('/par', {
    dispatcher: mtls.dispatcher, headers: { 'content-type': FORM },
    body: form([['client_id', mtls.clientId], ['response_type', 'code'], ['redirect_uri', mtls.redirectUri], ['scope', 'openid'], ['state', 'st'], ['nonce', 'nn'],
      ['code_challenge_method', 'S256'], ['code_challenge', await oauth.calculatePKCECodeChallenge(verifier)], ...extra]),
  });
  assert.equal(par.status, 201, par.text);
  const dispatcher = server.dispatcher();
  const ua = createUserAgent(dispatcher, server.issuer);
  const { page } = await ua.follow(`${server.issuer}/auth?client_id=${mtls.clientId}&request_uri=${encodeURIComponent(String(par.json!.request_uri))}`);
  assert.ok(page && page.status === 200, 'sign-in page');
  const origin = new URL(server.issuer).origin;
  const send = async (path: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer | ReadableStream<Uint8Array> } = {}): Promise<Reply> => {
    let res: Response;
    try {
      res = await ua.request(path, {
        method: init.method ?? 'POST', headers: { origin, ...init.headers }, signal: AbortSignal.timeout(10_000),
        ...(init.body !== undefined ? { body: init.body } : {}), ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (err) {
      throw new Error(`no answer (${(err as Error).message}; cause ${String((err as { cause?: unknown }).cause)})`);
    }
    return { status: res.status, headers: res.headers, text: await res.text(), json: undefined };
  };
  const at = (p: PageResultLike) => ({
    uid: /\/interaction\/([^/?"]+)/.exec(p.url)![1]!,
    csrf: /name="csrf" value="([^"]+)"/.exec(p.body)![1]!,
  });
  return { ua, dispatcher, page, send, at, ...at(page), base: (uid: string) => `${server.issuer}/interaction/${uid}` };
}
interface PageResultLike { url: string; body: string }

/** Runs `cases`, collecting every mismatch instead of stopping at the first. */
async function runPageCases(cases: Array<[string, () => Promise<Reply>, number[]]>): Promise<string[]> {
  const failures: string[] = [];
  for (const [name, run, statuses] of cases) {
    try {
      const r = await run();
      assert.ok(statuses.includes(r.status), `expected ${statuses.join('/')}, got ${r.status} ${r.text.slice(0, 200)}`);
      assertPageError(r, name);
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  return failures;
}

describe('bad input at the sign-in and consent forms', () => {
  it('sign-in form: unknown uids, wrong methods, content types, duplicates, missing CSRF, non-UTF-8 → 4xx pages; then sign-in still works', async () => {
    const ix = await startInteraction();
    const { send, uid, csrf } = ix;
    const base = ix.base(uid);
    const wrongPassword = secret(`wrong-${randomUUID()}`);
    const login = (fields: Array<[string, string]>, headers: Record<string, string> = {}) => send(`${base}/login`, { headers: { 'content-type': FORM, ...headers }, body: form(fields) });
    const failures = await runPageCases([
      ['unknown uid', () => send(`${server.issuer}/interaction/${'z'.repeat(21)}/login`, { headers: { 'content-type': FORM }, body: form([['csrf', csrf], ['username', user.username], ['password', wrongPassword]]) }), [400]],
      ['uid with odd characters', () => send(`${server.issuer}/interaction/%00%ff/login`, { headers: { 'content-type': FORM }, body: 'csrf=x' }), [400, 404]],
      ['uid too long', () => send(`${server.issuer}/interaction/${'u'.repeat(5000)}/login`, { headers: { 'content-type': FORM }, body: 'csrf=x' }), [400, 404, 414, 431]],
      ['GET on the login action', () => send(`${base}/login`, { method: 'GET' }), [405]],
      ['POST on the page itself', () => send(base, { headers: { 'content-type': FORM }, body: '' }), [405]],
      ['JSON body', () => send(`${base}/login`, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ csrf, username: user.username, password: wrongPassword }) }), [415]],
      ['no content type', () => send(`${base}/login`, { body: form([['csrf', csrf]]) }), [415, 400]],
      ['malformed form', () => send(`${base}/login`, { headers: { 'content-type': FORM }, body: '%%%&&==&csrf=%E0%A4%A' }), [400, 403]],
      ['duplicate username', () => login([['csrf', csrf], ['username', user.username], ['username', 'other'], ['password', wrongPassword]]), [400]],
      ['duplicate password', () => login([['csrf', csrf], ['username', user.username], ['password', wrongPassword], ['password', wrongPassword]]), [400]],
      ['duplicate csrf', () => login([['csrf', csrf], ['csrf', csrf], ['username', user.username], ['password', wrongPassword]]), [400]],
      ['missing csrf', () => login([['username', user.username], ['password', wrongPassword]]), [403]],
      ['garbage csrf', () => login([['csrf', 'x'.repeat(5000)], ['username', user.username], ['password', wrongPassword]]), [403]],
      ['foreign Origin', () => login([['csrf', csrf], ['username', user.username], ['password', wrongPassword]], { origin: 'https://evil.example.com' }), [403]],
      ['missing username and password', () => login([['csrf', csrf]]), [400]],
      ['10k-character username', () => login([['csrf', csrf], ['username', 'u'.repeat(10_000)], ['password', wrongPassword]]), [400]],
      ['wrong password', () => login([['csrf', csrf], ['username', user.username], ['password', wrongPassword]]), [401]],
      ['non-UTF-8 password', () => send(`${base}/login`, { headers: { 'content-type': FORM }, body: Buffer.concat([Buffer.from(`csrf=${encodeURIComponent(csrf)}&username=${user.username}&password=`), Buffer.from([0xff, 0xfe, 0xc0])]) }), [400, 401]],
      ['bogus charset', () => send(`${base}/login`, { headers: { 'content-type': `${FORM}; charset=no-such-charset` }, body: form([['csrf', csrf], ['username', user.username], ['password', wrongPassword]]) }), [400, 401, 415]],
      ['confirm before sign-in', () => send(`${base}/confirm`, { headers: { 'content-type': FORM }, body: form([['csrf', csrf]]) }), [400]],
      ['unknown action', () => send(`${base}/delete`, { headers: { 'content-type': FORM }, body: form([['csrf', csrf]]) }), [400, 404]],
    ]);
    await healthy();

    // The same interaction still completes with the right credentials: bad input changed nothing.
    const { callback } = await ix.ua.authorize(ix.page.url, { username: user.username, password: user.password });
    assert.ok(callback, 'sign-in still works');
    assert.ok(callback.startsWith(mtls.redirectUri), `sign-in still works: ${callback}`);
    assert.ok(new URL(callback).searchParams.get('code'));
    assert.deepEqual(failures, []);
  });

  it('consent form: wrong content type, duplicates, missing or foreign CSRF → 4xx pages; then consent still works', async () => {
    const ix = await startInteraction([['prompt', 'consent']]);
    const signedIn = await ix.send(`${ix.base(ix.uid)}/login`, { headers: { 'content-type': FORM }, body: form([['csrf', ix.csrf], ['username', user.username], ['password', user.password]]) });
    assert.equal(signedIn.status, 303, signedIn.text.slice(0, 200));
    const { page } = await ix.ua.follow(new URL(signedIn.headers.get('location')!, server.issuer).toString());
    assert.ok(page && /\/confirm"/.test(page.body), 'consent page');
    const { uid, csrf } = ix.at(page);
    const base = ix.base(uid);
    const post = (action: string, fields: Array<[string, string]>, headers: Record<string, string> = {}) => ix.send(`${base}/${action}`, { headers: { 'content-type': FORM, ...headers }, body: form(fields) });
    const failures = await runPageCases([
      ['JSON body', () => ix.send(`${base}/confirm`, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ csrf }) }), [415]],
      ['duplicate csrf', () => post('confirm', [['csrf', csrf], ['csrf', csrf]]), [400]],
      ['missing csrf', () => post('confirm', []), [403]],
      ['csrf of another interaction', () => post('confirm', [['csrf', ix.csrf]]), [403]],
      ['foreign Origin', () => post('confirm', [['csrf', csrf]], { origin: 'https://evil.example.com' }), [403]],
      ['abort without csrf', () => post('abort', []), [403]],
      ['login on the consent step', () => post('login', [['csrf', csrf], ['username', user.username], ['password', user.password]]), [400]],
      ['non-UTF-8 body', () => ix.send(`${base}/confirm`, { headers: { 'content-type': FORM }, body: Buffer.from([0x63, 0x73, 0x72, 0x66, 0x3d, 0xff, 0xfe]) }), [400, 403]],
      // The person's choices, forged: an unknown duration, a stretched expiry, a duplicated answer.
      ['duration not offered', () => post('confirm', [['csrf', csrf], ['duration', 'forever']]), [400]],
      ['expiry not offered', () => post('confirm', [['csrf', csrf], ['duration', 'ongoing'], ['expires_days', '36500']]), [400]],
      ['two durations', () => post('confirm', [['csrf', csrf], ['duration', 'once'], ['duration', 'ongoing']]), [400]],
    ]);
    await healthy();
    const confirmed = await post('confirm', consentForm(page.body));
    assert.equal(confirmed.status, 303, `consent still works: ${confirmed.status}`);
    const done = await ix.ua.follow(new URL(confirmed.headers.get('location')!, server.issuer).toString());
    assert.ok(done.redirect?.startsWith(mtls.redirectUri) && new URL(done.redirect).searchParams.get('code'), `callback with a code: ${done.redirect}`);
    assert.deepEqual(failures, []);
  });

  for (const chunked of [false, true]) {
    it(`sign-in form: a 1 MB body (${chunked ? 'chunked' : 'Content-Length'}) → 413 page; the browser's connection stays usable`, async () => {
      const ix = await startInteraction();
      const r = await ix.send(`${ix.base(ix.uid)}/login`, { headers: { 'content-type': FORM }, body: oversized(`csrf=${encodeURIComponent(ix.csrf)}&username=${user.username}`, chunked) });
      assert.equal(r.status, 413, r.text.slice(0, 200));
      assertPageError(r, '1 MB sign-in form');
      await connectionStillUsable(ix.dispatcher, 'after a 1 MB sign-in form');
    });
  }
});

describe('after all of it', () => {
  it('the server still answers /healthz and /readyz', async () => {
    await healthy();
    const r = await raw('/readyz', { method: 'GET' });
    assert.equal(r.status, 200);
  });

  it('the log holds no client_assertion, password or token that was sent, and no unexpected-error line', async () => {
    // A valid assertion and real tokens as well, so the check covers credentials that got far into the stack.
    const now = Math.floor(Date.now() / 1000);
    const kid = String((pkj.metadata.jwks as { keys: Array<{ kid: string }> }).keys[0]!.kid);
    const validAssertion = secret(await new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'ES256', kid })
      .setIssuer(pkj.clientId).setSubject(pkj.clientId).setAudience(server.issuer).setIssuedAt(now).setExpirationTime(now + 60).sign(pkj.privateKey));
    const dpopKeys = pkj.dpopKeys!;
    const dpop = await new SignJWT({ jti: randomUUID(), htm: 'POST', htu: `${server.issuer}/token`, iat: now })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(dpopKeys.publicKey) }).sign(dpopKeys.privateKey);
    const r = await raw('/token', { headers: { 'content-type': FORM, dpop }, body: form([['grant_type', 'authorization_code'], ['code', secret(randomBytes(20).toString('hex'))], ['redirect_uri', pkj.redirectUri], ['code_verifier', secret(oauth.generateRandomCodeVerifier())], ['client_id', pkj.clientId], ['client_assertion_type', JWT_BEARER], ['client_assertion', validAssertion]]) });
    assertOAuthError(r, ['invalid_grant'], 'valid assertion, unknown code');
    const cc = await raw('/token', { dispatcher: mtls.dispatcher, headers: { 'content-type': FORM }, body: form([['grant_type', 'client_credentials'], ['client_id', mtls.clientId]]) });
    assert.equal(cc.status, 200, cc.text);
    secret(String(cc.json!.access_token));
    await raw('/token/introspection', { dispatcher: mtls.dispatcher, headers: { 'content-type': FORM }, body: form([['client_id', mtls.clientId], ['token', String(cc.json!.access_token)]]) });
    await raw('/token/revocation', { dispatcher: mtls.dispatcher, headers: { 'content-type': FORM }, body: form([['client_id', mtls.clientId], ['token', String(cc.json!.access_token)]]) });

    const log = server.logs.join('\n');
    const leaked = [...secrets].filter((s) => s.length >= 8 && log.includes(s));
    assert.deepEqual(leaked.map((s) => s.slice(0, 24)), [], 'credentials found in the server log');
    const unexpected = server.logs.filter((line) => /"level":"error"/.test(line));
    assert.deepEqual(unexpected, [], 'no error-level (server_error) lines');
  });
});
