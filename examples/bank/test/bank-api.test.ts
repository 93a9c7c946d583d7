import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { dpopKey, dpopProof, type DpopKey } from '@sekisho/example-kit/testing/dpop';
import { listen, type Listening } from '@sekisho/example-kit/testing/listen';
import * as oauth from 'oauth4webapi';
import { createBankApi, type AccessLogLine } from '../src/bank-api.ts';
import { addDays, tokyoDate } from '../src/bank-data.ts';
import { PROBLEM_TYPES } from '../src/bank-api/responses.ts';
import { sampleAccounts, SAMPLE_REFS } from '../src/sample-accounts.ts';
import { startLocalIssuer, type LocalIssuer } from './support/local-issuer.ts';

const AUDIENCE = 'https://api.bank.example/v1';
const MAIN = SAMPLE_REFS.hanakoMain;
const SAVINGS = SAMPLE_REFS.hanakoSavings;
const TARO = SAMPLE_REFS.taroMain;
// Sekisho's ids of the linked accounts: random, and nothing to the bank (only `ref` is).
const linked = (ref: string, label = '普通 ****4567') => ({ id: randomUUID(), label, ref });
const accountInfo = (refs: string[], actions = ['list_accounts', 'read_balances', 'read_transactions'], days: number | undefined = 90) =>
  ({ type: 'account_information', actions, ...(days ? { transaction_history_days: days } : {}), accounts: refs.map((r) => linked(r)) });
const TRANSFER_BODY = {
  debtor_account: { ref: MAIN },
  instructed_amount: { currency: 'JPY', amount: '12000' },
  creditor_name: 'カクウ タロウ',
  creditor_account: { bank_code: '0001', branch_code: '001', account_type: 'ordinary', account_number: '2345678' },
  remittance_information: '立替分',
};
/** The transfer as Sekisho grants it: what the client asked plus the account the person picked. */
const transferDetail = (body: Record<string, unknown> = TRANSFER_BODY) => {
  const { debtor_account: debtor, ...rest } = body as typeof TRANSFER_BODY;
  return { type: 'domestic_transfer', ...rest, debtor_account: linked(debtor.ref) };
};

let issuer: LocalIssuer;
let api: Listening;
let base: string;
let log: AccessLogLine[] = [];

async function startApi(cacheSeconds = 0): Promise<Listening> {
  const server = await listen();
  server.server.on('request', createBankApi({
    issuer: issuer.issuer, audience: AUDIENCE, publicUrl: `${server.origin}/v1`, data: sampleAccounts(),
    introspection: { ...issuer.bankClient, cacheSeconds }, log: (line) => log.push(line),
  }));
  return server;
}

before(async () => {
  issuer = await startLocalIssuer();
  api = await startApi();
  base = `${api.origin}/v1`;
});
after(async () => { await api.close(); await issuer.close(); });
beforeEach(() => { log = []; issuer.failIntrospection = undefined; });

interface Call { key?: DpopKey; scheme?: string; proof?: Record<string, unknown> | false; headers?: Record<string, string>; body?: unknown; raw?: string; url?: string }

/** A request with a DPoP-bound token; `proof` replaces claims of the DPoP proof (false: no proof). */
async function call(method: string, path: string, token: string | undefined, c: Call = {}): Promise<Response> {
  const url = c.url ?? `${base}${path}`;
  const headers: Record<string, string> = { ...c.headers };
  if (token) {
    headers.authorization = `${c.scheme ?? 'DPoP'} ${token}`;
    if (c.proof !== false) headers.dpop = await dpopProof(c.key!, { htm: method, htu: url.split('?')[0]!, accessToken: token, ...c.proof });
  }
  const body = c.raw ?? (c.body !== undefined ? JSON.stringify(c.body) : undefined);
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  return fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
}

function tokenFor(key: DpopKey, details: unknown[], claims: Record<string, unknown> = {}): string {
  return issuer.mint({ aud: AUDIENCE, cnf: { jkt: key.jkt }, authorization_details: details as Array<Record<string, unknown>>, ...claims });
}

async function problemOf(response: Response, status: number): Promise<Record<string, unknown>> {
  assert.equal(response.status, status);
  assert.equal(response.headers.get('content-type'), 'application/problem+json');
  assert.equal(response.headers.get('cache-control'), 'no-store');
  const body = await response.json() as Record<string, unknown>;
  assert.equal(body.status, status);
  assert.equal(typeof body.title, 'string');
  return body;
}

describe('bank API: tokens (opaque, introspected, DPoP-bound)', () => {
  it('serves an unmodified oauth4webapi client with a good DPoP-bound token', async () => {
    const keyPair = await oauth.generateKeyPair('ES256');
    const dpop = oauth.DPoP({}, keyPair);
    const token = tokenFor({ jkt: await dpop.calculateThumbprint() } as DpopKey, [accountInfo([MAIN])]);
    const response = await oauth.protectedResourceRequest(token, 'GET', new URL(`${base}/accounts`), undefined, null, { DPoP: dpop, [oauth.allowInsecureRequests]: true });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const body = await response.json() as { accounts: Array<Record<string, unknown>> };
    assert.deepEqual(body.accounts.map((a) => a.id), [MAIN]);
    assert.equal(body.accounts[0]!.holder_name, 'カクウ ハナコ');
    assert.equal(body.accounts[0]!.account_type, 'ordinary');
  });

  it('no token: 401 with a DPoP challenge and no error code (RFC 6750 §3.1)', async () => {
    const r = await call('GET', '/accounts', undefined);
    const p = await problemOf(r, 401);
    // The SDK offers both schemes (a token may be DPoP- or certificate-bound), DPoP with its algorithms.
    assert.match(r.headers.get('www-authenticate')!, /DPoP algs="/);
    assert.doesNotMatch(r.headers.get('www-authenticate')!, /error=/);
    assert.equal(p.title, 'Access token required');
    assert.equal(log[0]!.outcome, 'no_token');
  });

  it('refuses an unknown, revoked, expired or other API\'s token as invalid_token, and a Bearer DPoP token', async () => {
    const key = await dpopKey();
    const good = tokenFor(key, [accountInfo([MAIN])]);
    const cases: Array<[string, string, Call?]> = [
      ['unknown', 'x'.repeat(43)],
      ['other audience', tokenFor(key, [accountInfo([MAIN])], { aud: 'https://other.example/' })],
      ['expired', issuer.mint({ aud: AUDIENCE, cnf: { jkt: key.jkt }, authorization_details: [accountInfo([MAIN])] }, { expiresIn: -60 })],
      ['bearer', good, { scheme: 'Bearer', proof: false }],
    ];
    for (const [name, token, c] of cases) {
      const r = await call('GET', '/accounts', token, { key, ...c });
      await problemOf(r, 401);
      assert.match(r.headers.get('www-authenticate')!, /error="invalid_token"/, name);
    }
    const revoked = tokenFor(key, [accountInfo([MAIN])]);
    assert.equal((await call('GET', '/accounts', revoked, { key })).status, 200);
    issuer.revoke(revoked);
    assert.equal((await call('GET', '/accounts', revoked, { key })).status, 401, 'no cache here: revocation is seen at once');
    assert.ok(log.every((l) => !JSON.stringify(l).includes(good) && !JSON.stringify(l).includes(revoked)), 'the log never holds a token');
  });

  it('refuses a DPoP proof that is missing, replayed, for another URL, or signed by another key', async () => {
    const key = await dpopKey();
    const token = tokenFor(key, [accountInfo([MAIN])]);
    const missing = await call('GET', '/accounts', token, { key, proof: false });
    await problemOf(missing, 401);
    assert.match(missing.headers.get('www-authenticate')!, /error="invalid_dpop_proof"/);

    const proof = await dpopProof(key, { htm: 'GET', htu: `${base}/accounts`, accessToken: token });
    const once = await fetch(`${base}/accounts`, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
    assert.equal(once.status, 200);
    const again = await fetch(`${base}/accounts`, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
    assert.equal(again.status, 401);
    assert.match(again.headers.get('www-authenticate')!, /error="invalid_dpop_proof"/);

    const elsewhere = await call('GET', '/accounts', token, { key, proof: { htu: `${base}/transfers` } });
    assert.equal(elsewhere.status, 401);
    const thief = await dpopKey();
    const stolen = await call('GET', '/accounts', token, { key: thief });
    assert.equal(stolen.status, 401);
  });

  it('caches introspection answers for cacheSeconds, so a revocation is seen within that time', async () => {
    const cached = await startApi(60);
    try {
      const key = await dpopKey();
      const token = tokenFor(key, [accountInfo([MAIN])]);
      const url = `${cached.origin}/v1/accounts`;
      const before = issuer.introspections;
      assert.equal((await call('GET', '', token, { key, url })).status, 200);
      issuer.revoke(token);
      assert.equal((await call('GET', '', token, { key, url })).status, 200, 'the cached answer is used');
      assert.equal(issuer.introspections - before, 1);
    } finally {
      await cached.close();
    }
  });

  it('the issuer in trouble: 503 with Retry-After, not a refusal of the token', async () => {
    const key = await dpopKey();
    const token = tokenFor(key, [accountInfo([MAIN])]);
    issuer.failIntrospection = 500;
    const r = await call('GET', '/accounts', token, { key });
    await problemOf(r, 503);
    assert.ok(r.headers.get('retry-after'));
  });
});

describe('bank API: accounts, balances and transactions for the accounts the person picked', () => {
  it('lists only the accounts the consent names (by ref), and needs list_accounts', async () => {
    const key = await dpopKey();
    const both = tokenFor(key, [accountInfo([MAIN, SAVINGS])]);
    const listed = await (await call('GET', '/accounts', both, { key })).json() as { accounts: Array<{ id: string; nickname: { ja: string } }> };
    assert.deepEqual(listed.accounts.map((a) => a.id).sort(), [MAIN, SAVINGS]);
    assert.ok(!listed.accounts.some((a) => a.id === TARO), 'another person\'s account never appears');
    const noList = tokenFor(key, [accountInfo([MAIN], ['read_balances'])]);
    const r = await call('GET', '/accounts', noList, { key });
    await problemOf(r, 403);
    assert.match(r.headers.get('www-authenticate')!, /error="insufficient_scope"/);
    const transferOnly = tokenFor(key, [transferDetail()]);
    assert.equal((await call('GET', '/accounts', transferOnly, { key })).status, 403, 'a transfer consent reads nothing');
    const elsewhere = tokenFor(key, [{ ...accountInfo([MAIN]), locations: ['https://other-bank.example/v1'] }]);
    assert.equal((await call('GET', '/accounts', elsewhere, { key })).status, 403, 'a detail meant for another API (RFC 9396 locations)');
    const here = tokenFor(key, [{ ...accountInfo([MAIN]), locations: [`${AUDIENCE}/`] }]);
    assert.equal((await call('GET', '/accounts', here, { key })).status, 200, 'locations naming this API');
  });

  it('a balance for a granted account; 403 for another account; 400 for a malformed id; 404 for an account the bank does not hold', async () => {
    const key = await dpopKey();
    const token = tokenFor(key, [accountInfo([MAIN, '0001-009-9999999'])]);
    const ok = await call('GET', `/accounts/${MAIN}/balances`, token, { key });
    assert.equal(ok.status, 200);
    const body = await ok.json() as { account_id: string; available: { amount: string; currency: string }; as_of: string };
    assert.equal(body.account_id, MAIN);
    assert.deepEqual(body.available, { amount: '482350', currency: 'JPY' });
    assert.match(body.as_of, /\+09:00$/);
    assert.equal((await call('GET', `/accounts/${TARO}/balances`, token, { key })).status, 403);
    for (const bad of ['1234567', '0001-001-123456', '0001-01-1234567', 'abcd-001-1234567', '%E0%A4%A']) {
      const r = await call('GET', `/accounts/${bad}/balances`, token, { key });
      const p = await problemOf(r, 400);
      assert.equal(p.title, 'Bad account id', bad);
    }
    await problemOf(await call('GET', '/accounts/0001-009-9999999/balances', token, { key }), 404);
    await problemOf(await call('GET', `/accounts/${MAIN}/balances?x=1`, token, { key }), 400);
    const noBalances = tokenFor(key, [accountInfo([MAIN], ['list_accounts'])]);
    assert.equal((await call('GET', `/accounts/${MAIN}/balances`, noBalances, { key })).status, 403);
  });

  it('transactions within transaction_history_days: the default window, an explicit one, and a start before the consent (403)', async () => {
    const key = await dpopKey();
    const today = tokyoDate();
    const token = tokenFor(key, [accountInfo([MAIN], undefined, 30)]);
    const r = await call('GET', `/accounts/${MAIN}/transactions`, token, { key });
    assert.equal(r.status, 200);
    const body = await r.json() as { from: string; to: string; transactions: Array<{ date: string; amount: { amount: string }; balance_after: { amount: string } }> };
    assert.equal(body.from, addDays(today, -30));
    assert.equal(body.to, today);
    assert.ok(body.transactions.length > 5);
    assert.ok(body.transactions.every((t) => t.date >= body.from && t.date <= today));
    assert.ok(body.transactions.every((t, i, all) => i === 0 || all[i - 1]!.date >= t.date), 'newest first');
    assert.equal(body.transactions[0]!.balance_after.amount, '482350', 'the newest line ends on the balance');

    const week = await call('GET', `/accounts/${MAIN}/transactions?from=${addDays(today, -7)}&to=${today}`, token, { key });
    assert.equal(week.status, 200);
    assert.ok((await week.json() as { transactions: Array<{ date: string }> }).transactions.every((t) => t.date >= addDays(today, -7)));

    const tooFar = await call('GET', `/accounts/${MAIN}/transactions?from=${addDays(today, -60)}`, token, { key });
    await problemOf(tooFar, 403);
    const unlimited = tokenFor(key, [accountInfo([MAIN], undefined, 0)]);
    assert.equal((await call('GET', `/accounts/${MAIN}/transactions?from=${addDays(today, -100)}`, unlimited, { key })).status, 200, 'no limit in the consent');
    const unlimitedDefault = await (await call('GET', `/accounts/${MAIN}/transactions`, unlimited, { key })).json() as { from: string };
    assert.equal(unlimitedDefault.from, addDays(today, -90), 'the default is 90 days');
  });

  it('bad periods are 400: not a date, from after to, to in the future, other or repeated parameters, too long', async () => {
    const key = await dpopKey();
    const token = tokenFor(key, [accountInfo([MAIN], undefined, 0)]);
    const today = tokyoDate();
    for (const query of ['from=2026-02-30', 'from=yesterday', `from=${today}&to=${addDays(today, -1)}`, `to=${addDays(today, 2)}`, 'limit=10',
      `from=${addDays(today, -3)}&from=${addDays(today, -2)}`, `from=${addDays(today, -800)}`]) {
      const r = await call('GET', `/accounts/${MAIN}/transactions?${query}`, token, { key });
      const p = await problemOf(r, 400);
      assert.equal(p.title, 'Bad period', query);
    }
  });

  it('unknown paths are 404 and wrong methods 405, as problem+json', async () => {
    const key = await dpopKey();
    const token = tokenFor(key, [accountInfo([MAIN])]);
    await problemOf(await call('GET', '/accounts/x/y/z', token, { key }), 404);
    await problemOf(await call('GET', '/', token, { key }), 404);
    const r = await call('DELETE', '/accounts', token, { key });
    await problemOf(r, 405);
    assert.equal(r.headers.get('allow'), 'GET');
  });
});

describe('bank API: transfers', () => {
  const balance = async (ref: string) => {
    const key = await dpopKey();
    const token = tokenFor(key, [accountInfo([ref])]);
    return ((await (await call('GET', `/accounts/${ref}/balances`, token, { key })).json()) as { available: { amount: string } }).available.amount;
  };

  it('makes the transfer the consent names once: 201, balances move; the same key replays the answer; another key is 409', async () => {
    const key = await dpopKey();
    const token = tokenFor(key, [transferDetail()]);
    const [mainBefore, taroBefore] = [Number(await balance(MAIN)), Number(await balance(TARO))];
    const idempotencyKey = randomUUID();
    const first = await call('POST', '/transfers', token, { key, body: TRANSFER_BODY, headers: { 'idempotency-key': idempotencyKey } });
    assert.equal(first.status, 201, await first.clone().text());
    const made = await first.json() as { id: string; status: string; instructed_amount: unknown; debtor_account: unknown };
    assert.match(made.id, /^tr_[A-Za-z0-9_-]{22}$/);
    assert.equal(made.status, 'executed');
    assert.equal(first.headers.get('location'), `${base}/transfers/${made.id}`);
    assert.deepEqual(made.debtor_account, { ref: MAIN });
    assert.equal(Number(await balance(MAIN)), mainBefore - 12000);
    assert.equal(Number(await balance(TARO)), taroBefore + 12000, 'the payee banks here too');

    // The answer was lost: the same request, the same key (as a Structured Field string this time).
    const replay = await call('POST', '/transfers', token, { key, body: { ...TRANSFER_BODY }, headers: { 'idempotency-key': `"${idempotencyKey}"` } });
    assert.equal(replay.status, 201);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal((await replay.json() as { id: string }).id, made.id);
    assert.equal(Number(await balance(MAIN)), mainBefore - 12000, 'the money moved once');

    const second = await call('POST', '/transfers', token, { key, body: TRANSFER_BODY, headers: { 'idempotency-key': randomUUID() } });
    const p = await problemOf(second, 409);
    assert.equal(p.type, PROBLEM_TYPES.consentUsed);
    assert.equal(Number(await balance(MAIN)), mainBefore - 12000);

    const read = await call('GET', `/transfers/${made.id}`, token, { key });
    assert.equal(read.status, 200);
    assert.equal((await read.json() as { id: string }).id, made.id);
    const stranger = tokenFor(key, [transferDetail()], { client_id: 'another-app' });
    await problemOf(await call('GET', `/transfers/${made.id}`, stranger, { key }), 404);
    await problemOf(await call('GET', '/transfers/tr_nope', token, { key }), 400);
    assert.deepEqual(log.filter((l) => l.path === '/v1/transfers').map((l) => [l.status, l.replayed ?? false]), [[201, false], [201, true], [409, false]]);
  });

  it('the same Idempotency-Key with a different transfer is 422, and nothing moves', async () => {
    const key = await dpopKey();
    const idempotencyKey = randomUUID();
    const first = tokenFor(key, [transferDetail({ ...TRANSFER_BODY, instructed_amount: { currency: 'JPY', amount: '100' } })]);
    assert.equal((await call('POST', '/transfers', first, { key, body: { ...TRANSFER_BODY, instructed_amount: { currency: 'JPY', amount: '100' } }, headers: { 'idempotency-key': idempotencyKey } })).status, 201);
    const before = await balance(MAIN);
    const other = { ...TRANSFER_BODY, instructed_amount: { currency: 'JPY', amount: '200' } };
    const r = await call('POST', '/transfers', tokenFor(key, [transferDetail(other)]), { key, body: other, headers: { 'idempotency-key': idempotencyKey } });
    const p = await problemOf(r, 422);
    assert.equal(p.type, PROBLEM_TYPES.idempotencyKeyReused);
    assert.equal(await balance(MAIN), before);
  });

  it('a body that differs from what the person approved is 403; so is a transfer consent paying from another account', async () => {
    const key = await dpopKey();
    const token = tokenFor(key, [transferDetail()]);
    const headers = { 'idempotency-key': randomUUID() };
    for (const body of [
      { ...TRANSFER_BODY, instructed_amount: { currency: 'JPY', amount: '12001' } },
      { ...TRANSFER_BODY, creditor_name: 'カクウ ジロウ' },
      { ...TRANSFER_BODY, creditor_account: { ...TRANSFER_BODY.creditor_account, account_number: '2345679' } },
      { ...TRANSFER_BODY, debtor_account: { ref: SAVINGS } },
      { ...TRANSFER_BODY, remittance_information: undefined },
    ]) {
      const r = await call('POST', '/transfers', token, { key, body, headers });
      await problemOf(r, 403);
      assert.match(r.headers.get('www-authenticate')!, /error="insufficient_scope"/);
    }
    const readOnly = tokenFor(key, [accountInfo([MAIN])]);
    assert.equal((await call('POST', '/transfers', readOnly, { key, body: TRANSFER_BODY, headers })).status, 403, 'account information cannot move money');
  });

  it('validates the body: each bad member named by a JSON pointer (400), not JSON (400), not application/json (415), too large (413)', async () => {
    const key = await dpopKey();
    const token = tokenFor(key, [transferDetail()]);
    const headers = { 'idempotency-key': randomUUID() };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...TRANSFER_BODY, instructed_amount: { currency: 'JPY', amount: '012000' } }, '/instructed_amount/amount'],
      [{ ...TRANSFER_BODY, instructed_amount: { currency: 'JPY', amount: '-5' } }, '/instructed_amount/amount'],
      [{ ...TRANSFER_BODY, instructed_amount: { currency: 'JPY', amount: '1.5' } }, '/instructed_amount/amount'],
      [{ ...TRANSFER_BODY, instructed_amount: { currency: 'JPY', amount: 12000 } }, '/instructed_amount/amount'],
      [{ ...TRANSFER_BODY, instructed_amount: { currency: 'USD', amount: '12000' } }, '/instructed_amount/currency'],
      [{ ...TRANSFER_BODY, creditor_account: { ...TRANSFER_BODY.creditor_account, account_number: '234567' } }, '/creditor_account/account_number'],
      [{ ...TRANSFER_BODY, creditor_account: { ...TRANSFER_BODY.creditor_account, bank_code: '01' } }, '/creditor_account/bank_code'],
      [{ ...TRANSFER_BODY, creditor_account: { ...TRANSFER_BODY.creditor_account, account_type: 'checking' } }, '/creditor_account/account_type'],
      [{ ...TRANSFER_BODY, debtor_account: { ref: '0001-001-123' } }, '/debtor_account'],
      [{ ...TRANSFER_BODY, creditor_name: '   ' }, '/creditor_name'],
      [{ ...TRANSFER_BODY, creditor_name: 'x'.repeat(71) }, '/creditor_name'],
      [{ ...TRANSFER_BODY, remittance_information: 'a\u0000b' }, '/remittance_information'],
      [{ ...TRANSFER_BODY, requested_execution_date: '2026-02-30' }, '/requested_execution_date'],
      [{ ...TRANSFER_BODY, surprise: true }, '/surprise'],
    ];
    for (const [body, pointer] of cases) {
      const p = await problemOf(await call('POST', '/transfers', token, { key, body, headers }), 400);
      assert.equal(p.type, PROBLEM_TYPES.invalidBody);
      assert.ok((p.errors as Array<{ pointer: string }>).some((e) => e.pointer === pointer), `${pointer}: ${JSON.stringify(p.errors)}`);
    }
    await problemOf(await call('POST', '/transfers', token, { key, raw: '{"debtor_account":', headers }), 400);
    await problemOf(await call('POST', '/transfers', token, { key, raw: '[]', headers }), 400);
    await problemOf(await call('POST', '/transfers', token, { key, raw: JSON.stringify(TRANSFER_BODY), headers: { ...headers, 'content-type': 'text/plain' } }), 415);
    await problemOf(await call('POST', '/transfers', token, { key, raw: JSON.stringify({ ...TRANSFER_BODY, pad: 'x'.repeat(20_000) }), headers }), 413);
  });

  it('needs one well-formed Idempotency-Key', async () => {
    const key = await dpopKey();
    const token = tokenFor(key, [transferDetail()]);
    for (const headers of [{} as Record<string, string>, { 'idempotency-key': 'short' }, { 'idempotency-key': 'has spaces in it, which are not allowed' }, { 'idempotency-key': 'x'.repeat(65) }]) {
      const p = await problemOf(await call('POST', '/transfers', token, { key, body: TRANSFER_BODY, headers }), 400);
      assert.equal(p.title, 'Idempotency-Key required', JSON.stringify(headers));
    }
  });

  it('insufficient funds, a future date, paying into the same account: 422 with the bank\'s problem type; nothing moves', async () => {
    const key = await dpopKey();
    const before = await balance(TARO);
    const big = { ...TRANSFER_BODY, debtor_account: { ref: TARO }, creditor_account: { ...TRANSFER_BODY.creditor_account, account_number: '1234567' }, instructed_amount: { currency: 'JPY', amount: '9999999' } };
    const poor = await call('POST', '/transfers', tokenFor(key, [transferDetail(big)]), { key, body: big, headers: { 'idempotency-key': randomUUID() } });
    assert.equal((await problemOf(poor, 422)).type, PROBLEM_TYPES.insufficientFunds);
    assert.equal(await balance(TARO), before);

    const later = { ...TRANSFER_BODY, requested_execution_date: addDays(tokyoDate(), 3) };
    const r = await call('POST', '/transfers', tokenFor(key, [transferDetail(later)]), { key, body: later, headers: { 'idempotency-key': randomUUID() } });
    assert.equal((await problemOf(r, 422)).type, PROBLEM_TYPES.futureDate);

    const self = { ...TRANSFER_BODY, creditor_account: { ...TRANSFER_BODY.creditor_account, account_number: '1234567' } };
    const same = await call('POST', '/transfers', tokenFor(key, [transferDetail(self)]), { key, body: self, headers: { 'idempotency-key': randomUUID() } });
    assert.equal((await problemOf(same, 422)).type, PROBLEM_TYPES.sameAccount);
  });

  it('a transfer to another bank debits only, and shows on the payer\'s statement', async () => {
    const key = await dpopKey();
    const external = { ...TRANSFER_BODY, creditor_name: '株式会社 関所商店', creditor_account: { bank_code: '0005', branch_code: '123', account_type: 'current', account_number: '7654321' }, instructed_amount: { currency: 'JPY', amount: '3300' } };
    delete (external as { remittance_information?: string }).remittance_information;
    const made = await call('POST', '/transfers', tokenFor(key, [transferDetail(external)]), { key, body: external, headers: { 'idempotency-key': randomUUID() } });
    assert.equal(made.status, 201);
    const reader = tokenFor(key, [accountInfo([MAIN])]);
    const statement = await (await call('GET', `/accounts/${MAIN}/transactions?from=${tokyoDate()}`, reader, { key })).json() as { transactions: Array<{ description: string; amount: { amount: string } }> };
    assert.ok(statement.transactions.some((t) => t.description === '振込 株式会社 関所商店' && t.amount.amount === '-3300'), JSON.stringify(statement));
  });
});
