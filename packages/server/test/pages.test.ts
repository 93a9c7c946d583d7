/** Our pages: security headers, CSRF protection, language choice. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './support/server.ts';
import { registerTestClient } from './support/clients.ts';
import { discover, pushAuthorizationRequest } from './support/flow.ts';
import { createUserAgent, type UserAgent } from './support/user-agent.ts';
import { createTestUser, type TestUser } from './support/users.ts';

let server: TestServer;
let user: TestUser;
before(async () => {
  server = await startTestServer();
  user = await createTestUser(server);
});
after(() => server.close());

async function loginPage(headers: Record<string, string> = {}): Promise<{ ua: UserAgent; url: string; body: string; res: Headers; csrf: string }> {
  const tc = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' });
  const par = await pushAuthorizationRequest(await discover(server, tc), tc);
  const ua = createUserAgent(server.dispatcher(), server.issuer);
  const first = await ua.request(par.authorizationUrl, { headers });
  const url = new URL(first.headers.get('location')!, server.issuer).toString();
  const res = await ua.request(url, { headers });
  const body = await res.text();
  return { ua, url, body, res: res.headers, csrf: /name="csrf" value="([^"]+)"/.exec(body)![1]! };
}

describe('security headers', () => {
  it('pages: strict CSP with frame-ancestors none, HSTS over https, no caching, nosniff', async () => {
    const { res, url } = await loginPage();
    const csp = res.get('content-security-policy')!;
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.match(csp, /form-action 'self' https:\/\/client\.example\.com/, 'the consent redirect back to the client is allowed, nothing else');
    assert.equal(res.get('x-frame-options'), 'DENY');
    assert.match(res.get('strict-transport-security')!, /max-age=\d{8}/);
    assert.equal(res.get('cache-control'), 'no-store');
    assert.equal(res.get('x-content-type-options'), 'nosniff');
    assert.ok(url.includes('/interaction/'));
  });

  it('API responses carry frame-ancestors none too', async () => {
    const res = await fetch(`${server.issuer}/.well-known/openid-configuration`, { dispatcher: server.dispatcher() } as RequestInit);
    assert.match(res.headers.get('content-security-policy')!, /frame-ancestors 'none'/);
    assert.match(res.headers.get('strict-transport-security')!, /max-age/);
  });
});

describe('CSRF', () => {
  it('refuses a sign-in post without the token, with a wrong token, or from another origin', async () => {
    const { ua, url, csrf } = await loginPage();
    const form = { username: user.username, password: user.password };
    for (const [extra, headers] of [
      [{}, {}],
      [{ csrf: 'x'.repeat(43) }, {}],
      [{ csrf }, { origin: 'https://evil.example' }],
      [{ csrf }, { origin: 'null' }],
    ] as Array<[Record<string, string>, Record<string, string>]>) {
      const res = await ua.post(`${url}/login`, { ...form, ...extra }, headers);
      assert.equal(res.status, 403, JSON.stringify({ extra, headers }));
      assert.match(await res.text(), /expired or did not come from this page/);
    }
    const ok = await ua.post(`${url}/login`, { ...form, csrf });
    assert.equal(ok.status, 303, 'the same form with its token and our origin signs in');
    const events = await server.app.audit.query({ type: 'csrf.rejected' });
    assert.ok(events.length >= 4);
  });

  it('refuses a token from another flow', async () => {
    const a = await loginPage();
    const b = await loginPage();
    const res = await a.ua.post(`${a.url}/login`, { username: user.username, password: user.password, csrf: b.csrf });
    assert.equal(res.status, 403);
  });
});

describe('language', () => {
  it('follows Accept-Language, and the switch sticks', async () => {
    const ja = await loginPage({ 'accept-language': 'ja-JP,ja;q=0.9' });
    assert.match(ja.body, /<html lang="ja">/);
    assert.match(ja.body, /<label for="username">ユーザー名またはメールアドレス<\/label>/);
    const switched = await ja.ua.request(`${ja.url}?lang=en`, { headers: { 'accept-language': 'ja' } });
    assert.match(await switched.text(), /<html lang="en">/);
    const again = await ja.ua.request(ja.url, { headers: { 'accept-language': 'ja' } });
    assert.match(await again.text(), /<html lang="en">/, 'the choice is remembered');
  });

  it('wrong password: the person is told, nothing says whether the account exists', async () => {
    const { ua, url, csrf } = await loginPage();
    const wrong = await ua.post(`${url}/login`, { username: user.username, password: 'not the password', csrf });
    const unknown = await ua.post(`${url}/login`, { username: 'nobody-here', password: 'not the password', csrf });
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    const [a, b] = [await wrong.text(), await unknown.text()];
    assert.match(a, /role="alert"/);
    // Each page carries a fresh passkey challenge; everything else must be identical.
    const normalise = (page: string, name: string) => page.replace(name, 'X').replace(/"challenge":"[^"]+"/, '"challenge":"…"');
    assert.equal(normalise(a, user.username), normalise(b, 'nobody-here'), 'same page either way');
  });
});
