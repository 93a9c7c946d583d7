import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addDays, isRealDate, tokyoDate } from '../src/bank-data.ts';
import { earliestReadable, sameTransfer } from '../src/bank-api/authority.ts';
import { createIdempotencyStore, idempotencyKey } from '../src/bank-api/idempotency.ts';
import { createLedger } from '../src/bank-api/ledger.ts';
import { period, route } from '../src/bank-api/routes.ts';
import { parseTransferRequest } from '../src/bank-api/transfer-request.ts';
import { readTransferForm } from '../src/fintech/transfer-form.ts';
import { sampleAccounts, SAMPLE_REFS } from '../src/sample-accounts.ts';

describe('small parts', () => {
  it('sample accounts: fictional, the same statement for the same day, ending on the stated balance, checked at start', () => {
    const a = sampleAccounts('2026-06-30');
    const b = sampleAccounts('2026-06-30');
    assert.deepEqual(a, b, 'seeded: the same day gives the same data');
    assert.match(a.bank.name.en, /fictional/);
    for (const account of a.accounts) {
      assert.match(account.nickname.en, /fictional/);
      assert.equal(account.transactions.at(-1)?.balanceAfter ?? account.balance, account.balance);
      assert.ok(account.transactions.every((t) => t.date < '2026-06-30' && t.date >= addDays('2026-06-30', -120)));
      assert.ok(account.transactions.every((t, i, all) => i === 0 || all[i - 1]!.balanceAfter + t.amount === t.balanceAfter), 'running balances add up');
    }
    const main = a.accounts.find((x) => x.ref === SAMPLE_REFS.hanakoMain)!;
    assert.ok(main.transactions.some((t) => t.description.startsWith('給与') && t.amount === 285_000 && t.date.endsWith('-25')));
    const [first] = a.accounts;
    assert.throws(() => createLedger({ ...a, accounts: [{ ...first!, ref: '0001-001-1234568' }] }), /not bank-branch-number/);
    assert.throws(() => createLedger({ ...a, accounts: [first!, first!] }), /twice/);
    assert.throws(() => createLedger({ ...a, accounts: [{ ...first!, balance: -1 }] }), /bad balance/);
  });

  it('dates in Japan time', () => {
    assert.equal(tokyoDate(new Date('2026-03-31T15:00:00Z')), '2026-04-01');
    assert.equal(tokyoDate(new Date('2026-03-31T14:59:59Z')), '2026-03-31');
    assert.equal(addDays('2026-03-01', -1), '2026-02-28');
    assert.ok(isRealDate('2028-02-29'));
    assert.ok(!isRealDate('2026-02-29'));
    assert.ok(!isRealDate('1999-12-31'));
  });

  it('routes and periods', () => {
    assert.deepEqual(route('/accounts'), { kind: 'accounts' });
    assert.deepEqual(route('/accounts/0001-001-1234567/balances'), { kind: 'balances', ref: '0001-001-1234567' });
    assert.deepEqual(route('/accounts/0001%2D001%2D1234567/transactions'), { kind: 'transactions', ref: '0001-001-1234567' });
    assert.deepEqual(route('/accounts/..%2F..%2Fetc/balances'), { kind: 'balances', ref: undefined });
    assert.equal(route('/accounts/0001-001-1234567'), undefined);
    assert.equal(route('/transfers/tr_x/extra'), undefined);
    assert.deepEqual(period(new URLSearchParams('from=2026-01-01'), '2026-03-01'), { ok: true, from: '2026-01-01', to: '2026-03-01' });
    assert.equal(period(new URLSearchParams('from=2026-01-01&from=2026-01-02'), '2026-03-01').ok, false);
  });

  it('Idempotency-Key: a bare token or a Structured Field string, 16 to 64 safe characters, exactly one header', () => {
    const uuid = '8e03978e-40d5-43e8-bc93-6894a57f9324';
    assert.equal(idempotencyKey([uuid]), uuid);
    assert.equal(idempotencyKey([`"${uuid}"`]), uuid);
    for (const bad of [[], [uuid, uuid], ['short'], ['"unterminated'], [`${uuid};x=1`], ['ä'.repeat(20)]]) assert.equal(idempotencyKey(bad), undefined, JSON.stringify(bad));
    const store = createIdempotencyStore<string>({ ttlSeconds: 10, max: 2 });
    store.save('c', 'k1', 'f1', 'a1', 0);
    assert.deepEqual(store.lookup('c', 'k1', 'f1', 1), { kind: 'replay', answer: 'a1' });
    assert.deepEqual(store.lookup('c', 'k1', 'f2', 1), { kind: 'mismatch' });
    assert.deepEqual(store.lookup('other-client', 'k1', 'f1', 1), { kind: 'new' }, 'keys are per client');
    assert.deepEqual(store.lookup('c', 'k1', 'f1', 10_001), { kind: 'new' }, 'forgotten after the TTL');
    store.save('c', 'k2', 'f', 'a2', 2);
    store.save('c', 'k3', 'f', 'a3', 3);
    assert.deepEqual(store.lookup('c', 'k1', 'f1', 4), { kind: 'new' }, 'bounded: the oldest goes first');
  });

  it('a transfer body: the same transfer whatever the member order; the consent must say exactly the same', () => {
    const body = {
      debtor_account: { ref: '0001-001-1234567' }, instructed_amount: { currency: 'JPY', amount: '500' }, creditor_name: 'A',
      creditor_account: { bank_code: '0005', branch_code: '123', account_type: 'savings', account_number: '7654321' },
    };
    const reordered = { creditor_account: { account_number: '7654321', account_type: 'savings', branch_code: '123', bank_code: '0005' }, creditor_name: 'A', instructed_amount: { amount: '500', currency: 'JPY' }, debtor_account: { ref: '0001-001-1234567' } };
    const a = parseTransferRequest(body);
    const b = parseTransferRequest(reordered);
    assert.ok(a.ok && b.ok);
    assert.equal(a.fingerprint, b.fingerprint);
    const detail = { type: 'domestic_transfer', ...body, debtor_account: { id: 'x', label: 'y', ref: '0001-001-1234567' } };
    assert.ok(sameTransfer(detail, a.value));
    assert.ok(!sameTransfer({ ...detail, remittance_information: 'extra' }, a.value));
    assert.ok(!sameTransfer({ ...detail, debtor_account: { id: 'x', label: 'y' } }, a.value), 'a detail naming no account pays from none');
  });

  it('transaction history windows: the widest detail wins, and one without a limit means no limit', () => {
    const today = '2026-06-30';
    assert.equal(earliestReadable([{ type: 'account_information', transaction_history_days: 30 }], today), '2026-05-31');
    assert.equal(earliestReadable([{ type: 'account_information', transaction_history_days: 30 }, { type: 'account_information', transaction_history_days: 90 }], today), '2026-04-01');
    assert.equal(earliestReadable([{ type: 'account_information', transaction_history_days: 30 }, { type: 'account_information' }], today), undefined);
  });

  it('the Send money form: full-width digits and commas are understood; the rest is strict', () => {
    const form = (fields: Record<string, string>) => new URLSearchParams({
      payee_name: 'カクウ タロウ', bank_code: '０００１', branch_code: '001', account_type: 'ordinary', account_number: '２３４５６７８', amount: '１２，０００円', ...fields,
    });
    const ok = readTransferForm(form({}), 1_000_000);
    assert.ok(ok.ok);
    assert.deepEqual([ok.value.bankCode, ok.value.accountNumber, ok.value.amount], ['0001', '2345678', 12000]);
    const bad = readTransferForm(form({ account_type: 'checking', amount: '0', payee_name: 'a\u202eb', message: 'x'.repeat(141) }), 1_000_000);
    assert.ok(!bad.ok);
    assert.deepEqual(bad.fields.sort(), ['account_type', 'amount', 'message', 'payee_name']);
    assert.ok(!readTransferForm(form({ amount: '1000001' }), 1_000_000).ok, 'over the app\'s limit');
  });
});
