import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair as joseKeyPair } from 'jose';
import * as oauth from 'oauth4webapi';
import { createHealthApi, type AccessLogLine } from '../src/health-api.ts';
import { SAMPLE_RECORDS } from '../src/sample-records.ts';
import type { Bundle, Patient } from '../src/fhir.ts';
import { dpopKey, dpopProof, type DpopKey } from './support/dpop.ts';
import { listen, type Listening } from './support/listen.ts';
import { startLocalIssuer, type LocalIssuer } from './support/local-issuer.ts';

const AUDIENCE = 'https://health.example/fhir';
// Sekisho's id of the linked patient record: random, and nothing to the API (only `ref` is).
const LINKED_ID = '6f1c2b9e-3d4a-4e5f-8a7b-0c1d2e3f4a5b';

const ALL_TYPES = ['Patient', 'AllergyIntolerance', 'MedicationStatement', 'Observation', 'Condition'];
/** A granted detail as Sekisho gives it: the patient chosen on the phone, `ref` its FHIR Patient id. */
const detail = (ref: string, resourceTypes = ALL_TYPES, actions = ['read', 'search']) =>
  ({ type: 'fhir_record_access', resource_types: resourceTypes, actions, patient: { id: LINKED_ID, label: '架空 太郎', ref } });

let issuer: LocalIssuer;
let api: Listening;
let base: string;
const log: AccessLogLine[] = [];

before(async () => {
  issuer = await startLocalIssuer();
  api = await listen();
  base = `${api.origin}/fhir`;
  api.server.on('request', createHealthApi({
    issuer: issuer.issuer, audience: AUDIENCE, publicUrl: base, data: SAMPLE_RECORDS, log: (line) => log.push(line),
  }));
});
after(async () => { await api.close(); await issuer.close(); });

interface Call { key?: DpopKey; scheme?: string; proof?: Record<string, unknown> | false; headers?: Record<string, string> }

/** A GET with a DPoP-bound token; `proof` replaces claims of the DPoP proof (false: no proof). */
async function get(path: string, token: string | undefined, call: Call = {}): Promise<Response> {
  const url = `${base}${path}`;
  const headers: Record<string, string> = { ...call.headers };
  if (token) {
    headers.authorization = `${call.scheme ?? 'DPoP'} ${token}`;
    if (call.proof !== false) headers.dpop = await dpopProof(call.key!, { htm: 'GET', htu: url, accessToken: token, ...call.proof });
  }
  return fetch(url, { headers });
}

async function tokenFor(key: DpopKey, claims: Record<string, unknown> = {}, options?: { expiresIn?: number; typ?: string; signWith?: CryptoKey }) {
  return issuer.mintAccessToken({ aud: AUDIENCE, cnf: { jkt: key.jkt }, authorization_details: [detail('p-0001')], ...claims }, options);
}

function assertChallenge(response: Response, status: number, error?: string) {
  assert.equal(response.status, status);
  const challenge = response.headers.get('www-authenticate') ?? '';
  assert.match(challenge, /^DPoP /);
  if (error) assert.match(challenge, new RegExp(`error="${error}"`));
  else assert.doesNotMatch(challenge, /error=/);
  assert.match(challenge, /algs="ES256 PS256 EdDSA"/);
}

describe('health API: tokens', () => {
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

    const search = await oauth.protectedResourceRequest(token, 'GET', new URL(`${base}/Observation?patient=p-0001`), undefined, null, options);
    assert.equal(search.status, 200);
    const bundle = await search.json() as Bundle;
    assert.equal(bundle.resourceType, 'Bundle');
    assert.equal(bundle.type, 'searchset');
    assert.equal(bundle.total, 4);
    assert.ok(bundle.entry.every((e) => e.resource.resourceType === 'Observation' && e.resource.subject.reference === 'Patient/p-0001'));
    assert.equal(bundle.entry[0]!.fullUrl, `${base}/Observation/ob-0001`);

    const allergies = await oauth.protectedResourceRequest(token, 'GET', new URL(`${base}/AllergyIntolerance?patient=Patient%2Fp-0001`), undefined, null, options);
    assert.equal(((await allergies.json()) as Bundle).total, 1, 'a patient parameter may be a reference');
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
    assert.equal(response.headers.get('content-type'), 'application/problem+json');
    assert.equal(((await response.json()) as { status: number }).status, 401);
  });

  it('refuses a DPoP-bound token sent with the Bearer scheme, with or without its proof', async () => {
    const key = await dpopKey();
    const token = await tokenFor(key);
    assertChallenge(await get('/Patient/p-0001', token, { key, scheme: 'Bearer' }), 401, 'invalid_token');
    assertChallenge(await get('/Patient/p-0001', token, { key, scheme: 'Bearer', proof: false }), 401, 'invalid_token');
  });

  it('refuses a DPoP token without a proof, or with a proof for another token, URL, method or key', async () => {
    const key = await dpopKey();
    const token = await tokenFor(key);
    assertChallenge(await get('/Patient/p-0001', token, { key, proof: false }), 401, 'invalid_token');
    assertChallenge(await get('/Patient/p-0001', token, { key, proof: { accessToken: 'another-token' } }), 401, 'invalid_token');
    assertChallenge(await get('/Patient/p-0001', token, { key, proof: { htu: `${base}/Patient/p-0002` } }), 401, 'invalid_token');
    assertChallenge(await get('/Patient/p-0001', token, { key, proof: { htu: `https://health.example/fhir/Patient/p-0001` } }), 401, 'invalid_token');
    assertChallenge(await get('/Patient/p-0001', token, { key, proof: { htm: 'POST' } }), 401, 'invalid_token');
    assertChallenge(await get('/Patient/p-0001', token, { key: await dpopKey() }), 401, 'invalid_token');
  });

  it('refuses a token for another audience, from another issuer, expired, not at+jwt, or signed by another key', async () => {
    const key = await dpopKey();
    const cases: Array<[string, Promise<string>]> = [
      ['audience', tokenFor(key, { aud: 'https://bank.example/api' })],
      ['issuer', tokenFor(key, { iss: 'https://other-issuer.example' })],
      ['expired', tokenFor(key, {}, { expiresIn: -120 })],
      ['typ', tokenFor(key, {}, { typ: 'JWT' })],
      ['key', joseKeyPair('ES256').then(({ privateKey }) => tokenFor(key, {}, { signWith: privateKey }))],
      ['no cnf', issuer.mintAccessToken({ aud: AUDIENCE, authorization_details: [detail('p-0001')] })],
    ];
    for (const [name, token] of cases) {
      const response = await get('/Patient/p-0001', await token, { key });
      assert.equal(response.status, 401, name);
      assertChallenge(response, 401, 'invalid_token');
    }
    assertChallenge(await get('/Patient/p-0001', 'not-a-jwt', { key }), 401, 'invalid_token');
  });

  it('accepts a DPoP proof once', async () => {
    const key = await dpopKey();
    const token = await tokenFor(key);
    const url = `${base}/Patient/p-0001`;
    const headers = { authorization: `DPoP ${token}`, dpop: await dpopProof(key, { htm: 'GET', htu: url, accessToken: token }) };
    assert.equal((await fetch(url, { headers })).status, 200);
    assertChallenge(await fetch(url, { headers }), 401, 'invalid_dpop_proof');
  });

  it('answers 503, not 401, while the issuer\'s keys cannot be read', async () => {
    const down = await startLocalIssuer();
    const server = await listen();
    server.server.on('request', createHealthApi({ issuer: down.issuer, audience: AUDIENCE, publicUrl: `${server.origin}/fhir`, data: SAMPLE_RECORDS, log: () => {} }));
    const key = await dpopKey();
    const token = await down.mintAccessToken({ aud: AUDIENCE, cnf: { jkt: key.jkt } });
    await down.close();
    const url = `${server.origin}/fhir/Patient/p-0001`;
    const response = await fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, { htm: 'GET', htu: url, accessToken: token }) } });
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '5');
    await server.close();
  });
});

describe('health API: what a token allows', () => {
  it('refuses records of a patient the token does not name: 403 insufficient_scope', async () => {
    const key = await dpopKey();
    const token = await tokenFor(key, { authorization_details: [detail('p-0002')] });
    assertChallenge(await get('/Patient/p-0001', token, { key }), 403, 'insufficient_scope');
    assertChallenge(await get('/Condition?patient=p-0001', token, { key }), 403, 'insufficient_scope');
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

  it('honours neither SMART scopes nor other detail types, and refuses details for another location', async () => {
    const key = await dpopKey();
    const cases = [
      { scope: 'patient/*.read patient/Patient.read', authorization_details: [] },
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
    const line = log[0]!;
    assert.deepEqual({ ...line, time: undefined }, {
      time: undefined, method: 'GET', path: '/fhir/Condition?patient=p-0001', status: 200, outcome: 'ok', client_id: 'clinic', sub: 'child-account', act, patient: 'p-0001',
    });
    assert.doesNotMatch(JSON.stringify(log), new RegExp(token.slice(-20)));
  });
});

describe('health API: bad input', () => {
  it('refuses ids that are not FHIR ids and malformed searches: 400 problem+json', async () => {
    const key = await dpopKey();
    const token = await tokenFor(key);
    const paths = [
      '/Patient/p%240001', `/Patient/${'a'.repeat(65)}`, '/Patient/%E0%A4%A', '/Patient/p-0001?_format=xml',
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

  it('answers 404 off its endpoints and 405 to anything but GET, before looking at tokens', async () => {
    for (const path of ['/', '/fhir', '/fhir/Encounter?patient=p-0001', '/fhir/Patient/p-0001/_history', '/fhirx/Patient/p-0001', '/fhir/Patient', '/fhir/Patient?identifier=x']) {
      assert.equal((await fetch(`${api.origin}${path}`)).status, 404, path);
    }
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      // A request target that WHATWG URL would read as another host: refused, never routed.
      request(`${api.origin}/`, { path: '/\\\\evil.example/fhir/Patient/p-0001' }, (res) => { res.resume(); resolve(res.statusCode!); }).on('error', reject).end();
    });
    assert.equal(status, 400);
    const post = await fetch(`${base}/Patient/p-0001`, { method: 'POST', body: '{}' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET');
  });
});
