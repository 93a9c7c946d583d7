import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { domesticTransfer as type, yen } from './domestic-transfer.ts';
import { linkedResources, validation } from './test-support.ts';

const linked = linkedResources(['a1', 'bank_account', '普通 ****4567 (Main)'], ['a2', 'bank_account', '当座 ****1234']);

const valid = {
  type: 'domestic_transfer',
  instructed_amount: { currency: 'JPY', amount: '10000' },
  creditor_name: 'ヤマダ タロウ',
  creditor_account: { bank_code: '0001', branch_code: '001', account_type: 'ordinary', account_number: '1234567' },
  requested_execution_date: '2025-04-01',
  remittance_information: '請求書 123',
  locations: ['https://api.bank.example/transfers'],
};
const { detailOf, refusal } = validation(type);
const without = (key: string) => Object.fromEntries(Object.entries(valid).filter(([k]) => k !== key));

describe('domestic_transfer', () => {
  it('accepts a well-formed transfer, and one without the optional members; it is one-time and sensitive', () => {
    assert.deepEqual(detailOf(valid), valid);
    const { requested_execution_date: _d, remittance_information: _r, locations: _l, ...minimal } = valid;
    assert.deepEqual(detailOf(minimal), minimal);
    assert.equal(type.oneTime, true);
    assert.equal(type.label.sensitive, true);
    assert.deepEqual(detailOf({ ...valid, instructed_amount: { currency: 'JPY', amount: '9999999999' } }).instructed_amount, { currency: 'JPY', amount: '9999999999' });
    assert.ok(detailOf({ ...valid, requested_execution_date: '2028-02-29' }), 'a leap day');
  });

  it('refuses each malformed member with a message naming it', () => {
    const account = valid.creditor_account;
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [without('instructed_amount'), /^instructed_amount: missing/],
      [{ ...valid, instructed_amount: { currency: 'USD', amount: '10' } }, /^instructed_amount\.currency: must be JPY/],
      [{ ...valid, instructed_amount: { currency: 'JPY', amount: 10000 } }, /^instructed_amount\.amount: must be a string/],
      ...['0', '010', '-5', '1.5', '10000000000', '', '１０', '1e3', ' 10'].map((amount): [Record<string, unknown>, RegExp] =>
        [{ ...valid, instructed_amount: { currency: 'JPY', amount } }, /^instructed_amount\.amount: must be a whole number of yen/]),
      [{ ...valid, instructed_amount: { currency: 'JPY', amount: '10', fee: '1' } }, /^instructed_amount: unknown member fee/],
      [without('creditor_name'), /^creditor_name: missing/],
      [{ ...valid, creditor_name: '' }, /^creditor_name: must not be empty/],
      [{ ...valid, creditor_name: '   ' }, /^creditor_name: must not be blank/],
      [{ ...valid, creditor_name: 'x'.repeat(71) }, /^creditor_name: at most 70 characters/],
      [{ ...valid, creditor_name: 'ヤマダ\nタロウ' }, /^creditor_name: must not contain control characters/],
      [{ ...valid, creditor_name: 'ヤマダ\u202eウロタ' }, /^creditor_name: must not contain control characters/],
      [without('creditor_account'), /^creditor_account: missing/],
      [{ ...valid, creditor_account: { ...account, bank_code: '001' } }, /^creditor_account\.bank_code: must be 4 digits/],
      [{ ...valid, creditor_account: { ...account, bank_code: '０００１' } }, /^creditor_account\.bank_code: must be 4 digits/],
      [{ ...valid, creditor_account: { ...account, branch_code: '0001' } }, /^creditor_account\.branch_code: must be 3 digits/],
      [{ ...valid, creditor_account: { ...account, account_type: 'checking' } }, /^creditor_account\.account_type: must be ordinary or current or savings/],
      [{ ...valid, creditor_account: { ...account, account_number: '123456' } }, /^creditor_account\.account_number: must be 7 digits/],
      [{ ...valid, creditor_account: { ...account, iban: 'x' } }, /^creditor_account: unknown member iban/],
      [{ ...valid, requested_execution_date: '2025-02-30' }, /^requested_execution_date: must be a date/],
      [{ ...valid, requested_execution_date: '2025-4-1' }, /^requested_execution_date: must be a date/],
      [{ ...valid, requested_execution_date: '2025-04-01T00:00:00Z' }, /^requested_execution_date: must be a date/],
      [{ ...valid, remittance_information: 'x'.repeat(141) }, /^remittance_information: at most 140 characters/],
      [{ ...valid, locations: ['ftp://x.example/'] }, /^locations\[0\]: must be an https URL/],
      [{ ...valid, debtor_account: { bank_code: '0001' } }, /^debtor_account: chosen by the person/],
      [{ ...valid, actions: ['initiate'] }, /^unknown member actions/],
      [{ ...valid, type: 'account_information' }, /^type: must be domestic_transfer/],
    ];
    for (const [detail, message] of cases) assert.match(refusal(detail), message, JSON.stringify(detail));
  });

  it('asks which account to pay from: one, from the person\'s bank accounts', async () => {
    const groups = await type.choices(detailOf(valid), linked);
    assert.equal(groups.length, 1);
    assert.equal(groups[0]!.name, 'debtor_account');
    assert.equal(groups[0]!.multiple, false);
    assert.equal(groups[0]!.min, 1);
    assert.deepEqual(groups[0]!.options.map((o) => o.id), ['a1', 'a2']);
  });

  it('grants with the debit account chosen; refuses a foreign id, none, or two', async () => {
    const detail = detailOf(valid);
    const groups = await type.choices(detail, linked);
    assert.deepEqual(type.grant(detail, { debtor_account: ['a1'] }, groups), { ...valid, debtor_account: { id: 'a1', label: '普通 ****4567 (Main)', ref: 'ref-a1' } });
    assert.equal(type.grant(detail, { debtor_account: ['a1', 'a2'] }, groups), undefined, 'several where one is allowed');
    assert.equal(type.grant(detail, { debtor_account: ['zz'] }, groups), undefined, 'not offered');
    assert.equal(type.grant(detail, { debtor_account: [] }, groups), undefined, 'none');
    assert.equal(type.grant(detail, { accounts: ['a1'] }, groups), undefined, 'another group\'s name');
  });

  it('renders amount, payee, payee account in words and date, escaping what the client sent', () => {
    const detail = detailOf({ ...valid, creditor_name: '<script>alert(1)</script>', remittance_information: '"><img src=x onerror=alert(1)>' });
    const ja = type.render('ja', detail);
    assert.match(ja, /10,000円/);
    assert.match(ja, /振込先/);
    assert.match(ja, /普通 1234567/);
    assert.match(ja, /金融機関コード 0001/);
    assert.match(ja, /2025年4月1日/);
    assert.doesNotMatch(ja, /<script>|<img/);
    assert.match(ja, /&#60;script&#62;alert\(1\)&#60;\/script&#62;/);
    const en = type.render('en', detail);
    assert.match(en, /¥10,000/);
    assert.match(en, /Payee/);
    assert.match(en, /Ordinary 1234567/);
    assert.match(en, /1 April 2025/);
    assert.doesNotMatch(en, /<script>|<img/);
    assert.match(type.render('en', detailOf({ ...valid, creditor_account: { ...valid.creditor_account, account_type: 'current' } })), /Current 1234567/);
    assert.match(type.render('ja', detailOf({ ...valid, creditor_account: { ...valid.creditor_account, account_type: 'savings' } })), /貯蓄 1234567/);
    const { requested_execution_date: _d, ...undated } = valid;
    assert.match(type.render('ja', detailOf(undated)), /承認後すぐ/);
    assert.match(type.render('en', detailOf(undated)), /As soon as you approve/);
  });

  it('summarises a granted transfer in one line', () => {
    const granted = { ...valid, debtor_account: { id: 'a1', label: '普通 ****4567' } };
    assert.equal(type.summary('ja', granted), '振込（ヤマダ タロウへ10,000円、普通 ****4567から）');
    assert.equal(type.summary('en', granted), 'Make a transfer (¥10,000 to ヤマダ タロウ from 普通 ****4567)');
    assert.equal(typeof type.summary('en', { type: 'domestic_transfer', instructed_amount: 'junk' }), 'string');
  });

  it('formats yen with thousands separators', () => {
    assert.equal(yen('en', '1'), '¥1');
    assert.equal(yen('en', '1000'), '¥1,000');
    assert.equal(yen('ja', '9999999999'), '9,999,999,999円');
  });
});
