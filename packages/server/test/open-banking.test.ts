/**
 * The open-banking scenario over HTTP with its real parts (examples/bank) and a real Sekisho: a
 * person connects their bank account to the fintech app (FAPI 2.0 Message Signing: PAR with a
 * signed request object, PKCE, DPoP, JARM, private_key_jwt), picking one account on Sekisho's
 * consent screen; the app shows its balance; the person sends money with a one-time consent; the
 * bank executes a consented transfer once (an Idempotency-Key replay gets the same answer, a second
 * attempt is refused); Disconnect ends the grant through Grant Management and the bank refuses the
 * old token. Sekisho's pages are driven as a person would submit them (support/user-agent.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { createBankClient } from '../../../examples/bank/src/fintech/bank-client.ts';
import { accountInformationDetail, transferDetail } from '../../../examples/bank/src/fintech/transfer-form.ts';
import { PROBLEM_TYPES } from '../../../examples/bank/src/bank-api/responses.ts';
import { SAMPLE_REFS } from '../../../examples/bank/src/sample-accounts.ts';
import { createGrants } from '../src/consent/grants.ts';
import { startBankScenario, type BankScenario } from './support/bank-scenario.ts';
import type { ConsentAnswers } from './support/consent-form.ts';
import { createUserAgent, type UserAgent } from './support/user-agent.ts';
import type { TestUser } from './support/users.ts';

const CACHE_SECONDS = 1;
const PAYEE = { payee_name: 'カクウ タロウ', bank_code: '0001', branch_code: '001', account_type: 'ordinary', account_number: '2345678', amount: '12,000', message: '立替分' };
const TRANSFER = { creditorName: 'カクウ タロウ', bankCode: '0001', branchCode: '001', accountType: 'ordinary' as const, accountNumber: '2345678', amount: 5000 };

/** The person's browser at the fintech app: one cookie jar, redirects looked at, not followed. */
function fintechBrowser(origin: string) {
  const jar = new Map<string, string>();
  let last = '';
  async function send(path: string, init: RequestInit = {}): Promise<Response & { text_: string }> {
    const headers = new Headers(init.headers);
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(new URL(path, origin), { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      if (/Max-Age=0/i.test(line)) jar.delete(pair!.slice(0, eq));
      else jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    last = await response.text();
    return Object.assign(response, { text_: last });
  }
  return {
    jar,
    get: (path: string) => send(path),
    post: (path: string, fields: Record<string, string>) => send(path, {
      method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
    }),
    csrf(): string {
      const m = /name="csrf" value="([^"]+)"/.exec(last);
      if (!m) throw new Error('no CSRF token on the page');
      return m[1]!;
    },
  };
}

describe('open banking over HTTP: the example fintech and bank with a real Sekisho', () => {
  let world: BankScenario;
  let person: TestUser;
  let sekisho: UserAgent;
  const browser = () => fintechBrowser(world.fintech.url);
  let app: ReturnType<typeof fintechBrowser>;

  before(async () => {
    world = await startBankScenario({ introspectionCacheSeconds: CACHE_SECONDS });
    person = await world.addPerson();
    sekisho = createUserAgent(world.server.dispatcher(), world.server.issuer);
    app = browser();
  });
  after(() => world?.close());

  /** The browser is at Sekisho (after the app's 303): sign in if needed, consent, and come back to the app's callback. */
  async function atSekisho(location: string, answers: ConsentAnswers | undefined) {
    assert.ok(location.startsWith(`${world.server.issuer}/`), location);
    const { callback, page } = await sekisho.authorize(location, { username: person.username, password: person.password, ...(answers ? { answers } : {}) });
    assert.ok(callback, `Sekisho did not send the browser back: ${page?.status} ${page?.body.slice(0, 300)}`);
    assert.ok(callback.startsWith(`${world.fintech.url}/callback?`), callback);
    // JARM: only the signed `response` comes back, no bare code or state.
    const params = new URL(callback).searchParams;
    assert.deepEqual([...params.keys()], ['response']);
    return callback.slice(world.fintech.url.length);
  }

  it('connects a bank account: PAR with a signed request object, the person picks one account, the dashboard shows its balance', async () => {
    const home = await app.get('/');
    assert.equal(home.status, 200);
    assert.match(home.text_, /Connect your bank/);
    assert.match(home.headers.get('content-security-policy')!, new RegExp(`form-action 'self' ${world.server.issuer}`));
    const cookie = home.headers.getSetCookie()[0]!;
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);

    const connect = await app.post('/connect', { csrf: app.csrf() });
    assert.equal(connect.status, 303);
    const authorization = new URL(connect.headers.get('location')!);
    assert.deepEqual([...authorization.searchParams.keys()].sort(), ['client_id', 'request_uri'], 'only the PAR handle travels through the browser');
    const sessionBefore = [...app.jar.values()][0];

    const callback = await atSekisho(authorization.href, { choices: { 'ad.0.accounts': ['Everyday'] } });
    const back = await app.get(callback);
    assert.equal(back.status, 303);
    assert.equal(back.headers.get('location'), '/');
    assert.notEqual([...app.jar.values()][0], sessionBefore, 'a new session id once connected');

    const dashboard = await app.get('/');
    assert.equal(dashboard.status, 200);
    assert.match(dashboard.text_, /Your accounts/);
    assert.match(dashboard.text_, /Your bank account is connected/);
    assert.match(dashboard.text_, /482,350円/);
    assert.match(dashboard.text_, /カクウ ハナコ/);
    assert.doesNotMatch(dashboard.text_, /1,250,000円/, 'the savings account was not picked');
    const reads = world.apiLog.filter((l) => l.client_id === world.fintech.clientId);
    assert.ok(reads.some((l) => l.path === '/v1/accounts' && l.status === 200 && l.sub === person.id));
    assert.ok(reads.every((l) => l.account === undefined || l.account === SAMPLE_REFS.hanakoMain), JSON.stringify(reads));
    assert.ok(world.fintech.events.some((e) => e.event === 'connect.finished' && e.accounts === 1));
    assert.ok(!JSON.stringify(world.fintech.events).match(/[A-Za-z0-9_-]{43}/), 'no token in the app\'s log');
  });

  it('sends money with a one-time consent: the person picks the account to pay from; the bank executes it and the balance drops', async () => {
    await app.get('/transfer');
    const bad = await app.post('/transfer', { csrf: app.csrf(), ...PAYEE, account_number: '234567', amount: '0' });
    assert.equal(bad.status, 400);
    assert.match(bad.text_, /The account number is 7 digits/);
    assert.match(bad.text_, /Enter a whole number of yen/);

    const send = await app.post('/transfer', { csrf: app.csrf(), ...PAYEE });
    assert.equal(send.status, 303);
    const callback = await atSekisho(send.headers.get('location')!, { choices: { 'ad.0.debtor_account': ['Everyday'] } });
    const back = await app.get(callback);
    assert.equal(back.status, 303);
    assert.match(back.headers.get('location')!, /^\/transfers\/[A-Za-z0-9_-]{16}$/);
    const result = await app.get(back.headers.get('location')!);
    assert.match(result.text_, /Transfer made/);
    assert.match(result.text_, /12,000円/);
    assert.match(result.text_, /普通 \*\*\*\*4567/);

    const dashboard = await app.get('/');
    assert.match(dashboard.text_, /470,350円/);
    assert.match(dashboard.text_, /振込 カクウ タロウ/);
    const made = world.apiLog.filter((l) => l.path === '/v1/transfers' && l.client_id === world.fintech.clientId);
    assert.deepEqual(made.map((l) => [l.status, l.sub, l.account]), [[201, person.id, SAMPLE_REFS.hanakoMain]]);
    const once = await world.server.app.storage.db.selectFrom('consent_grants').select(['status']).where('client_id', '=', world.fintech.clientId)
      .where('account_id', '=', person.id).where('duration', '=', 'once').execute();
    assert.deepEqual(once.map((g) => g.status), ['used'], 'the transfer consent was one-time, and is used up');
  });

  it('a consented transfer executes once: the same Idempotency-Key replays the answer, another key is 409, another amount 403; no refresh token', async () => {
    const fapi = world.fapiClient();
    const bank = createBankClient({ bankUrl: world.apiUrl });
    const { url, pending } = await fapi.authorize([transferDetail(TRANSFER, world.apiUrl)], false);
    const callback = await atSekisho(url, undefined);
    const tokens = await fapi.finish(new URL(callback, world.fintech.url), pending);
    assert.equal(tokens.refreshToken, undefined, 'a one-time consent issues an access token only');
    assert.doesNotMatch(tokens.accessToken, /\./, 'opaque (introspected), not a JWT: the bank API is configured so');
    assert.equal(tokens.sub, person.id);
    const granted = tokens.authorizationDetails[0] as Record<string, unknown>;
    const body = {
      debtor_account: { ref: (granted.debtor_account as { ref: string }).ref },
      instructed_amount: granted.instructed_amount, creditor_name: granted.creditor_name, creditor_account: granted.creditor_account,
    };
    assert.equal(body.debtor_account.ref, SAMPLE_REFS.hanakoMain);

    const key = randomUUID();
    const first = await bank.transfer(tokens.accessToken, pending.dpop, body, key);
    assert.ok(first.ok, JSON.stringify(first));
    const replay = await bank.transfer(tokens.accessToken, pending.dpop, body, key);
    assert.ok(replay.ok && replay.replayed, JSON.stringify(replay));
    assert.equal(replay.value.id, first.value.id);
    const second = await bank.transfer(tokens.accessToken, pending.dpop, body, randomUUID());
    assert.deepEqual(second, { ok: false, kind: 'problem', status: 409, type: PROBLEM_TYPES.consentUsed });
    const more = await bank.transfer(tokens.accessToken, pending.dpop, { ...body, instructed_amount: { currency: 'JPY', amount: '50000' } }, randomUUID());
    assert.deepEqual(more, { ok: false, kind: 'forbidden' });
    const balance = await bank.balance(tokens.accessToken, pending.dpop, SAMPLE_REFS.hanakoMain);
    assert.deepEqual(balance, { ok: false, kind: 'forbidden' }, 'a transfer consent reads no balance');
    const grant = await world.server.app.storage.db.selectFrom('consent_grants').select(['duration', 'status']).where('id', '=', tokens.grantId!).executeTakeFirstOrThrow();
    assert.deepEqual(grant, { duration: 'once', status: 'used' });
  });

  it('disconnect: the app revokes the grant through Grant Management, forgets the tokens, and says so', async () => {
    const dashboard = await app.get('/');
    const disconnect = await app.post('/disconnect', { csrf: app.csrf() });
    assert.equal(disconnect.status, 303, dashboard.text_.slice(0, 200));
    const home = await app.get('/');
    assert.match(home.text_, /Disconnected\. This app can no longer read your accounts\./);
    assert.match(home.text_, /Connect your bank/);
    const grants = await world.server.app.storage.db.selectFrom('consent_grants').select(['status', 'duration'])
      .where('client_id', '=', world.fintech.clientId).where('account_id', '=', person.id).where('duration', '!=', 'once').execute();
    assert.deepEqual(grants.map((g) => g.status), ['revoked'], 'the connection\'s grant has ended at Sekisho');
    assert.equal((await app.get('/transfer')).status, 303, 'nothing to send money with');
  });

  it('after a disconnect the bank answers 401 invalid_token for the old access token, and the refresh token is dead', async () => {
    const fapi = world.fapiClient();
    const { url, pending } = await fapi.authorize([accountInformationDetail(world.apiUrl, 90)], true);
    const tokens = await fapi.finish(new URL(await atSekisho(url, undefined), world.fintech.url), pending);
    assert.ok(tokens.grantId && tokens.refreshToken);
    const accounts = new URL(`${world.apiUrl}/accounts`);
    const read = () => oauth.protectedResourceRequest(tokens.accessToken, 'GET', accounts, undefined, undefined, { DPoP: pending.dpop, [oauth.allowInsecureRequests]: true });
    assert.equal((await read()).status, 200);

    await fapi.revokeGrant(tokens.grantId);
    // The bank reuses an introspection answer for CACHE_SECONDS; after that the revocation shows.
    await new Promise((r) => setTimeout(r, CACHE_SECONDS * 1000 + 200));
    await assert.rejects(read(), (err: unknown) => err instanceof oauth.WWWAuthenticateChallengeError && err.status === 401
      && err.cause[0]?.scheme === 'dpop' && err.cause[0]?.parameters.error === 'invalid_token');
    assert.equal(world.apiLog.at(-1)!.reason, 'ERR_TOKEN_INACTIVE');
    await assert.rejects(fapi.refresh(tokens.refreshToken!, pending.dpop), (err: { error?: string }) => err.error === 'invalid_grant');
  });

  it('a consent the person withdraws at Sekisho ends the connection: the dashboard says so and forgets it', async () => {
    const again = await app.post('/connect', { csrf: (await app.get('/'), app.csrf()) });
    const back = await app.get(await atSekisho(again.headers.get('location')!, undefined));
    assert.equal(back.status, 303);
    assert.match((await app.get('/')).text_, /482,350円|470,350円/);
    const grant = await world.server.app.storage.db.selectFrom('consent_grants').select('id')
      .where('client_id', '=', world.fintech.clientId).where('account_id', '=', person.id).where('status', '=', 'active').executeTakeFirstOrThrow();
    // What 同意の管理 (My consents) does when the person withdraws it.
    assert.ok(await createGrants(world.server.app.storage.db).revoke(person.id, grant.id));
    await new Promise((r) => setTimeout(r, CACHE_SECONDS * 1000 + 200));
    const ended = await app.get('/');
    assert.match(ended.text_, /The connection to your bank has ended/);
    assert.match(ended.text_, /Connect your bank/);
    assert.ok(world.fintech.events.some((e) => e.event === 'connection.ended'));
  });

  it('refuses forged posts and answers it was not waiting for', async () => {
    const stranger = browser();
    await stranger.get('/');
    assert.equal((await stranger.post('/connect', { csrf: 'forged' })).status, 403);
    const crossSite = await fetch(`${world.fintech.url}/connect`, { method: 'POST', redirect: 'manual', headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=x' });
    assert.equal(crossSite.status, 403);
    assert.equal((await stranger.get('/callback?response=eyJhbGciOiJub25lIn0.e30.')).status, 400);
  });
});
