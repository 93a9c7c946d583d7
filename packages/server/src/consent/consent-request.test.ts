import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildConsentRequest, grantedParts, readDecision, requestedParts, type ConsentRequest } from './consent-request.ts';
import { createCatalogue } from './catalogue.ts';
import { createAuthorizationDetailTypes } from './authorization-details/registry.ts';
import type { NoticeContent } from './notices.ts';

const catalogue = createCatalogue([{ identifier: 'https://bank.example/api', scopes: ['accounts'] }]);
const types = createAuthorizationDetailTypes([]);
const detailType = (t: string) => types.get(t);
const linked = async (kind: string) => kind === 'bank_account'
  ? [{ id: 'acc-1', accountId: 'p', kind, ref: '0001-1', label: 'Main', createdAt: new Date() }, { id: 'acc-2', accountId: 'p', kind, ref: '0001-2', label: 'Savings', createdAt: new Date() }]
  : [];
const notice = { version: 3, content: {
  serviceName: { ja: '家計簿', en: 'Household book' }, legalName: { ja: '株式会社例', en: 'Example KK' }, contact: 'help@example.jp',
  purposes: [{ id: 'book', text: { ja: '家計簿', en: 'Your household book' } }],
  data: [{ item: 'scope:email', purposes: ['book'], optional: true }, { item: 'scope:profile', purposes: ['book'], optional: false }],
  recipients: [], retention: { ja: '1年', en: 'One year' }, keepsData: true, jurisdiction: 'JP',
} as NoticeContent };

async function request(over: Partial<Parameters<typeof buildConsentRequest>[0]> = {}): Promise<ConsentRequest> {
  return buildConsentRequest({
    clientId: 'app', clientName: 'App', username: 'hanako', action: 'create',
    prompt: {
      missingOIDCScope: ['openid', 'profile', 'email', 'offline_access'],
      missingResourceScopes: { 'https://bank.example/api': ['accounts'] },
      rar: [{ type: 'account_information', actions: ['read_balances'] }],
    },
    verifiedClaims: [], existing: undefined, notice, catalogue, detailType, linked, maxGrantDays: 90, ...over,
  });
}
const form = (entries: Array<[string, string]>) => new URLSearchParams(entries);
const ok = [['duration', 'ongoing'], ['expires_days', '30'], ['ad.0.accounts', 'acc-2']] as Array<[string, string]>;

describe('the consent request and the decision read against it', () => {
  it('optional items are choices; required ones are not; openid and offline_access are not items', async () => {
    const r = await request();
    assert.deepEqual(r.items.map((i) => [i.key, i.choice]), [['scope:profile', false], ['scope:email', true], ['resource:https://bank.example/api accounts', true]]);
    assert.equal(r.signIn, true);
    assert.equal(r.duration.ongoingOffered, true);
    assert.deepEqual(r.duration.choices, [90, 30, 7, 1]);
    assert.deepEqual(r.details[0]!.groups[0]!.options.map((o) => o.id), ['acc-1', 'acc-2']);
  });

  it('grants what was ticked and offered, never a forged key', async () => {
    const r = await request();
    const d = readDecision(r, form([...ok, ['item', 'scope:email'], ['item', 'scope:phone'], ['item', 'claim:address']]), detailType);
    assert.ok(typeof d === 'object');
    const parts = grantedParts(r, d);
    assert.deepEqual(parts.scopes, ['openid', 'profile', 'email', 'offline_access']);
    assert.deepEqual(parts.resources, {}, 'the unticked sensitive API scope is not granted');
    assert.deepEqual(parts.authorizationDetails, [{ type: 'account_information', actions: ['read_balances'], accounts: [{ id: 'acc-2', label: 'Savings', ref: '0001-2' }] }]);
    assert.deepEqual(d.declined.map((i) => i.key), ['resource:https://bank.example/api accounts']);
    assert.ok(requestedParts(r).scopes.includes('email'));
  });

  it('an account that was not offered, or none, is asked again', async () => {
    const r = await request();
    assert.equal(readDecision(r, form([['duration', 'ongoing'], ['expires_days', '30'], ['ad.0.accounts', 'someone-elses']]), detailType), 'consent.choose_options');
    assert.equal(readDecision(r, form([['duration', 'ongoing'], ['expires_days', '30']]), detailType), 'consent.choose_options');
  });

  it('how long is chosen by the person, within what was offered', async () => {
    const r = await request();
    const without = ok.filter(([k]) => k !== 'duration' && k !== 'expires_days');
    assert.equal(readDecision(r, form(without), detailType), 'consent.choose_duration');
    assert.equal(readDecision(r, form([...without, ['duration', 'ongoing'], ['expires_days', '9999']]), detailType), 'consent.choose_duration');
    assert.equal(readDecision(r, form([...without, ['duration', 'ongoing']]), detailType), 'consent.choose_duration');
    assert.equal(readDecision(r, form([...without, ['duration', 'ongoing'], ['duration', 'once'], ['expires_days', '7']]), detailType), 'consent.choose_duration');
    const once = readDecision(r, form([...without, ['duration', 'once']]), detailType);
    assert.ok(typeof once === 'object' && once.duration === 'once' && once.days === undefined);
    assert.ok(!grantedParts(r, once).scopes.includes('offline_access'), 'once: no offline access');
  });

  it('a one-time detail makes the whole consent one-time', async () => {
    const transfer = { type: 'domestic_transfer', instructed_amount: { currency: 'JPY', amount: '100' }, creditor_name: 'Shop', creditor_account: { bank_code: '0001', branch_code: '001', account_type: 'ordinary', account_number: '1234567' } };
    const r = await request({ prompt: { missingOIDCScope: ['openid', 'offline_access'], rar: [transfer] } });
    assert.equal(r.duration.onceOnly, true);
    const d = readDecision(r, form([['duration', 'ongoing'], ['ad.0.debtor_account', 'acc-1']]), detailType);
    assert.ok(typeof d === 'object' && d.duration === 'once', 'a posted "ongoing" does not make a payment reusable');
  });

  it('a replace shows what it removes; a merge what it keeps', async () => {
    const existing = { scopes: ['openid', 'profile', 'phone'], claims: ['address'], resources: {}, authorizationDetails: [] };
    const replace = await request({ action: 'replace', existing, existingDuration: 'ongoing' });
    assert.deepEqual(replace.removed.scopes, ['phone']);
    assert.deepEqual(replace.removed.claims, ['address']);
    assert.equal(replace.duration.fixed, 'ongoing');
    const merge = await request({ action: 'merge', existing, existingDuration: 'ongoing' });
    assert.deepEqual(merge.kept, existing);
  });
});
