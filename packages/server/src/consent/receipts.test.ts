import { it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { createReceipts } from './receipts.ts';
import { createCatalogue } from './catalogue.ts';
import { createAuthorizationDetailTypes } from './authorization-details/registry.ts';
import type { ConsentRecord, ConsentScope } from './ledger.ts';

async function receiptFor(granted: ConsentScope, noticeVersion: string | null = null) {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'k1', alg: 'ES256' };
  const receipts = createReceipts([jwk], {
    issuer: 'https://as.example.jp', controller: '関所銀行', jurisdiction: 'JP',
    sensitivity: { catalogue: createCatalogue([]), detailTypes: createAuthorizationDetailTypes([]) },
  });
  const record: ConsentRecord = {
    seq: 1, id: '00000000-0000-4000-8000-000000000001', recordedAt: new Date(), subject: 'p', actor: null, clientId: 'app', grantId: 'g',
    action: 'create', decision: 'approved', channel: 'web', noticeVersion, shownHash: null, requested: granted, granted,
    context: {}, retainUntil: new Date(Date.now() + 86_400_000), prevHash: '0'.repeat(64), hash: '1'.repeat(64),
  };
  return decodeJwt(await receipts.sign(record));
}

it('marks a receipt sensitive, naming the sensitive parts, only when it has some', async () => {
  const plain = await receiptFor({ scopes: ['openid', 'email'], claims: [], resources: {}, authorizationDetails: [] });
  assert.equal(plain.sensitive, false);
  assert.equal(plain.spiCat, undefined);
  const money = await receiptFor({ scopes: ['openid', 'email'], claims: ['verified_claims.family_name'], resources: {}, authorizationDetails: [{ type: 'account_information', actions: ['read_balances'] }] });
  assert.equal(money.sensitive, true);
  assert.deepEqual(money.spiCat, ['claim:verified_claims.family_name', 'authorization_details:account_information']);
});

it('points policyUrl at the exact notice version the person was shown', async () => {
  assert.equal((await receiptFor({ scopes: ['openid'], claims: [], resources: {}, authorizationDetails: [] }, 'kakeibo-biyori@3')).policyUrl, 'https://as.example.jp/notices/kakeibo-biyori/3');
  assert.equal((await receiptFor({ scopes: ['openid'], claims: [], resources: {}, authorizationDetails: [] })).policyUrl, 'https://as.example.jp');
});
