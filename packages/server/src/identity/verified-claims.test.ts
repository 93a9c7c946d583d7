import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  releaseVerifiedClaims, requestedVerifiedClaims, validateVerifiedClaimsRequest, verifiedClaimsRequestsIn,
  VerifiedClaimsRequestError, type VerificationRecord, type VerifiedClaimsObject,
} from './verified-claims.ts';

/**
 * Fixtures: the request examples of OpenID Connect for Identity Assurance 1.0 (section 6 and the
 * example requests), `verified_claims` member only; the AML example uses `document_details`, the
 * name the final schema gives the document.
 */
const SPEC = {
  claims: { verification: { trust_framework: null }, claims: { given_name: null, family_name: null, birthdate: null } },
  essential: { verification: { trust_framework: null }, claims: { given_name: { essential: true }, family_name: { essential: true }, birthdate: null } },
  purpose: {
    verification: { trust_framework: null },
    claims: {
      given_name: { essential: true, purpose: 'To make communication look more personal' },
      family_name: { essential: true },
      birthdate: { purpose: 'To send you best wishes on your birthday' },
    },
  },
  verification: { verification: { trust_framework: null, time: null }, claims: { given_name: null, family_name: null, birthdate: null } },
  deeper: {
    verification: { trust_framework: null, time: null, evidence: [{ type: { value: 'document' }, method: null, document_details: { type: null } }] },
    claims: { given_name: null, family_name: null, birthdate: null },
  },
  document: {
    verification: {
      trust_framework: null, time: null,
      evidence: [{ type: { value: 'document' }, method: null, document_details: { type: null, issuer: { country: null, name: null }, document_number: null, date_of_issuance: null } }],
    },
    claims: { given_name: null, family_name: null, birthdate: null },
  },
  differentTrustFrameworks: { verification: { trust_framework: { values: ['gold', 'silver'] } }, claims: { given_name: null, family_name: null } },
  aml: {
    verification: {
      trust_framework: { value: 'de_aml' },
      evidence: [{ type: { value: 'document' }, method: { value: 'pipp' }, document_details: { type: { values: ['idcard', 'passport'] } } }],
    },
    claims: { given_name: null, family_name: null, birthdate: null },
  },
  maxAge: { verification: { trust_framework: { value: 'jp_aml' }, time: { max_age: 63113852 } }, claims: { given_name: null, family_name: null, birthdate: null } },
  byTrustFrameworks: [
    { verification: { trust_framework: { value: 'eidas' }, assurance_level: { value: 'high' } }, claims: { given_name: null, family_name: null } },
    { verification: { trust_framework: { value: 'eidas' }, assurance_level: { values: ['high', 'substantial'] } }, claims: { birthdate: null } },
  ],
  sameClaims: [
    { verification: { trust_framework: { value: 'gold' }, evidence: [{ type: { value: 'document' } }] }, claims: { given_name: null, family_name: null } },
    { verification: { trust_framework: { values: ['silver', 'bronze'] }, evidence: [{ type: { value: 'electronic_record' } }] }, claims: { given_name: null, family_name: null } },
  ],
} as const;

const NOW = new Date('2025-04-01T00:00:00Z');

/** Verified at a bank branch with an ID card, under the German AML law. */
const deAml: VerificationRecord = {
  trustFramework: 'de_aml',
  assuranceLevel: null,
  verificationProcess: 'f24c6f-6d3f-4ec5-973e-b0d8506f3bc7',
  verifiedAt: new Date('2024-04-01T09:30:00.123Z'),
  evidence: [{
    type: 'document',
    method: 'pipp',
    check_details: [{ check_method: 'vpip', organization: 'Branch 012', time: '2024-04-01T09:20:00Z' }],
    document_details: {
      type: 'idcard', document_number: '53554554', date_of_issuance: '2020-03-23', date_of_expiry: '2030-03-22',
      issuer: { name: 'Stadt Augsburg', country: 'DE' },
    },
  }],
  verifiedClaims: {
    given_name: 'Max', family_name: 'Mustermann', birthdate: '1956-01-28',
    address: { locality: 'Augsburg', country: 'DE' },
    'family_name#ja-Kana-JP': 'ムステルマン',
  },
};
const jpAml = (verifiedAt: Date): VerificationRecord => ({
  trustFramework: 'jp_aml', verifiedAt, evidence: [], verifiedClaims: { given_name: '太郎', family_name: '山田', birthdate: '1980-01-01' },
});
const eidas = (assuranceLevel: string | null): VerificationRecord => ({
  trustFramework: 'eidas', assuranceLevel, verifiedAt: new Date('2024-01-01T00:00:00Z'), evidence: [],
  verifiedClaims: { given_name: 'Erika', family_name: 'Mustermann', birthdate: '1964-08-12' },
});

const release = (request: unknown, records: VerificationRecord | VerificationRecord[] | undefined, options: { consented?: string[]; now?: Date } = {}) =>
  releaseVerifiedClaims(request, records, { now: NOW, ...options });

/** The response to a single (not array) request element. */
const one = (response: VerifiedClaimsObject | VerifiedClaimsObject[] | undefined): VerifiedClaimsObject => {
  assert.ok(response && !Array.isArray(response), 'a single verified_claims object');
  return response;
};

const rejects = (request: unknown, path: string | RegExp) => assert.throws(() => validateVerifiedClaimsRequest(request), (e: unknown) =>
  e instanceof VerifiedClaimsRequestError && e.error === 'invalid_request' && (typeof path === 'string' ? e.path === path : path.test(e.path)));

describe('verified_claims request validation', () => {
  it('accepts every example request of the specification', () => {
    for (const [name, example] of Object.entries(SPEC)) {
      assert.doesNotThrow(() => validateVerifiedClaimsRequest(example), name);
    }
    assert.equal(validateVerifiedClaimsRequest(SPEC.byTrustFrameworks).multiple, true);
    assert.equal(validateVerifiedClaimsRequest(SPEC.claims).multiple, false);
  });

  it('needs verification with trust_framework, and claims naming at least one claim', () => {
    rejects({ claims: { given_name: null } }, 'verified_claims.verification');
    rejects({ verification: null, claims: { given_name: null } }, 'verified_claims.verification');
    rejects({ verification: {}, claims: { given_name: null } }, 'verified_claims.verification');
    rejects({ verification: { time: null }, claims: { given_name: null } }, 'verified_claims.verification');
    rejects({ verification: { trust_framework: 'de_aml' }, claims: { given_name: null } }, 'verified_claims.verification.trust_framework');
    rejects({ verification: { trust_framework: null } }, 'verified_claims.claims');
    rejects({ verification: { trust_framework: null }, claims: null }, 'verified_claims.claims');
    rejects({ verification: { trust_framework: null }, claims: {} }, 'verified_claims.claims');
    rejects({ verification: { trust_framework: null }, claims: ['given_name'] }, 'verified_claims.claims');
  });

  it('refuses unknown members of an element, and elements that are not objects', () => {
    rejects({ ...SPEC.claims, extra: true }, 'verified_claims');
    rejects('given_name', 'verified_claims');
    rejects(null, 'verified_claims');
    rejects([], 'verified_claims');
    rejects([SPEC.claims, 7], 'verified_claims[1]');
    rejects(Array.from({ length: 11 }, () => SPEC.claims), 'verified_claims');
  });

  it('checks each claim query: null or an object with well-formed members', () => {
    const withClaim = (q: unknown) => ({ verification: { trust_framework: null }, claims: { given_name: q } });
    rejects(withClaim('Max'), 'verified_claims.claims.given_name');
    rejects(withClaim({ essential: 'yes' }), 'verified_claims.claims.given_name.essential');
    rejects(withClaim({ purpose: 'no' }), 'verified_claims.claims.given_name.purpose');
    rejects(withClaim({ purpose: 'x'.repeat(301) }), 'verified_claims.claims.given_name.purpose');
    rejects(withClaim({ values: [] }), 'verified_claims.claims.given_name.values');
    rejects(withClaim({ value: { nested: true } }), 'verified_claims.claims.given_name.value');
    rejects(withClaim({ value: 'a', values: ['b'] }), 'verified_claims.claims.given_name');
    rejects({ verification: { trust_framework: null }, claims: { 'given name': null } }, 'verified_claims.claims');
    // Members it does not understand are ignored (OIDC Core 5.5.1).
    assert.doesNotThrow(() => validateVerifiedClaimsRequest(withClaim({ essential: true, x_vendor: 1 })));
  });

  it('checks max_age and evidence filters', () => {
    const v = (verification: Record<string, unknown>) => ({ verification: { trust_framework: null, ...verification }, claims: { given_name: null } });
    rejects(v({ time: { max_age: -1 } }), 'verified_claims.verification.time.max_age');
    rejects(v({ time: { max_age: 1.5 } }), 'verified_claims.verification.time.max_age');
    rejects(v({ time: { max_age: '60' } }), 'verified_claims.verification.time.max_age');
    rejects(v({ evidence: { type: { value: 'document' } } }), 'verified_claims.verification.evidence');
    rejects(v({ evidence: [] }), 'verified_claims.verification.evidence');
    rejects(v({ evidence: [{ method: null }] }), 'verified_claims.verification.evidence[0].type');
    rejects(v({ evidence: [{ type: null }] }), 'verified_claims.verification.evidence[0].type');
    rejects(v({ evidence: [{ type: { values: ['document', 'vouch'] } }] }), 'verified_claims.verification.evidence[0].type');
    rejects(v({ evidence: [{ type: { value: 'document' }, document_details: 'idcard' }] }), 'verified_claims.verification.evidence[0].document_details');
  });

  it('bounds the size and depth of a request', () => {
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let i = 0; i < 8; i++) { const next: Record<string, unknown> = {}; cursor[`level${i}`] = next; cursor = next; }
    cursor.leaf = null;
    rejects({ verification: { trust_framework: null, deep }, claims: { given_name: null } }, /^verified_claims\.verification\.deep(\.level\d)+/);
    rejects({ verification: { trust_framework: null }, claims: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`claim_${i}`, null])) }, 'verified_claims.claims');
    rejects({ verification: { trust_framework: null }, claims: { given_name: { purpose: 'x'.repeat(250), values: Array.from({ length: 50 }, () => 'y'.repeat(400)) } } }, 'verified_claims');
  });

  it('finds verified_claims in a claims parameter, as JSON text or parsed, and names the member at fault', () => {
    const found = verifiedClaimsRequestsIn(JSON.stringify({ id_token: { given_name: null, verified_claims: SPEC.claims }, userinfo: { verified_claims: SPEC.byTrustFrameworks } }));
    assert.equal(found.id_token?.elements.length, 1);
    assert.equal(found.userinfo?.elements.length, 2);
    assert.deepEqual(verifiedClaimsRequestsIn({ id_token: { acr: { essential: true } } }), {});
    assert.deepEqual(verifiedClaimsRequestsIn(undefined), {});
    assert.throws(() => verifiedClaimsRequestsIn({ userinfo: { verified_claims: { verification: { trust_framework: null }, claims: {} } } }),
      (e: unknown) => e instanceof VerifiedClaimsRequestError && e.path === 'userinfo.verified_claims.claims' && /must name 1 to 50 claims$/.test(e.message));
    assert.throws(() => verifiedClaimsRequestsIn('{"id_token":'), (e: unknown) => e instanceof VerifiedClaimsRequestError && e.path === 'claims');
  });

  it('lists the requested claims once each, with essential and the purpose, for the consent page', () => {
    assert.deepEqual(requestedVerifiedClaims(validateVerifiedClaimsRequest(SPEC.purpose)), [
      { claim: 'given_name', essential: true, purpose: 'To make communication look more personal' },
      { claim: 'family_name', essential: true },
      { claim: 'birthdate', essential: false, purpose: 'To send you best wishes on your birthday' },
    ]);
    assert.deepEqual(requestedVerifiedClaims(validateVerifiedClaimsRequest(SPEC.byTrustFrameworks)).map((c) => c.claim), ['given_name', 'family_name', 'birthdate']);
  });
});

describe('verified_claims release', () => {
  it('returns only the requested claims, and in verification only trust_framework unless more is asked for', () => {
    assert.deepEqual(release(SPEC.claims, deAml), {
      verification: { trust_framework: 'de_aml' },
      claims: { given_name: 'Max', family_name: 'Mustermann', birthdate: '1956-01-28' },
    });
    assert.deepEqual(release({ verification: { trust_framework: null }, claims: { address: null } }, deAml), {
      verification: { trust_framework: 'de_aml' }, claims: { address: { locality: 'Augsburg', country: 'DE' } },
    });
  });

  it('adds time (UTC, whole seconds) and verification_process when requested', () => {
    assert.deepEqual(release(SPEC.verification, deAml), {
      verification: { trust_framework: 'de_aml', time: '2024-04-01T09:30:00Z' },
      claims: { given_name: 'Max', family_name: 'Mustermann', birthdate: '1956-01-28' },
    });
    const withProcess = release({ verification: { trust_framework: null, verification_process: null }, claims: { given_name: null } }, deAml);
    assert.deepEqual(withProcess, { verification: { trust_framework: 'de_aml', verification_process: 'f24c6f-6d3f-4ec5-973e-b0d8506f3bc7' }, claims: { given_name: 'Max' } });
  });

  it('leaves out a claim the verification does not cover, and the whole element when none is left', () => {
    assert.deepEqual(release({ verification: { trust_framework: null }, claims: { given_name: null, nationalities: null, email: null } }, deAml),
      { verification: { trust_framework: 'de_aml' }, claims: { given_name: 'Max' } });
    assert.equal(release({ verification: { trust_framework: null }, claims: { nationalities: null, place_of_birth: null } }, deAml), undefined);
  });

  it('leaves out a claim whose value does not match value/values, keeping the others', () => {
    assert.deepEqual(release({ verification: { trust_framework: null }, claims: { given_name: null, family_name: { value: 'Musterfrau' } } }, deAml),
      { verification: { trust_framework: 'de_aml' }, claims: { given_name: 'Max' } });
    assert.deepEqual(release({ verification: { trust_framework: null }, claims: { family_name: { values: ['Musterfrau', 'Mustermann'] } } }, deAml),
      { verification: { trust_framework: 'de_aml' }, claims: { family_name: 'Mustermann' } });
    assert.equal(release({ verification: { trust_framework: null }, claims: { address: { value: 'Augsburg' } } }, deAml), undefined);
  });

  it('returns nothing when trust_framework value/values does not match', () => {
    assert.equal(release({ ...SPEC.claims, verification: { trust_framework: { value: 'jp_aml' } } }, deAml), undefined);
    assert.equal(release(SPEC.differentTrustFrameworks, deAml), undefined);
    assert.deepEqual(release({ ...SPEC.differentTrustFrameworks, verification: { trust_framework: { values: ['gold', 'de_aml'] } } }, deAml),
      { verification: { trust_framework: 'de_aml' }, claims: { given_name: 'Max', family_name: 'Mustermann' } });
  });

  it('max_age on time: a verification older than max_age seconds is not released', () => {
    const maxAge = 63113852;
    const fresh = jpAml(new Date(NOW.getTime() - maxAge * 1000));
    const stale = jpAml(new Date(NOW.getTime() - maxAge * 1000 - 1000));
    assert.deepEqual(release(SPEC.maxAge, fresh), {
      verification: { trust_framework: 'jp_aml', time: fresh.verifiedAt.toISOString().replace('.000', '') },
      claims: { given_name: '太郎', family_name: '山田', birthdate: '1980-01-01' },
    });
    assert.equal(release(SPEC.maxAge, stale), undefined);
  });

  it('max_age on a date counts from the last second of that day', () => {
    const request = (maxAge: number) => ({
      verification: { trust_framework: null, evidence: [{ type: { value: 'document' }, document_details: { date_of_issuance: { max_age: maxAge } } }] },
      claims: { given_name: null },
    });
    // Issued 2020-03-23: its last second is 2020-03-23T23:59:59Z.
    const elapsed = (NOW.getTime() - Date.parse('2020-03-23T23:59:59Z')) / 1000;
    assert.deepEqual(one(release(request(elapsed), deAml)).verification.evidence,
      [{ type: 'document', document_details: { date_of_issuance: '2020-03-23' } }]);
    assert.equal(release(request(elapsed - 1), deAml), undefined);
  });

  it('assurance_level: a constraint the verification cannot meet leaves out the element; unconstrained, it is returned when known', () => {
    assert.equal(release({ verification: { trust_framework: null, assurance_level: { value: 'high' } }, claims: { given_name: null } }, deAml), undefined);
    assert.deepEqual(release({ verification: { trust_framework: null, assurance_level: null }, claims: { given_name: null } }, deAml),
      { verification: { trust_framework: 'de_aml' }, claims: { given_name: 'Max' } });
    assert.deepEqual(release({ verification: { trust_framework: null, assurance_level: null }, claims: { given_name: null } }, eidas('substantial')),
      { verification: { trust_framework: 'eidas', assurance_level: 'substantial' }, claims: { given_name: 'Erika' } });
  });

  it('evidence: returns only the requested sub-elements of the evidence that matches', () => {
    assert.deepEqual(release(SPEC.deeper, deAml), {
      verification: {
        trust_framework: 'de_aml', time: '2024-04-01T09:30:00Z',
        evidence: [{ type: 'document', method: 'pipp', document_details: { type: 'idcard' } }],
      },
      claims: { given_name: 'Max', family_name: 'Mustermann', birthdate: '1956-01-28' },
    });
    const document = one(release(SPEC.document, deAml));
    assert.deepEqual(document.verification.evidence, [{
      type: 'document', method: 'pipp',
      document_details: { type: 'idcard', issuer: { country: 'DE', name: 'Stadt Augsburg' }, document_number: '53554554', date_of_issuance: '2020-03-23' },
    }]);
    // Evidence not asked for is not returned.
    assert.equal('evidence' in one(release(SPEC.verification, deAml)).verification, false);
  });

  it('evidence: a filter nothing matches leaves out the whole element', () => {
    assert.ok(release(SPEC.aml, deAml));
    assert.equal(release({ ...SPEC.aml, verification: { ...SPEC.aml.verification, evidence: [{ type: { value: 'electronic_record' } }] } }, deAml), undefined);
    assert.equal(release({ ...SPEC.aml, verification: { ...SPEC.aml.verification, evidence: [{ type: { value: 'document' }, method: { value: 'eid' } }] } }, deAml), undefined);
    assert.equal(release({ ...SPEC.aml, verification: { ...SPEC.aml.verification, evidence: [{ type: { value: 'document' }, document_details: { type: { values: ['passport'] } } }] } }, deAml), undefined);
    const byCheck = (method: string) => ({
      verification: { trust_framework: null, evidence: [{ type: { value: 'document' }, check_details: [{ check_method: { value: method }, organization: null }] }] },
      claims: { given_name: null },
    });
    assert.deepEqual(one(release(byCheck('vpip'), deAml)).verification.evidence,
      [{ type: 'document', check_details: [{ check_method: 'vpip', organization: 'Branch 012' }] }]);
    assert.equal(release(byCheck('vcrypt'), deAml), undefined);
    // Several filters are joined by OR.
    assert.ok(release({ verification: { trust_framework: null, evidence: [{ type: { value: 'vouch' } }, { type: { value: 'document' } }] }, claims: { given_name: null } }, deAml));
  });

  it('an array request is answered element by element, each by the first verification that fulfils it', () => {
    assert.deepEqual(release(SPEC.byTrustFrameworks, eidas('substantial')), [
      { verification: { trust_framework: 'eidas', assurance_level: 'substantial' }, claims: { birthdate: '1964-08-12' } },
    ]);
    assert.deepEqual(release(SPEC.byTrustFrameworks, eidas('high')), [
      { verification: { trust_framework: 'eidas', assurance_level: 'high' }, claims: { given_name: 'Erika', family_name: 'Mustermann' } },
      { verification: { trust_framework: 'eidas', assurance_level: 'high' }, claims: { birthdate: '1964-08-12' } },
    ]);
    assert.equal(release(SPEC.byTrustFrameworks, eidas('low')), undefined);
    const gold: VerificationRecord = { ...deAml, trustFramework: 'gold' };
    const bronze: VerificationRecord = { ...eidas(null), trustFramework: 'bronze', evidence: [{ type: 'electronic_record', record: { type: 'bank_account' } }] };
    assert.deepEqual(release(SPEC.sameClaims, [gold, bronze]), [
      { verification: { trust_framework: 'gold', evidence: [{ type: 'document' }] }, claims: { given_name: 'Max', family_name: 'Mustermann' } },
      { verification: { trust_framework: 'bronze', evidence: [{ type: 'electronic_record' }] }, claims: { given_name: 'Erika', family_name: 'Mustermann' } },
    ]);
  });

  it('tries the verifications in order: a weaker one answers what the strongest cannot', () => {
    const both = [deAml, jpAml(new Date('2025-01-01T00:00:00Z'))];
    assert.equal(one(release(SPEC.claims, both)).verification.trust_framework, 'de_aml');
    assert.equal(one(release(SPEC.maxAge, both)).verification.trust_framework, 'jp_aml');
    assert.equal(release(SPEC.claims, []), undefined);
    assert.equal(release(SPEC.claims, undefined), undefined);
  });

  it('releases only the claims the person consented to', () => {
    assert.deepEqual(release(SPEC.claims, deAml, { consented: ['given_name', 'address'] }),
      { verification: { trust_framework: 'de_aml' }, claims: { given_name: 'Max' } });
    assert.equal(release(SPEC.claims, deAml, { consented: [] }), undefined);
  });

  it('language-tagged claims are matched by their exact name', () => {
    assert.deepEqual(release({ verification: { trust_framework: null }, claims: { 'family_name#ja-Kana-JP': null } }, deAml),
      { verification: { trust_framework: 'de_aml' }, claims: { 'family_name#ja-Kana-JP': 'ムステルマン' } });
    assert.equal(release({ verification: { trust_framework: null }, claims: { 'given_name#ja-Kana-JP': null } }, deAml), undefined);
  });

  it('essential does not change what is released', () => {
    assert.deepEqual(release(SPEC.essential, deAml), release(SPEC.claims, deAml));
    assert.equal(release({ verification: { trust_framework: null }, claims: { nationalities: { essential: true } } }, deAml), undefined);
  });

  it('the response is a copy, and a malformed request throws', () => {
    const out = one(release({ verification: { trust_framework: null }, claims: { address: null } }, deAml));
    (out.claims.address as { locality: string }).locality = 'changed';
    assert.equal((deAml.verifiedClaims.address as { locality: string }).locality, 'Augsburg');
    assert.throws(() => release({ claims: { given_name: null } }, deAml), VerifiedClaimsRequestError);
  });
});
