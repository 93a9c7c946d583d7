import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createBrowser, type Browser } from '@sekisho/example-kit/testing/browser';
import { listen, type Listening } from '@sekisho/example-kit/testing/listen';
import { createBankApi, type AccessLogLine } from '../src/bank-api.ts';
import { createFintechApp, type FintechApp } from '../src/fintech-app.ts';
import { sampleAccounts } from '../src/sample-accounts.ts';
import { startStubFapi, type Decision, type StubFapi } from './support/stub-fapi.ts';

const AUDIENCE = 'https://api.bank.example/v1';
const PAYEE = { payee_name: 'カクウ タロウ', bank_code: '0001', branch_code: '001', account_type: 'ordinary', account_number: '2345678', amount: '12,000', message: '立替分' };

interface World { stub: StubFapi; app: FintechApp; fintech: Listening; api: Listening; apiLog: AccessLogLine[]; events: Array<Record<string, unknown>>; close(): Promise<void> }

async function world(decision: Partial<Decision> = {}): Promise<World> {
  const stub = await startStubFapi({ bankAudience: AUDIENCE, decision });
  const api = await listen();
  const apiLog: AccessLogLine[] = [];
  api.server.on('request', createBankApi({
    issuer: stub.issuer.issuer, audience: AUDIENCE, publicUrl: `${api.origin}/v1`, data: sampleAccounts(),
    introspection: { ...stub.issuer.bankClient, cacheSeconds: 0 }, log: (l) => apiLog.push(l),
  }));
  const fintech = await listen();
  const events: Array<Record<string, unknown>> = [];
  const app = createFintechApp({
    issuer: stub.issuer.issuer, clientId: stub.clientId, privateJwk: stub.privateJwk, publicUrl: fintech.origin,
    bankApiUrl: `${api.origin}/v1`, bankAudience: AUDIENCE, log: (e) => events.push(e),
  });
  fintech.server.on('request', app.handler);
  return {
    stub, app, fintech, api, apiLog, events,
    async close() { app.close(); await fintech.close(); await api.close(); await stub.close(); },
  };
}

/** Home → Connect → the stub decides → back at the callback; returns the callback's answer. */
async function connect(w: World, browser: Browser) {
  await browser.get('/');
  const started = await browser.post('/connect', { csrf: browser.csrf() });
  assert.equal(started.status, 303, started.text_);
  const callback = await w.stub.authorize(started.headers.get('location')!);
  assert.ok(callback.startsWith(`${w.fintech.origin}/callback?response=`), callback);
  return browser.get(callback.slice(w.fintech.origin.length));
}

async function sendMoney(w: World, browser: Browser, fields: Record<string, string> = PAYEE) {
  await browser.get('/transfer');
  const started = await browser.post('/transfer', { csrf: browser.csrf(), ...fields });
  assert.equal(started.status, 303, started.text_);
  const callback = await w.stub.authorize(started.headers.get('location')!);
  const back = await browser.get(callback.slice(w.fintech.origin.length));
  assert.equal(back.status, 303);
  return browser.get(back.headers.get('location')!);
}

describe('fintech app: pages and their protections', () => {
  let w: World;
  before(async () => { w = await world(); });
  after(() => w.close());

  it('the home page: security headers, a CSP whose form-action allows only itself and the authorization server, an HttpOnly SameSite=Lax cookie', async () => {
    const browser = createBrowser(w.fintech.origin);
    const home = await browser.get('/');
    assert.equal(home.status, 200);
    assert.match(home.text_, /Connect your bank/);
    assert.match(home.text_, /<html lang="ja">/);
    const csp = home.headers.get('content-security-policy')!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, new RegExp(`form-action 'self' ${w.stub.issuer.issuer};`));
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(home.headers.get('cache-control'), 'no-store');
    assert.equal(home.headers.get('x-frame-options'), 'DENY');
    const cookie = home.headers.getSetCookie()[0]!;
    assert.match(cookie, /^fintech-session=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    assert.equal((await browser.get('/style.css')).headers.get('content-type'), 'text/css; charset=utf-8');
    assert.equal((await browser.get('/nowhere')).status, 404);
    const put = await fetch(`${w.fintech.origin}/`, { method: 'PUT' });
    assert.equal(put.status, 405);
  });

  it('refuses posts without the session\'s CSRF token, from another site, or not a form; nothing to send money with before connecting', async () => {
    const browser = createBrowser(w.fintech.origin);
    await browser.get('/');
    const csrf = browser.csrf();
    assert.equal((await browser.post('/connect', { csrf: 'forged' })).status, 403);
    assert.equal((await browser.post('/connect', { csrf }, { origin: 'https://evil.example' })).status, 403);
    assert.equal((await browser.post('/connect', { csrf }, { 'sec-fetch-site': 'cross-site' })).status, 403);
    const json = await fetch(`${w.fintech.origin}/connect`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: `fintech-session=${browser.jar.get('fintech-session')}` }, body: '{}' });
    assert.equal(json.status, 400);
    const transfer = await browser.get('/transfer');
    assert.equal(transfer.status, 303);
    assert.equal(transfer.headers.get('location'), '/');
    assert.equal(w.stub.requestObjects.length, 0, 'nothing was pushed');
  });

  it('a callback it was not waiting for is refused', async () => {
    const browser = createBrowser(w.fintech.origin);
    await browser.get('/');
    const r = await browser.get('/callback?response=eyJhbGciOiJFUzI1NiJ9.e30.sig');
    assert.equal(r.status, 400);
    assert.match(r.text_, /not waiting for that answer/);
  });
});

describe('fintech app: connecting a bank', () => {
  it('pushes a signed request object with everything inside, comes back through JARM, and shows the picked account', async () => {
    const w = await world();
    try {
      const browser = createBrowser(w.fintech.origin);
      const sessionBefore = (await browser.get('/'), browser.jar.get('fintech-session'));
      const back = await connect(w, browser);
      assert.equal(back.status, 303);
      assert.equal(back.headers.get('location'), '/');
      assert.notEqual(browser.jar.get('fintech-session'), sessionBefore, 'a new session once connected');

      const [ro] = w.stub.requestObjects;
      assert.equal(ro!.client_id, w.stub.clientId);
      assert.equal(ro!.response_type, 'code');
      assert.equal(ro!.response_mode, 'jwt');
      assert.equal(ro!.scope, 'openid offline_access');
      assert.equal(ro!.prompt, 'consent');
      assert.equal(ro!.resource, AUDIENCE);
      assert.equal(ro!.redirect_uri, w.app.redirectUri);
      assert.ok(ro!.nonce && ro!.state && ro!.code_challenge);
      assert.deepEqual(ro!.authorization_details, [{
        type: 'account_information', actions: ['list_accounts', 'read_balances', 'read_transactions'], transaction_history_days: 90, locations: [AUDIENCE],
      }]);

      const dashboard = await browser.get('/');
      assert.match(dashboard.text_, /Your bank account is connected/);
      assert.match(dashboard.text_, /482,350円/);
      assert.match(dashboard.text_, /カード|給与|家賃/, 'recent transactions');
      assert.doesNotMatch((await browser.get('/')).text_, /Your bank account is connected/, 'the notice is shown once');
      assert.ok(w.apiLog.some((l) => l.path === '/v1/accounts' && l.status === 200));
      const logged = JSON.stringify(w.events);
      assert.doesNotMatch(logged, /access_token|refresh|[A-Za-z0-9_-]{43}/, 'no token in the app\'s log');

      // The same callback again: the pending request was used up.
      const replay = await w.stub.authorize((await browser.post('/connect', { csrf: browser.csrf() })).headers.get('location')!);
      assert.equal((await browser.get(replay.slice(w.fintech.origin.length))).status, 303);
      assert.equal((await browser.get(replay.slice(w.fintech.origin.length))).status, 400);
    } finally {
      await w.close();
    }
  });

  it('the person says no at the bank: the app says so and holds no connection', async () => {
    const w = await world({ outcome: 'deny' });
    try {
      const browser = createBrowser(w.fintech.origin);
      const back = await connect(w, browser);
      assert.equal(back.status, 303);
      const home = await browser.get('/');
      assert.match(home.text_, /It was not allowed at the bank/);
      assert.match(home.text_, /Connect your bank/);
    } finally {
      await w.close();
    }
  });

  it('a JARM response signed by anyone but the authorization server is refused', async () => {
    const w = await world({ forgeJarm: true });
    try {
      const browser = createBrowser(w.fintech.origin);
      await connect(w, browser);
      const home = await browser.get('/');
      assert.match(home.text_, /Connect your bank/);
      assert.match(home.text_, /role="alert"/);
      assert.ok(w.events.some((e) => e.event === 'connect.failed'));
      assert.equal(w.apiLog.length, 0, 'no token, no call to the bank');
    } finally {
      await w.close();
    }
  });

  it('refreshes a token about to expire, with the key it is bound to; a refused refresh ends the connection', async () => {
    const w = await world({ expiresIn: 5 });
    try {
      const browser = createBrowser(w.fintech.origin);
      await connect(w, browser);
      assert.match((await browser.get('/')).text_, /482,350円/);
      assert.ok(w.stub.refreshes >= 1, 'refreshed before calling the bank');
      w.stub.decision.refuseRefresh = true;
      const ended = await browser.get('/');
      assert.match(ended.text_, /The connection to your bank has ended/);
      assert.match((await browser.get('/')).text_, /Connect your bank/);
    } finally {
      await w.close();
    }
  });

  it('disconnect ends the grant at the authorization server (Grant Management) and forgets the tokens', async () => {
    const w = await world();
    try {
      const browser = createBrowser(w.fintech.origin);
      await connect(w, browser);
      await browser.get('/');
      const reads = w.apiLog.length;
      const done = await browser.post('/disconnect', { csrf: browser.csrf() });
      assert.equal(done.status, 303);
      assert.equal(w.stub.revokedGrants.length, 1);
      assert.match((await browser.get('/')).text_, /Disconnected/);
      assert.equal(w.apiLog.length, reads, 'the bank is not called any more');
    } finally {
      await w.close();
    }
  });
});

describe('fintech app: sending money', () => {
  it('checks the form, asks for a one-time domestic_transfer consent, and posts the approved transfer with an Idempotency-Key', async () => {
    const w = await world();
    try {
      const browser = createBrowser(w.fintech.origin);
      await connect(w, browser);
      await browser.get('/transfer');
      const bad = await browser.post('/transfer', { csrf: browser.csrf(), ...PAYEE, bank_code: '1', amount: '1,000,001', payee_name: '' });
      assert.equal(bad.status, 400);
      for (const words of ['The bank code is 4 digits', 'Enter a whole number of yen', 'Enter the payee']) assert.ok(bad.text_.includes(words), words);
      assert.match(bad.text_, /aria-invalid="true"/);

      const result = await sendMoney(w, browser);
      assert.match(result.text_, /Transfer made/);
      assert.match(result.text_, /12,000円/);
      const ro = w.stub.requestObjects.at(-1)!;
      assert.equal(ro.scope, 'openid', 'no offline_access: a transfer is one use');
      assert.equal(ro.prompt, undefined);
      assert.deepEqual(ro.authorization_details, [{
        type: 'domestic_transfer', instructed_amount: { currency: 'JPY', amount: '12000' }, creditor_name: 'カクウ タロウ',
        creditor_account: { bank_code: '0001', branch_code: '001', account_type: 'ordinary', account_number: '2345678' }, remittance_information: '立替分', locations: [AUDIENCE],
      }]);
      const posted = w.apiLog.filter((l) => l.path === '/v1/transfers');
      assert.deepEqual(posted.map((l) => [l.status, l.account]), [[201, '0001-001-1234567']]);
      assert.match((await browser.get('/')).text_, /470,350円/);
    } finally {
      await w.close();
    }
  });

  it('does not send when someone else approved at the bank, and says why when the bank refuses (not enough money)', async () => {
    const w = await world();
    try {
      const browser = createBrowser(w.fintech.origin);
      await connect(w, browser);
      w.stub.decision.sub = 'someone-else';
      const other = await sendMoney(w, browser);
      assert.match(other.text_, /The transfer was not made/);
      assert.match(other.text_, /Someone other than the person who connected/);
      assert.equal(w.apiLog.filter((l) => l.path === '/v1/transfers').length, 0);

      w.stub.decision.sub = 'account-hanako';
      const poor = await sendMoney(w, browser, { ...PAYEE, amount: '900000' });
      assert.match(poor.text_, /There was not enough money/);
      assert.deepEqual(w.apiLog.filter((l) => l.path === '/v1/transfers').map((l) => l.status), [422]);
    } finally {
      await w.close();
    }
  });
});
