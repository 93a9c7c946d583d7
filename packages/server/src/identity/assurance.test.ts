import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  combine, levelOf, passkeyAssurance, passwordAndOtpAssurance, passwordAssurance, reportedAcr, requestedLevels, requiredLevel,
} from './assurance.ts';

const AAL1 = 'urn:sekisho:aal1';
const AAL2 = 'urn:sekisho:aal2';
const AAL3 = 'urn:sekisho:aal3';

describe('assurance: method → acr / amr (NIST SP 800-63B, RFC 8176)', () => {
  it('password is AAL1 with amr pwd', () => {
    assert.deepEqual(passwordAssurance(), { acr: AAL1, amr: ['pwd'], level: 1 });
  });
  it('password + TOTP is AAL2, multi-factor', () => {
    assert.deepEqual(passwordAndOtpAssurance(), { acr: AAL2, amr: ['pwd', 'otp', 'mfa'], level: 2 });
  });
  it('a synced passkey with user verification is AAL2 (swk)', () => {
    assert.deepEqual(passkeyAssurance({ deviceType: 'multiDevice', backedUp: true, userVerified: true }), { acr: AAL2, amr: ['swk', 'user', 'mfa'], level: 2 });
  });
  it('a single-device passkey that says it is backed up counts as synced', () => {
    assert.equal(passkeyAssurance({ deviceType: 'singleDevice', backedUp: true, userVerified: true }).acr, AAL2);
  });
  it('a device-bound passkey with user verification is AAL3 (hwk)', () => {
    assert.deepEqual(passkeyAssurance({ deviceType: 'singleDevice', backedUp: false, userVerified: true }), { acr: AAL3, amr: ['hwk', 'user', 'mfa'], level: 3 });
  });
  it('a passkey without user verification is single-factor AAL1', () => {
    assert.deepEqual(passkeyAssurance({ deviceType: 'singleDevice', backedUp: false, userVerified: false }), { acr: AAL1, amr: ['hwk', 'user'], level: 1 });
  });
  it('step-up keeps both factors: password then device-bound passkey → AAL3, amr lists both', () => {
    const r = combine(passwordAssurance(), passkeyAssurance({ deviceType: 'singleDevice', backedUp: false, userVerified: true }));
    assert.equal(r.acr, AAL3);
    assert.deepEqual(r.amr.sort(), ['hwk', 'mfa', 'pwd', 'user']);
  });
});

describe('assurance: what a request asks for', () => {
  it('reads acr_values and essential acr claims; ignores voluntary claims and unknown values', () => {
    assert.equal(requestedLevels({}), undefined);
    assert.deepEqual(requestedLevels({ acr_values: `${AAL2} urn:other ${AAL3}` }), [2, 3]);
    assert.deepEqual(requestedLevels({ claims: JSON.stringify({ id_token: { acr: { essential: true, value: AAL3 } } }) }), [3]);
    assert.deepEqual(requestedLevels({ claims: JSON.stringify({ id_token: { acr: { essential: true, values: [AAL2] } } }) }), [2]);
    assert.equal(requestedLevels({ claims: JSON.stringify({ id_token: { acr: { value: AAL3 } } }) }), undefined);
    assert.equal(requestedLevels({ claims: '{not json' }), undefined);
    assert.equal(levelOf('urn:other'), undefined);
  });
  it('the required level is the weakest level listed', () => {
    assert.equal(requiredLevel({}), 1);
    assert.equal(requiredLevel({ acr_values: `${AAL3} ${AAL2}` }), 2);
    assert.equal(requiredLevel({ acr_values: AAL3 }), 3);
  });
  it('reports what was achieved, or for an essential acr the strongest requested value it satisfies', () => {
    const aal3 = passkeyAssurance({ deviceType: 'singleDevice', backedUp: false, userVerified: true });
    assert.equal(reportedAcr(aal3, {}), AAL3);
    assert.equal(reportedAcr(aal3, { acr_values: `${AAL2} ${AAL3}` }), AAL3);
    assert.equal(reportedAcr(aal3, { acr_values: AAL1 }), AAL3, 'acr_values is a preference: the truth is reported');
    assert.equal(reportedAcr(aal3, { claims: JSON.stringify({ id_token: { acr: { essential: true, value: AAL2 } } }) }), AAL2);
    assert.equal(reportedAcr(passwordAssurance(), { acr_values: AAL2 }), AAL1, 'never reports more than was done');
  });
});
