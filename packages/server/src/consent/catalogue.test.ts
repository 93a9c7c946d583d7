import { it } from 'node:test';
import assert from 'node:assert/strict';
import { SCOPE_CLAIMS } from '../protocol/claims-catalogue.ts';
import { BUILT_IN_CLAIMS, BUILT_IN_SCOPES, createCatalogue } from './catalogue.ts';

it('every scope and claim Sekisho serves has a short and a long label in Japanese and English', () => {
  const claims = new Set<string>();
  for (const [name, value] of Object.entries(SCOPE_CLAIMS)) {
    if (Array.isArray(value)) {
      assert.ok(BUILT_IN_SCOPES[name], `scope ${name}`);
      for (const c of value) claims.add(c);
    } else if (value === null && !['acr', 'auth_time'].includes(name)) claims.add(name);
  }
  assert.ok(BUILT_IN_SCOPES.offline_access);
  for (const c of claims) {
    if (['sub', 'amr'].includes(c)) continue; // protocol claims, always part of signing in
    assert.ok(BUILT_IN_CLAIMS[c], `claim ${c}`);
  }
  for (const e of [...Object.values(BUILT_IN_SCOPES), ...Object.values(BUILT_IN_CLAIMS)]) {
    for (const text of [e.short.ja, e.short.en, e.long.ja, e.long.en]) assert.ok(text.trim().length > 0);
    assert.notEqual(e.short.ja, e.short.en, 'really translated');
  }
  assert.equal(BUILT_IN_CLAIMS.verified_claims!.sensitive, true);
});

it('API scopes take their labels from the configuration; unlabelled ones are reported and shown as sensitive', () => {
  const catalogue = createCatalogue([{
    identifier: 'https://api.bank.example/', scopes: ['accounts', 'transfers'],
    scopeLabels: { accounts: { short: { en: 'See your accounts', ja: '口座の参照' }, long: { en: 'Balances and transactions', ja: '残高と入出金明細' }, sensitive: true } },
  }]);
  assert.equal(catalogue.scope('accounts').short.ja, '口座の参照');
  assert.deepEqual(catalogue.unlabelled, ['https://api.bank.example/ transfers']);
  assert.equal(catalogue.scope('transfers').short.en, 'transfers');
  assert.equal(catalogue.scope('transfers').sensitive, true, 'unknown means careful');
  assert.equal(catalogue.scope('email').short.en, 'See your e-mail address');
});
