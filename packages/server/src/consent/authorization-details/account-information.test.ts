import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accountInformation as type } from './account-information.ts';
import { linkedResources, validation } from './test-support.ts';

const linked = linkedResources(['a1', 'bank_account', '普通 ****4567 (Main)'], ['a2', 'bank_account', '当座 ****1234'], ['p1', 'fhir_patient', '山田 花子']);

const valid = { type: 'account_information', actions: ['list_accounts', 'read_balances', 'read_transactions'], transaction_history_days: 90, locations: ['https://api.bank.example/accounts'] };
const { detailOf, refusal } = validation(type);

describe('account_information', () => {
  it('accepts a well-formed request, and the smallest one', () => {
    assert.deepEqual(detailOf(valid), valid);
    assert.deepEqual(detailOf({ type: 'account_information', actions: ['read_balances'] }), { type: 'account_information', actions: ['read_balances'] });
    assert.equal(type.label.sensitive, true);
    assert.equal(type.oneTime, false);
  });

  it('refuses each malformed member with a message naming it', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ type: 'domestic_transfer' }, /^type: must be account_information/],
      [{ actions: undefined }, /^actions: missing/],
      [{ actions: [] }, /^actions: must not be empty/],
      [{ actions: 'read_balances' }, /^actions: must be an array/],
      [{ actions: ['read_balances', 'read_balances'] }, /^actions: must not repeat a value/],
      [{ actions: ['transfer'] }, /^actions\[0\]: must be list_accounts or read_balances or read_transactions/],
      [{ transaction_history_days: 0 }, /^transaction_history_days: at least 1 day/],
      [{ transaction_history_days: 731 }, /^transaction_history_days: at most 730 days/],
      [{ transaction_history_days: 1.5 }, /^transaction_history_days: must be a whole number/],
      [{ transaction_history_days: '90' }, /^transaction_history_days: must be a number/],
      [{ actions: ['read_balances'], transaction_history_days: 30 }, /^transaction_history_days: only with the read_transactions action/],
      [{ locations: ['http://api.bank.example/'] }, /^locations\[0\]: must be an https URL/],
      [{ locations: ['https://api.bank.example/#x'] }, /^locations\[0\]: must be an https URL without a fragment/],
      [{ locations: [] }, /^locations: must not be empty/],
      [{ locations: ['https://a.example/', 'https://a.example/'] }, /^locations: must not repeat/],
      [{ datatypes: ['x'] }, /^unknown member datatypes/],
      [{ accounts: [{ id: 'a1' }] }, /^accounts: chosen by the person/],
    ];
    for (const [change, message] of cases) {
      const detail = { ...valid, ...change };
      for (const [k, v] of Object.entries(detail)) if (v === undefined) delete detail[k as keyof typeof detail];
      assert.match(refusal(detail), message, JSON.stringify(change));
    }
  });

  it('offers the person\'s bank accounts, several may be chosen, at least one', async () => {
    const groups = await type.choices(detailOf(valid), linked);
    assert.deepEqual(groups, [{
      name: 'accounts', label: { ja: '参照を許可する口座', en: 'Accounts the service may see' }, multiple: true, min: 1,
      options: [{ id: 'a1', label: '普通 ****4567 (Main)', ref: 'ref-a1' }, { id: 'a2', label: '当座 ****1234', ref: 'ref-a2' }],
    }]);
  });

  it('grants the accounts chosen among those offered, enriched with id and label; refuses anything else', async () => {
    const detail = detailOf(valid);
    const groups = await type.choices(detail, linked);
    assert.deepEqual(type.grant(detail, { accounts: ['a2'] }, groups), { ...valid, accounts: [{ id: 'a2', label: '当座 ****1234', ref: 'ref-a2' }] });
    assert.deepEqual(type.grant(detail, { accounts: ['a1', 'a2'] }, groups)?.accounts, [{ id: 'a1', label: '普通 ****4567 (Main)', ref: 'ref-a1' }, { id: 'a2', label: '当座 ****1234', ref: 'ref-a2' }]);
    assert.equal(type.grant(detail, { accounts: ['p1'] }, groups), undefined, 'a patient record is not an account');
    assert.equal(type.grant(detail, { accounts: ['a1', 'someone-elses'] }, groups), undefined, 'an id not offered');
    assert.equal(type.grant(detail, { accounts: [] }, groups), undefined, 'none chosen');
    assert.equal(type.grant(detail, {}, groups), undefined, 'nothing sent');
    assert.equal(type.grant(detail, { accounts: ['a1', 'a1'] }, groups), undefined, 'repeated');
    assert.equal(type.grant(detail, { accounts: 'a1' as unknown as string[] }, groups), undefined, 'not a list');
    assert.equal(type.grant(detail, { accounts: ['a1'] }, []), undefined, 'no group offered');
    const none = await type.choices(detail, async () => []);
    assert.deepEqual(none[0]!.options, []);
    assert.equal(type.grant(detail, { accounts: [] }, none), undefined, 'a person without accounts cannot grant it');
  });

  it('renders which data and how far back in ja and en', () => {
    const ja = type.render('ja', detailOf(valid));
    assert.match(ja, /口座の一覧/);
    assert.match(ja, /残高/);
    assert.match(ja, /入出金明細（過去90日分）/);
    assert.match(ja, /api\.bank\.example/);
    const en = type.render('en', detailOf(valid));
    assert.match(en, /Balances/);
    assert.match(en, /Transactions \(the last 90 days\)/);
    const balancesOnly = type.render('en', detailOf({ type: 'account_information', actions: ['read_balances'] }));
    assert.doesNotMatch(balancesOnly, /Transactions|list of your accounts/);
    assert.match(type.render('ja', detailOf({ type: 'account_information', actions: ['read_transactions'] })), /入出金明細（銀行が保存している期間すべて）/);
  });

  it('summarises a granted detail with the accounts chosen, and tolerates an odd stored one', () => {
    const granted = { ...valid, accounts: [{ id: 'a1', label: '普通 ****4567' }, { id: 'a2', label: '当座 ****1234' }] };
    assert.equal(type.summary('ja', granted), '口座情報の参照（普通 ****4567、当座 ****1234）');
    assert.equal(type.summary('en', granted), 'See your account information (普通 ****4567, 当座 ****1234)');
    assert.equal(type.summary('en', { type: 'account_information', accounts: ['0123456', null] }), 'See your account information');
  });
});
