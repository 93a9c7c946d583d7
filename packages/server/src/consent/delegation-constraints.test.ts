import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkDelegatedRequest, DelegationConstraints, type DelegatedRequest, type IsSensitive } from './delegation-constraints.ts';

const ask = (parts: Partial<DelegatedRequest>): DelegatedRequest =>
  ({ scopes: [], resourceScopes: [], claims: [], authorizationDetailTypes: [], ...parts });
const nothingSensitive: IsSensitive = () => false;
// As the catalogue would answer: health records, payments and birth dates are sensitive here.
const SENSITIVE = new Set(['scope:patient/Observation.read', 'authorization_details:fhir_record_access', 'authorization_details:domestic_transfer', 'claim:birthdate', 'scope:records']);
const catalogue: IsSensitive = (kind, name) => SENSITIVE.has(`${kind}:${name}`);

describe('checkDelegatedRequest', () => {
  it('openid (signing in for the principal) is always allowed, even by empty constraints', () => {
    assert.deepEqual(checkDelegatedRequest({}, ask({ scopes: ['openid'] }), catalogue), { allowed: true });
    assert.deepEqual(checkDelegatedRequest({ scopes: [], excludeSensitive: true }, ask({ scopes: ['openid'], claims: ['sub', 'acr', 'auth_time'] }), catalogue), { allowed: true });
  });

  it('empty constraints allow nothing else, and every item beyond them is named', () => {
    const check = checkDelegatedRequest({}, ask({
      scopes: ['openid', 'email', 'offline_access'], resourceScopes: ['patient/Observation.read'], claims: ['name'], authorizationDetailTypes: ['fhir_record_access'],
    }), nothingSensitive);
    assert.deepEqual(check, { allowed: false, beyond: ['scope:email', 'scope:offline_access', 'scope:patient/Observation.read', 'claim:name', 'authorization_details:fhir_record_access'] });
  });

  it('scopes: a listed scope is allowed, another is not', () => {
    const c: DelegationConstraints = { scopes: ['openid', 'profile', 'offline_access'] };
    assert.deepEqual(checkDelegatedRequest(c, ask({ scopes: ['openid', 'profile', 'offline_access'] }), nothingSensitive), { allowed: true });
    assert.deepEqual(checkDelegatedRequest(c, ask({ scopes: ['openid', 'profile', 'email'] }), nothingSensitive), { allowed: false, beyond: ['scope:email'] });
  });

  it('resource scopes are checked against the same list, and a scope named twice is reported once', () => {
    const c: DelegationConstraints = { scopes: ['patient/Observation.read'] };
    assert.deepEqual(checkDelegatedRequest(c, ask({ resourceScopes: ['patient/Observation.read'] }), nothingSensitive), { allowed: true });
    assert.deepEqual(checkDelegatedRequest(c, ask({ scopes: ['patient/Condition.read'], resourceScopes: ['patient/Observation.read', 'patient/Condition.read'] }), nothingSensitive),
      { allowed: false, beyond: ['scope:patient/Condition.read'] });
  });

  it('claims: allowed when an allowed scope releases them, not otherwise (a verified claim never)', () => {
    const c: DelegationConstraints = { scopes: ['profile'] };
    assert.deepEqual(checkDelegatedRequest(c, ask({ claims: ['name', 'birthdate', 'sub'] }), nothingSensitive), { allowed: true });
    assert.deepEqual(checkDelegatedRequest(c, ask({ claims: ['email', 'verified_claims', 'verified_claims.family_name'] }), nothingSensitive),
      { allowed: false, beyond: ['claim:email', 'claim:verified_claims', 'claim:verified_claims.family_name'] });
    assert.deepEqual(checkDelegatedRequest({ scopes: ['email'] }, ask({ claims: ['email', 'email_verified'] }), nothingSensitive), { allowed: true });
  });

  it('authorization_details types: a listed type is allowed, another is not', () => {
    const c: DelegationConstraints = { authorizationDetailTypes: ['fhir_record_access'] };
    assert.deepEqual(checkDelegatedRequest(c, ask({ authorizationDetailTypes: ['fhir_record_access'] }), catalogue), { allowed: true });
    assert.deepEqual(checkDelegatedRequest(c, ask({ authorizationDetailTypes: ['fhir_record_access', 'domestic_transfer'] }), catalogue),
      { allowed: false, beyond: ['authorization_details:domestic_transfer'] });
  });

  it('excludeSensitive: items the lists allow but the catalogue counts as sensitive are beyond, marked so', () => {
    const c: DelegationConstraints = { scopes: ['openid', 'profile', 'records', 'patient/Observation.read'], authorizationDetailTypes: ['fhir_record_access', 'account_information'], excludeSensitive: true };
    const check = checkDelegatedRequest(c, ask({
      scopes: ['openid', 'profile', 'records'], resourceScopes: ['patient/Observation.read'], claims: ['name', 'birthdate'],
      authorizationDetailTypes: ['account_information', 'fhir_record_access'],
    }), catalogue);
    assert.deepEqual(check, { allowed: false, beyond: ['scope:records (sensitive)', 'scope:patient/Observation.read (sensitive)', 'claim:birthdate (sensitive)', 'authorization_details:fhir_record_access (sensitive)'] });
    // Without the exclusion the same request is within the constraints.
    assert.deepEqual(checkDelegatedRequest({ ...c, excludeSensitive: false }, ask({ scopes: ['records'], claims: ['birthdate'], authorizationDetailTypes: ['fhir_record_access'] }), catalogue), { allowed: true });
  });

  it('an item outside the lists is named without the sensitive mark, once', () => {
    const check = checkDelegatedRequest({ excludeSensitive: true }, ask({ claims: ['birthdate'], authorizationDetailTypes: ['domestic_transfer', 'domestic_transfer'] }), catalogue);
    assert.deepEqual(check, { allowed: false, beyond: ['claim:birthdate', 'authorization_details:domestic_transfer'] });
  });

  it('asks the caller about sensitivity only for items the lists allow', () => {
    const asked: string[] = [];
    checkDelegatedRequest({ scopes: ['email'], excludeSensitive: true }, ask({ scopes: ['email', 'phone'] }), (kind, name) => { asked.push(`${kind}:${name}`); return false; });
    assert.deepEqual(asked, ['scope:email']);
  });
});

describe('DelegationConstraints', () => {
  const issues = (input: unknown) => {
    const parsed = DelegationConstraints.safeParse(input);
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('accepts lists of names and the exclusion, and an empty object', () => {
    assert.deepEqual(issues({}), []);
    assert.deepEqual(issues({ scopes: ['openid', 'patient/Observation.read'], authorizationDetailTypes: ['fhir_record_access'], excludeSensitive: true }), []);
  });

  it('refuses unknown members, wrong types, bad names, repeats and over-long lists', () => {
    assert.equal(issues({ claims: ['email'] }).length, 1, 'strict: an unknown member is refused');
    assert.match(issues({ scopes: 'openid' })[0]!, /^scopes: /);
    assert.match(issues({ scopes: ['has space'] })[0]!, /^scopes\.0: must be a scope name/);
    assert.match(issues({ scopes: ['a"b'] })[0]!, /^scopes\.0: /);
    assert.match(issues({ scopes: ['x'.repeat(201)] })[0]!, /^scopes\.0: /);
    assert.match(issues({ scopes: ['email', 'email'] })[0]!, /^scopes\.1: scopes lists email twice/);
    assert.match(issues({ scopes: Array.from({ length: 101 }, (_, i) => `s${i}`) })[0]!, /^scopes: /);
    assert.match(issues({ authorizationDetailTypes: [''] })[0]!, /^authorizationDetailTypes\.0: /);
    assert.match(issues({ authorizationDetailTypes: Array.from({ length: 51 }, (_, i) => `t${i}`) })[0]!, /^authorizationDetailTypes: /);
    assert.match(issues({ excludeSensitive: 'yes' })[0]!, /^excludeSensitive: /);
  });
});
