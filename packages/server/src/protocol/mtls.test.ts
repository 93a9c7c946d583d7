import { it } from 'node:test';
import assert from 'node:assert/strict';
import { sameDistinguishedName } from './mtls.ts';

it('compares a certificate subject with an RFC 4514 DN (reversed order, case-insensitive types, escapes)', () => {
  assert.equal(sameDistinguishedName('C=JP\nO=Example Bank\nCN=fintech-app', 'CN=fintech-app,O=Example Bank,C=JP'), true);
  assert.equal(sameDistinguishedName('C=JP\nO=Example Bank\nCN=fintech-app', 'cn=fintech-app, o=Example Bank, c=JP'), true);
  assert.equal(sameDistinguishedName('O=Acme\\, Inc\nCN=x', 'CN=x,O=Acme\\, Inc'), false, 'escaped comma is part of the value');
  assert.equal(sameDistinguishedName('O=Acme, Inc\nCN=x', 'CN=x,O=Acme\\, Inc'), true);
  assert.equal(sameDistinguishedName('C=JP\nO=Example Bank\nCN=fintech-app', 'CN=other,O=Example Bank,C=JP'), false);
  assert.equal(sameDistinguishedName('C=JP\nCN=fintech-app', 'CN=fintech-app,O=Example Bank,C=JP'), false);
});
