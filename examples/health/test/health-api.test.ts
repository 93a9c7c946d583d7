import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { dpopKey, dpopProof, type DpopKey } from '@sekisho/example-kit/testing/dpop';
import { listen, type Listening } from '@sekisho/example-kit/testing/listen';
import { generateKeyPair as joseKeyPair } from 'jose';
import * as oauth from 'oauth4webapi';
import { createHealthApi, type AccessLogLine } from '../src/health-api.ts';
import { HEALTH_SCOPES } from '../src/registration.ts';
import { SAMPLE_RECORDS } from '../src/sample-records.ts';
import type { AllergyIntolerance, Bundle, Observation, Patient } from '../src/fhir.ts';
import { startLocalIssuer, type LocalIssuer } from './support/local-issuer.ts';
import { ALLERGY, BLOOD_PRESSURE, WEIGHT } from './support/records.ts';

const AUDIENCE = 'https://health.example/fhir';
// Sekisho's id of the linked patient record: random, and nothing to the API (only `ref` is).
const LINKED_ID = '6f1c2b9e-3d4a-4e5f-8a7b-0c1d2e3f4a5b';

const ALL_TYPES = ['Patient', 'AllergyIntolerance', 'MedicationStatement', 'Observation', 'Condition'];
const READ = HEALTH_SCOPES.read.join(' ');
const ALL_SCOPES = [...HEALTH_SCOPES.read, ...HEALTH_SCOPES.create].join(' ');
/** A granted detail as Sekisho gives it: the patient chosen, `ref` its FHIR Patient id. */
const detail = (ref: string, resourceTypes = ALL_TYPES, actions = ['read', 'search']) =>
  ({ type: 'fhir_record_access', resource_types: resourceTypes, actions, patient: { id: LINKED_ID, label: '架空 太郎', ref } });
const writer = (ref: string) => [detail(ref), detail(ref, ['Observation', 'AllergyIntolerance'], ['create'])];

let issuer: LocalIssuer;
let api: Listening;
let base: string;
const log: AccessLogLine[] = [];

before(async () => {
  issuer = await startLocalIssuer();
  api = await listen();
  base = `${api.origin}/fhir`;
  api.server.on('request', createHealthApi({
    issuer: issuer.issuer, audience: AUDIENCE, publicUrl: base, data: SAMPLE_RECORDS, log: (line) => log.push(line), maxAddedPerPatient: 20,
  }));
});
after(async () => { await api.close(); await issuer.close(); });

interface Call { key?: DpopKey; scheme?: string; proof?: Record<string, unknown> | false; headers?: Record<string, string>; method?: string; body?: unknown }

/** A request with a DPoP-bound token; `proof` replaces claims of the DPoP proof (false: no proof). */
async function send(path: string, token: string | undefined, call: Call = {}): Promise<Response> {
  const url = `${base}${path}`;
  const method = call.method ?? (call.body !== undefined ? 'POST' : 'GET');
  const headers: Record<string, string> = { ...(call.body !== undefined ? { 'content-type': 'application/fhir+json' } : {}), ...call.headers };
  if (token) {
    headers.authorization = `${call.scheme ?? 'DPoP'} ${token}`;
    if (call.proof !== false) headers.dpop = await dpopProof(call.key!, { htm: method, htu: url, accessToken: token, ...call.proof });
  }
  const body = call.body === undefined ? undefined : typeof call.body === 'string' ? call.body : JSON.stringify(call.body);
  return fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
}
const get = (path: string, token: string | undefined, call: Call = {}) => send(path, token, call);
const post = (path: string, token: string, key: DpopKey, body: unknown, call: Call = {}) => send(path, token, { key, body, ...call });

async function tokenFor(key: DpopKey, claims: Record<string, unknown> = {}, options?: { expiresIn?: number; typ?: string; signWith?: CryptoKey }) {
  return issuer.mintAccessToken({ aud: AUDIENCE, cnf: { jkt: key.jkt }, scope: READ, authorization_details: [detail('p-0001')], ...claims }, options);
}
const writeToken = (key: DpopKey, claims: Record<string, unknown> = {}) => tokenFor(key, { scope: ALL_SCOPES, authorization_details: writer('p-0001'), ...claims });

function assertChallenge(response: Response, status: number, error?: string) {
  assert.equal(response.status, status);
  const challenge = response.headers.get('www-authenticate') ?? '';
  assert.match(challenge, /(^|, )DPoP /);
  if (error) assert.match(challenge, new RegExp(`error="${error}"`));
  else assert.doesNotMatch(challenge, /error=/);
  assert.match(challenge, /algs="PS256 ES256 EdDSA"/);
  assert.equal(response.headers.get('content-type'), 'application/problem+json');
}

/** The reason the API logged for its last answer (the SDK's error code for a refused token). */
const lastReason = () => log.at(-1)?.reason;

describe('health API: tokens (verified by @sekisho/resource-server)', () => {
  it('serves a patient and their records to an unmodified oauth4webapi client with a good DPoP-bound token', async () => {
    const keyPair = await oauth.generateKeyPair('ES256');
    const dpop = oauth.DPoP({ client_id: 'clinic' } as oauth.Client, keyPair);
    const key = { jkt: await dpop.calculateThumbprint() } as DpopKey;
    const token = await tokenFor(key);
    const options = { DPoP: dpop, [oauth.allowInsecureRequests]: true };

    const read = await oauth.protectedResourceRequest(token, 'GET', new URL(`${base}/Patient/p-0001`), undefined, null, options);
    assert.equal(read.status, 200);
    assert.match(read.headers.get('content-type')!, /^application\/fhir\+json/);
    assert.equal(read.headers.get('cache-control'), 'no-store');
    const patient = await read.json() as Patient;
    assert.equal(patient.resourceType, 'Patient');
    assert.equal(patient.name[0]!.text, '架空 太郎');
    assert.equal(patient.birthDate, '1968-04-12');

    const search = await oauth.protectedResourceRequest(token, 'GET', new URL(`${base}/Condition?patient=p-0001`), undefined, null, options);
    assert.equal(search.status, 200);
    const bundle = await search.json() as Bundle;
    assert.equal(bundle.resourceType, 'Bundle');
    assert.equal(bundle.type, 'searchset');
    assert.equal(bundle.total, 2);
    assert.ok(bundle.entry.every((e) => e.resource.resourceType === 'Condition'));
    assert.equal(bundle.entry[0]!.fullUrl, `${base}/Condition/co-0001`);

    const allergies = await oauth.protectedResourceRequest(token, 'GET', new URL(`${base}/AllergyIntolerance?patient=Patient%2Fp-0001`), undefined, null, options);
    assert.equal(((await allergies.json()) as Bundle).total, 1, 'a patient parameter may be a reference');
    const one = await oauth.protectedResourceRequest(token, 'GET', new URL(`${base}/MedicationStatement/ms-0002`), undefined, null, options);
    assert.equal(one.status, 200, 'a record read by its id');
  });

  it('knows the patient by the grant\'s patient.ref (the FHIR id), never by Sekisho\'s id of the linked record', async () => {
    const key = await dpopKey();
    const token = await tokenFor(key, { authorization_details: [{ ...detail('p-0002'), patient: { id: 'p-0001', label: '架空 花子', ref: 'p-0002' } }] });
    assert.equal((await get('/Patient/p-0002', token, { key })).status, 200);
    assertChallenge(await get('/Patient/p-0001', token, { key }), 403, 'insufficient_scope');
  });

  it('asks for a token when there is none: 401 with a DPoP challenge without an error code', async () => {
    const response = await get('/Patient/p-0001', undefined);
    assertChallenge(response, 401);
    assert.equal(((await response.json()) as { status: number }).status, 401);
    assert.equal(lastReason(), 'ERR_MISSING_TOKEN');
    assert.equal(log.at(-1)!.outcome, 'no_token');
  });

  it('refuses a DPoP-bound token sent with the Bearer scheme, with or without its proof', async () => {
    const key = await dpopKey();
    const token = await tokenFor(key);
    for (const proof of [undefined, false] as const) {
      const response = await get('/Patient/p-0001', token, { key, scheme: 'Bearer', ...(proof === false ? { proof } : {}) });
      assert.equal(response.status, 401);
      assert.match(response.headers.get('www-authenticate')!, /error="invalid_token"/);
      assert.equal(lastReason(), 'ERR_WRONG_SCHEME');
    }
  });

  it('refuses a DPoP token without a proof, or with a proof for another token, URL, method or key', async () => {
    const key = await dpopKey();
    const token = await tokenFor(key);
    const cases: Array<[Call, string]> = [
      [{ key, proof: false }, 'ERR_DPOP_PROOF_MISSING'],
      [{ key, proof: { accessToken: 'another-token' } }, 'ERR_DPOP_ATH_MISMATCH'],
      [{ key, proof: { htu: `${base}/Patient/p-0002` } }, 'ERR_DPOP_HTU_MISMATCH'],
      // The API's public URL, not the audience, is what proofs name.
      [{ key, proof: { htu: 'https://health.example/fhir/Patient/p-0001' } }, 'ERR_DPOP_HTU_MISMATCH'],
      [{ key, proof: { htm: 'POST' } }, 'ERR_DPOP_HTM_MISMATCH'],
      [{ key: await dpopKey() }, 'ERR_DPOP_KEY_MISMATCH'],
      [{ key, proof: { iat: Math.floor(Date.now() / 1000) - 600 } }, 'ERR_DPOP_IAT'],
    ];
    for (const [call, code] of cases) {
      assertChallenge(await get('/Patient/p-0001', token, call), 401, 'invalid_dpop_proof');
      assert.equal(lastReason(), code);
      assert.equal(log.at(-1)!.outcome, 'invalid_dpop_proof');
    }
  });

  it('refuses a token for another audience, from another issuer, expired, not at+jwt, signed by another key, or not sender-constrained', async () => {
    const key = await dpopKey();
    const cases: Array<[string, Promise<string>, string]> = [
      ['audience', tokenFor(key, { aud: 'https://bank.example/api' }), 'ERR_WRONG_AUDIENCE'],
      ['issuer', tokenFor(key, { iss: 'https://other-issuer.example' }), 'ERR_WRONG_ISSUER'],
      ['expired', tokenFor(key, {}, { expiresIn: -120 }), 'ERR_TOKEN_EXPIRED'],
      ['typ', tokenFor(key, {}, { typ: 'JWT' }), 'ERR_INVALID_TOKEN'],
      ['key', joseKeyPair('ES256').then(({ privateKey }) => tokenFor(key, {}, { signWith: privateKey })), 'ERR_INVALID_TOKEN'],
      ['no cnf', issuer.mintAccessToken({ aud: AUDIENCE, scope: READ, authorization_details: [detail('p-0001')] }), 'ERR_UNBOUND_TOKEN'],
      ['not a JWT', Promise.resolve('not-a-jwt'), 'ERR_INVALID_TOKEN'],
    ];
    for (const [name, token, code] of cases) {
      assertChallenge(await get('/Patient/p-0001', await token, { key }), 401, 'invalid_token');
      assert.equal(lastReason(), code, name);
    }
  });

  it('refuses two Authorization headers, and a token in the query string: 400 invalid_request', async () => {
    const key = await dpopKey();
    const token = await tokenFor(key);
    const url = `${base}/Patient/p-0001`;
    const proof = await dpopProof(key, { htm: 'GET', htu: url, accessToken: token });
    const status = await new Promise<number>((resolve, reject) => {
      const twice = httpRequest(url, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)); }).on('error', reject);
      // Node keeps only the first Authorization header in req.headers; the SDK reads the raw ones.
      twice.setHeader('authorization', [`DPoP ${token}`, `DPoP ${token}`]);
      twice.setHeader('dpop', proof);
      twice.end();
    });
    assert.equal(status, 400);
    assert.equal(lastReason(), 'ERR_INVALID_REQUEST');
    assert.equal((await get(`/Condition?patient=p-0001&access_token=${token}`, token, { key })).status, 400, 'a search with another parameter');
  });

  it('accepts a DPoP proof once', async () => {
    const key = await dpopKey();
    const token = await tokenFor(key);
    const url = `${base}/Patient/p-0001`;
    const headers = { authorization: `DPoP ${token}`, dpop: await dpopProof(key, { htm: 'GET', htu: url, accessToken: token }) };
    assert.equal((await fetch(url, { headers })).status, 200);
    assertChallenge(await fetch(url, { headers }), 401, 'invalid_dpop_proof');
    assert.equal(lastReason(), 'ERR_DPOP_REPLAY');
  });

  it('answers 503 with Retry-After, not 401, while the issuer\'s keys cannot be read', async () => {
    const down = await startLocalIssuer();
    const server = await listen();
    const lines: AccessLogLine[] = [];
    server.server.on('request', createHealthApi({ issuer: down.issuer, audience: AUDIENCE, publicUrl: `${server.origin}/fhir`, data: SAMPLE_RECORDS, log: (l) => lines.push(l) }));
    const key = await dpopKey();
    const token = await down.mintAccessToken({ aud: AUDIENCE, cnf: { jkt: key.jkt }, scope: READ, authorization_details: [detail('p-0001')] });
    await down.close();
    const url = `${server.origin}/fhir/Patient/p-0001`;
    const response = await fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, { htm: 'GET', htu: url, accessToken: token }) } });
    assert.equal(response.status, 503);
    assert.match(response.headers.get('retry-after') ?? '', /^\d+$/);
    assert.equal(response.headers.get('content-type'), 'application/problem+json');
    assert.deepEqual([lines[0]!.outcome, lines[0]!.reason], ['unavailable', 'ERR_ISSUER_UNAVAILABLE']);
    await server.close();
  });
});

describe('health API: what a token allows (a SMART scope and a fhir_record_access detail, both)', () => {
  it('refuses records of a patient the token does not name: 403 insufficient_scope', async () => {
    const key = await dpopKey();
    const token = await tokenFor(key, { authorization_details: [detail('p-0002')] });
    assertChallenge(await get('/Patient/p-0001', token, { key }), 403, 'insufficient_scope');
    assert.equal(lastReason(), 'ERR_INSUFFICIENT_AUTHORIZATION_DETAILS');
    assertChallenge(await get('/Condition?patient=p-0001', token, { key }), 403, 'insufficient_scope');
    assertChallenge(await get('/Condition/co-0001', token, { key }), 403, 'insufficient_scope', );
    assert.equal((await get('/Condition?patient=p-0002', token, { key })).status, 200);
  });

  it('refuses a record type or an action the details do not list', async () => {
    const key = await dpopKey();
    const token = await tokenFor(key, { authorization_details: [detail('p-0001', ['Patient', 'AllergyIntolerance'], ['read', 'search'])] });
    assert.equal((await get('/AllergyIntolerance?patient=p-0001', token, { key })).status, 200);
    assertChallenge(await get('/MedicationStatement?patient=p-0001', token, { key }), 403, 'insufficient_scope');
    const readOnly = await tokenFor(key, { authorization_details: [detail('p-0001', ALL_TYPES, ['read'])] });
    assert.equal((await get('/Patient/p-0001', readOnly, { key })).status, 200);
    assertChallenge(await get('/Observation?patient=p-0001', readOnly, { key }), 403, 'insufficient_scope');
  });

  it('requires the SMART scope for the type and interaction too: v2 .rs, or v1 .read; no wildcards; a scope alone names no patient', async () => {
    const key = await dpopKey();
    const withoutCondition = await tokenFor(key, { scope: HEALTH_SCOPES.read.filter((s) => s !== 'patient/Condition.rs').join(' ') });
    const refused = await get('/Condition?patient=p-0001', withoutCondition, { key });
    assertChallenge(refused, 403, 'insufficient_scope');
    assert.match(refused.headers.get('www-authenticate')!, /scope="patient\/Condition.rs"/, 'the challenge names the scope needed');
    assert.equal(lastReason(), 'ERR_INSUFFICIENT_SCOPE');
    assert.equal((await get('/Observation?patient=p-0001', withoutCondition, { key })).status, 200, 'the other types still');

    const v1 = await tokenFor(key, { scope: 'patient/Patient.read patient/Condition.read' });
    assert.equal((await get('/Condition?patient=p-0001', v1, { key })).status, 200, 'SMART v1 .read');
    assert.equal((await get('/Condition?patient=p-0001', v1, { key, scheme: 'dpop' })).status, 200, 'the scheme in any case');
    assertChallenge(await get('/Observation?patient=p-0001', v1, { key }), 403, 'insufficient_scope');

    for (const scope of ['patient/*.rs', 'patient/*.read', 'user/Condition.rs', 'patient/Condition.r', 'patient/Condition.c', '']) {
      assertChallenge(await get('/Condition?patient=p-0001', await tokenFor(key, { scope }), { key }), 403, 'insufficient_scope');
    }
    assertChallenge(await get('/Condition?patient=p-0001', await tokenFor(key, { authorization_details: [] }), { key }), 403, 'insufficient_scope');
    assert.equal(lastReason(), 'ERR_INSUFFICIENT_AUTHORIZATION_DETAILS', 'every scope, no detail');
  });

  it('honours no other detail type, and no detail for another location or without patient.ref', async () => {
    const key = await dpopKey();
    const cases = [
      { authorization_details: [{ ...detail('p-0001'), type: 'account_information' }] },
      { authorization_details: [{ ...detail('p-0001'), locations: ['https://other-hospital.example/fhir'] }] },
      { authorization_details: [{ ...detail('p-0001'), patient: 'p-0001' }] },
      { authorization_details: [{ ...detail('p-0001'), patient: { id: 'p-0001', label: '架空 太郎' } }] },
    ];
    for (const claims of cases) assertChallenge(await get('/Patient/p-0001', await tokenFor(key, claims), { key }), 403, 'insufficient_scope');
    const here = await tokenFor(key, { authorization_details: [{ ...detail('p-0001'), locations: [`${AUDIENCE}/`] }] });
    assert.equal((await get('/Patient/p-0001', here, { key })).status, 200, 'locations naming this API');
  });

  it('logs client, subject, patient and the acting guardian (act), never the token', async () => {
    const key = await dpopKey();
    const act = { sub: 'guardian-account-7' };
    const token = await tokenFor(key, { sub: 'child-account', act });
    log.length = 0;
    await get('/Condition?patient=p-0001', token, { key });
    assert.equal(log.length, 1);
    assert.deepEqual({ ...log[0]!, time: undefined }, {
      time: undefined, method: 'GET', path: '/fhir/Condition?patient=p-0001', status: 200, outcome: 'ok', client_id: 'clinic', sub: 'child-account', act, patient: 'p-0001',
    });
    assert.doesNotMatch(JSON.stringify(log), new RegExp(token.slice(-20)));
  });
});

describe('health API: adding records (POST Observation, AllergyIntolerance)', () => {
  it('adds a home blood pressure: 201, Location, the record as stored; it is then read and found by search', async () => {
    const key = await dpopKey();
    const token = await writeToken(key);
    const response = await post('/Observation', token, key, BLOOD_PRESSURE('p-0001'));
    assert.equal(response.status, 201);
    const stored = await response.json() as Observation;
    assert.match(stored.id, /^ob-[0-9a-f-]{36}$/);
    assert.equal(response.headers.get('location'), `${base}/Observation/${stored.id}`);
    assert.match(response.headers.get('content-type')!, /^application\/fhir\+json/);
    assert.deepEqual(stored.component?.map((c) => [c.code.coding?.[0]?.code, c.valueQuantity.value]), [['8480-6', 128], ['8462-4', 82]]);
    assert.deepEqual(stored.performer, [{ reference: 'Patient/p-0001' }], 'measured by the patient');
    assert.equal(stored.code.text, '血圧');
    assert.equal(stored.meta?.tag?.[0]?.code, 'HTEST');
    assert.deepEqual([log.at(-1)!.outcome, log.at(-1)!.created], ['created', `Observation/${stored.id}`]);

    const read = await get(`/Observation/${stored.id}`, await tokenFor(key), { key });
    assert.equal(read.status, 200);
    assert.deepEqual(await read.json(), stored);
    const search = await (await get('/Observation?patient=p-0001', await tokenFor(key), { key })).json() as Bundle<Observation>;
    assert.ok(search.entry.some((e) => e.resource.id === stored.id));
  });

  it('adds a body weight and an allergy the patient reports (unconfirmed, worded by the server)', async () => {
    const key = await dpopKey();
    const weight = await post('/Observation', await writeToken(key), key, WEIGHT('p-0001'));
    assert.equal(weight.status, 201);
    assert.deepEqual((await weight.json() as Observation).valueQuantity, { value: 72.4, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' });
    const allergy = await post('/AllergyIntolerance', await writeToken(key), key, ALLERGY('p-0001'));
    assert.equal(allergy.status, 201);
    const stored = await allergy.json() as AllergyIntolerance;
    assert.equal(stored.code.text, 'そば');
    assert.equal(stored.verificationStatus?.coding?.[0]?.code, 'unconfirmed');
    assert.equal(stored.criticality, 'high');
    assert.equal(stored.onsetDateTime, '2025-12-01');
    assert.equal(stored.reaction?.[0]?.manifestation[0]?.text, 'じんましん');
  });

  it('needs the .c scope and a create detail for that patient and type; v1 .write counts', async () => {
    const key = await dpopKey();
    const noScope = await post('/Observation', await writeToken(key, { scope: READ }), key, BLOOD_PRESSURE('p-0001'));
    assertChallenge(noScope, 403, 'insufficient_scope');
    assert.match(noScope.headers.get('www-authenticate')!, /scope="patient\/Observation.c"/);
    assertChallenge(await post('/Observation', await writeToken(key, { authorization_details: [detail('p-0001')] }), key, BLOOD_PRESSURE('p-0001')), 403, 'insufficient_scope');
    assert.equal(lastReason(), 'ERR_INSUFFICIENT_AUTHORIZATION_DETAILS', 'read and search only');
    assertChallenge(await post('/Observation', await writeToken(key), key, BLOOD_PRESSURE('p-0002')), 403, 'insufficient_scope');
    assert.equal(log.at(-1)!.patient, 'p-0002', 'another patient than the granted one');
    const allergyOnly = await writeToken(key, { authorization_details: [detail('p-0001', ['AllergyIntolerance'], ['create'])] });
    assertChallenge(await post('/Observation', allergyOnly, key, WEIGHT('p-0001')), 403, 'insufficient_scope');
    assert.equal((await post('/AllergyIntolerance', allergyOnly, key, ALLERGY('p-0001'))).status, 201);
    assert.equal((await post('/Observation', await writeToken(key, { scope: 'patient/Observation.write' }), key, WEIGHT('p-0001'))).status, 201, 'SMART v1 .write');
    const noToken = await fetch(`${base}/Observation`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(WEIGHT('p-0001')) });
    assert.equal(noToken.status, 401);
    // The token comes first: without one, a malformed record or a wrong media type is still 401.
    for (const [type, body] of [['application/fhir+json', '{"resourceType":"Observation"'], ['text/plain', 'x'], ['application/fhir+json', '{}']]) {
      const refused = await fetch(`${base}/Observation`, { method: 'POST', headers: { 'content-type': type! }, body });
      assert.equal(refused.status, 401, `${type} ${body}`);
      assert.match(refused.headers.get('www-authenticate') ?? '', /DPoP/);
    }
  });

  it('refuses what is not a valid record: 400 for shape, 415 and 413 for the body, 422 for the rules; nothing is stored', async () => {
    const key = await dpopKey();
    const before = (await (await get('/Observation?patient=p-0001', await tokenFor(key), { key })).json() as Bundle).total;
    const bp = BLOOD_PRESSURE('p-0001') as Record<string, unknown>;
    const withComponents = (systolic: unknown, diastolic: unknown) => {
      const c = structuredClone(bp) as { component: Array<{ valueQuantity: { value: unknown } }> };
      c.component[0]!.valueQuantity.value = systolic;
      c.component[1]!.valueQuantity.value = diastolic;
      return c;
    };
    const cases: Array<[string, unknown, number, RegExp?]> = [
      ['not JSON', '{"resourceType":', 400, /not JSON/],
      ['an array', [bp], 400],
      ['another resource type', { ...bp, resourceType: 'Condition' }, 400, /resourceType/],
      ['an id', { ...bp, id: 'ob-9999' }, 400, /unknown member id/],
      ['meta', { ...bp, meta: { tag: [] } }, 400, /unknown member meta/],
      ['an unknown member', { ...bp, note: [{ text: 'x' }] }, 400, /unknown member note/],
      ['a subject that is not Patient/{id}', { ...bp, subject: { reference: 'Group/1' } }, 400, /subject.reference/],
      ['a subject id that is not a FHIR id', { ...bp, subject: { reference: 'Patient/p_0001' } }, 400],
      ['no subject', { ...bp, subject: undefined }, 400, /subject: missing/],
      ['a date without a zone', { ...bp, effectiveDateTime: '2026-02-01T08:30:00' }, 400, /effectiveDateTime/],
      ['a date that does not exist', { ...bp, effectiveDateTime: '2026-02-30T08:30:00+09:00' }, 400],
      ['a value as a string', withComponents('128', 82), 400, /must be a number/],
      ['a code text', { ...bp, code: { ...(bp.code as object), text: 'HbA1c 5.0' } }, 400, /unknown member text/],
      ['a date in the future', { ...bp, effectiveDateTime: '2099-01-01T08:30:00+09:00' }, 422, /future/],
      ['a date before 1900', { ...bp, effectiveDateTime: '1899-12-31T08:30:00+09:00' }, 422, /1900/],
      ['a code not on the list', { ...bp, code: { coding: [{ system: 'http://loinc.org', code: '4548-4' }] } }, 422, /85354-9/],
      ['another code system', { ...bp, code: { coding: [{ system: 'http://snomed.info/sct', code: '85354-9' }] } }, 422, /system/],
      ['a status other than final', { ...bp, status: 'preliminary' }, 422, /final/],
      ['systolic out of range', withComponents(300, 82), 422, /between 60 and 260/],
      ['diastolic out of range', withComponents(128, 10), 422, /between 30 and 160/],
      ['systolic below diastolic', withComponents(80, 90), 422, /above the diastolic/],
      ['a fraction of mmHg', withComponents(128.5, 82), 422, /whole number/],
      ['another unit', { ...WEIGHT('p-0001'), valueQuantity: { value: 150, unit: 'lb', system: 'http://unitsofmeasure.org', code: '[lb_av]' } }, 422],
      ['a weight out of range', { ...WEIGHT('p-0001'), valueQuantity: { value: 0.2, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' } }, 422],
      ['a weight with components', { ...WEIGHT('p-0001'), component: bp.component }, 400],
      ['one component', { ...bp, component: (bp.component as unknown[]).slice(0, 1) }, 400, /exactly 2/],
      ['two systolic', { ...bp, component: [(bp.component as unknown[])[0], (bp.component as unknown[])[0]] }, 422, /one systolic/],
    ];
    for (const [name, body, status, message] of cases) {
      const response = await post('/Observation', await writeToken(key), key, body);
      assert.equal(response.status, status, name);
      assert.equal(response.headers.get('content-type'), 'application/problem+json', name);
      const problem = await response.json() as { status: number; detail: string };
      assert.equal(problem.status, status, name);
      if (message) assert.match(problem.detail, message, name);
    }
    const allergyCases: Array<[string, unknown, number]> = [
      ['an allergen not on the list', { ...ALLERGY('p-0001'), code: { coding: [{ system: 'https://health.example/fhir/CodeSystem/allergen', code: 'pollen' }] } }, 422],
      ['a confirmed allergy from a patient', { ...ALLERGY('p-0001'), verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed' }] } }, 422],
      ['a criticality FHIR does not define', { ...ALLERGY('p-0001'), criticality: 'severe' }, 400],
      ['a reaction with a control character', { ...ALLERGY('p-0001'), reaction: [{ manifestation: [{ text: 'a\u202eb' }] }] }, 400],
      ['a reaction too long', { ...ALLERGY('p-0001'), reaction: [{ manifestation: [{ text: 'x'.repeat(101) }] }] }, 400],
      ['onset in the future', { ...ALLERGY('p-0001'), onsetDateTime: '2099-01-01' }, 422],
      ['subject instead of patient', { ...ALLERGY('p-0001'), patient: undefined, subject: { reference: 'Patient/p-0001' } }, 400],
    ];
    for (const [name, body, status] of allergyCases) assert.equal((await post('/AllergyIntolerance', await writeToken(key), key, body)).status, status, name);

    const token = await writeToken(key);
    assert.equal((await post('/Observation', token, key, JSON.stringify(bp), { headers: { 'content-type': 'text/plain' } })).status, 415);
    assert.equal((await post('/Observation', await writeToken(key), key, JSON.stringify({ ...bp, padding: 'x'.repeat(20_000) }))).status, 413);
    assert.equal((await post('/Observation?_format=json', await writeToken(key), key, bp)).status, 400);
    const after = (await (await get('/Observation?patient=p-0001', await tokenFor(key), { key })).json() as Bundle).total;
    assert.equal(after, before, 'nothing refused was stored');
  });

  it('adds only to Observation and AllergyIntolerance (405 elsewhere), answers 404 for a patient it does not hold, and keeps a bounded number per patient', async () => {
    const key = await dpopKey();
    for (const path of ['/Condition', '/MedicationStatement']) {
      const response = await post(path, await writeToken(key), key, {});
      assert.equal(response.status, 405, path);
      assert.equal(response.headers.get('allow'), 'GET');
    }
    const put = await send('/Patient/p-0001', await writeToken(key), { key, method: 'PUT', body: {} });
    assert.equal(put.status, 405);
    assert.equal((await send('/Observation', undefined, { method: 'DELETE' })).headers.get('allow'), 'GET, POST');
    const nobody = await post('/Observation', await writeToken(key, { authorization_details: writer('p-9999') }), key, WEIGHT('p-9999'));
    assert.equal(nobody.status, 404);

    // p-0002's quota (20 in this test): the 21st is refused, and says why.
    let status = 0;
    for (let i = 0; i < 21 && status !== 422; i += 1) {
      status = (await post('/Observation', await writeToken(key, { authorization_details: writer('p-0002') }), key, WEIGHT('p-0002'))).status;
    }
    assert.equal(status, 422);
    assert.equal(lastReason(), 'store_full');
  });

  it('answers 404 for a record id it does not hold, and only to a token that may read that type', async () => {
    const key = await dpopKey();
    assert.equal((await get('/Observation/ob-9999', await tokenFor(key), { key })).status, 404);
    assertChallenge(await get('/Observation/ob-9999', await tokenFor(key, { authorization_details: [detail('p-0001', ['Patient'])] }), { key }), 403, 'insufficient_scope');
    assertChallenge(await get('/Observation/ob-9999', undefined), 401);
  });
});

describe('health API: bad input', () => {
  it('refuses ids that are not FHIR ids and malformed searches: 400 problem+json', async () => {
    const key = await dpopKey();
    const token = await tokenFor(key);
    const paths = [
      '/Patient/p%240001', `/Patient/${'a'.repeat(65)}`, '/Patient/%E0%A4%A', '/Patient/p-0001?_format=xml', '/Observation/ob%2F1',
      '/Observation', '/Observation?patient=', '/Observation?patient=p-0001&patient=p-0002', '/Observation?patient=p-0001&_count=5',
      '/Observation?patient=p_0001',
    ];
    for (const path of paths) {
      const response = await get(path, token, { key });
      assert.equal(response.status, 400, path);
      assert.equal(response.headers.get('content-type'), 'application/problem+json', path);
      const body = await response.json() as { type: string; title: string; status: number };
      assert.equal(body.status, 400, path);
      assert.equal(body.type, 'about:blank');
    }
  });

  it('answers 404 for a patient the token names but the API does not hold', async () => {
    const key = await dpopKey();
    const token = await tokenFor(key, { authorization_details: [detail('p-9999')] });
    for (const path of ['/Patient/p-9999', '/AllergyIntolerance?patient=p-9999']) {
      const response = await get(path, token, { key });
      assert.equal(response.status, 404, path);
      assert.equal(response.headers.get('content-type'), 'application/problem+json');
    }
  });

  it('answers 404 off its endpoints, before looking at tokens; refuses a target naming another host', async () => {
    for (const path of ['/', '/fhir', '/fhir/Encounter?patient=p-0001', '/fhir/Patient/p-0001/_history', '/fhirx/Patient/p-0001', '/fhir/Patient', '/fhir/Patient?identifier=x', '/fhir/Observation/ob-0001/x']) {
      assert.equal((await fetch(`${api.origin}${path}`)).status, 404, path);
    }
    const status = await new Promise<number>((resolve, reject) => {
      // A request target that WHATWG URL would read as another host: refused, never routed.
      httpRequest(`${api.origin}/`, { path: '/\\\\evil.example/fhir/Patient/p-0001' }, (res) => { res.resume(); resolve(res.statusCode!); }).on('error', reject).end();
    });
    assert.equal(status, 400);
  });
});
