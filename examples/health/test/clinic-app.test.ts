import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createBrowser, waitFor, type Browser } from '@sekisho/example-kit/testing/browser';
import { dpopKey, dpopProof } from '@sekisho/example-kit/testing/dpop';
import { listen, type Listening } from '@sekisho/example-kit/testing/listen';
import { createClinicApp, type ClinicApp, type ClinicAppOptions } from '../src/clinic-app.ts';
import type { ClientPrivateJwk } from '../src/clinic/ciba-client.ts';
import { createHealthApi, type AccessLogLine } from '../src/health-api.ts';
import { SAMPLE_RECORDS } from '../src/sample-records.ts';
import { startStubCiba, type Scenario, type StubCiba } from './support/stub-ciba.ts';
import { ALLERGY, BLOOD_PRESSURE } from './support/records.ts';

const AUDIENCE = 'https://health.example/fhir';
/** The patient picked on the phone as Sekisho grants it: its own id, the label, and `ref`, the FHIR Patient id. */
const TARO = { id: '3b0f8a52-7c1e-4d2a-9f6b-2a1c0e9d8b7a', label: '架空 太郎', ref: 'p-0001' };
const DOCTORS = [
  { id: 'dr-sato', name: '佐藤 医師 (Dr Sato, fictional)', password: 'correct horse battery' },
  { id: 'dr-kato', name: '加藤 医師 (Dr Kato, fictional)', password: 'another good password' },
];
const ALL_TYPES = ['AllergyIntolerance', 'MedicationStatement', 'Observation', 'Condition'];

interface World { stub: StubCiba; app: ClinicApp; clinic: Listening; api: Listening; apiLog: AccessLogLine[]; events: Array<Record<string, unknown>>; close(): Promise<void> }

async function world(mode: 'poll' | 'ping', scenario: Partial<Scenario> = {}, overrides: Partial<ClinicAppOptions> = {}): Promise<World> {
  const stub = await startStubCiba({ healthAudience: AUDIENCE, scenario: { pending: 2, outcome: 'approve', patient: TARO, ...scenario } });
  const api = await listen();
  const apiLog: AccessLogLine[] = [];
  api.server.on('request', createHealthApi({
    issuer: stub.issuer.issuer, audience: AUDIENCE, publicUrl: `${api.origin}/fhir`, data: SAMPLE_RECORDS, log: (l) => apiLog.push(l),
  }));
  const clinic = await listen();
  const events: Array<Record<string, unknown>> = [];
  const app = createClinicApp({
    issuer: stub.issuer.issuer, clientId: stub.clientId, privateJwk: stub.clientPrivateJwk as ClientPrivateJwk,
    healthApiUrl: `${api.origin}/fhir`, healthApiAudience: AUDIENCE, deliveryMode: mode, publicUrl: clinic.origin, doctors: DOCTORS,
    pollIntervalFallback: 0.02, slowDownSeconds: 0.2, pingFallbackPollSeconds: 60, log: (e) => events.push(e), ...overrides,
  });
  clinic.server.on('request', app.handler);
  return {
    stub, app, clinic, api, apiLog, events,
    async close() { app.close(); await clinic.close(); await api.close(); await stub.close(); },
  };
}

async function signIn(browser: Browser, id = 'dr-sato', password = DOCTORS[0]!.password): Promise<void> {
  await browser.get('/login');
  const response = await browser.post('/login', { csrf: browser.csrf(), doctor: id, password });
  assert.equal(response.status, 303);
  assert.equal(response.headers.get('location'), '/');
  await browser.get('/');
}

/** Asks for the records and returns the request page's path. */
async function ask(browser: Browser, patientNumber = 'p-0001', types = ALL_TYPES): Promise<string> {
  const response = await browser.post('/requests', { csrf: browser.csrf(), patient_number: patientNumber, types });
  assert.equal(response.status, 303, response.text_);
  return response.headers.get('location')!;
}

async function pageWhen(browser: Browser, path: string, pattern: RegExp): Promise<string> {
  await waitFor(async () => pattern.test((await browser.get(path)).text_));
  return browser.lastPage;
}

describe('clinic app: doctors sign in', () => {
  it('signs in with the right password and a CSRF token only; refuses other sites; signs out', async () => {
    const w = await world('poll');
    try {
      const b = createBrowser(w.clinic.origin);
      const home = await b.get('/');
      assert.equal(home.status, 303);
      assert.equal(home.headers.get('location'), '/login');

      const login = await b.get('/login');
      assert.equal(login.status, 200);
      const csp = login.headers.get('content-security-policy')!;
      assert.match(csp, /default-src 'none'/);
      assert.doesNotMatch(csp, /script-src/);
      // Regression: with no-referrer, Chromium posted the forms with `Origin: null` and every sign-in was refused.
      assert.equal(login.headers.get('referrer-policy'), 'same-origin');
      assert.match(login.headers.getSetCookie()[0]!, /^clinic-session=[^;]+; Path=\/; HttpOnly; SameSite=Lax/);
      assert.match(login.text_, /<label for="doctor">/);
      assert.match(login.text_, /<label for="password">/);
      const csrf = b.csrf();

      const wrong = await b.post('/login', { csrf, doctor: 'dr-sato', password: 'not the password' });
      assert.equal(wrong.status, 401);
      assert.match(wrong.text_, /The ID or the password is wrong/);
      assert.equal((await b.post('/login', { csrf, doctor: 'dr-nobody', password: 'whatever-123' })).status, 401);
      assert.equal((await b.post('/login', { doctor: 'dr-sato', password: DOCTORS[0]!.password })).status, 403, 'no CSRF token');
      assert.equal((await b.post('/login', { csrf: 'forged', doctor: 'dr-sato', password: DOCTORS[0]!.password })).status, 403, 'a wrong CSRF token');
      const other = createBrowser(w.clinic.origin);
      await other.get('/login');
      assert.equal((await b.post('/login', { csrf: other.csrf(), doctor: 'dr-sato', password: DOCTORS[0]!.password })).status, 403, 'another session\'s token');
      assert.equal((await b.post('/login', { csrf, doctor: 'dr-sato', password: DOCTORS[0]!.password }, { origin: 'https://evil.example' })).status, 403, 'another site');

      const before = b.jar.get('clinic-session');
      const ok = await b.post('/login', { csrf, doctor: 'dr-sato', password: DOCTORS[0]!.password });
      assert.equal(ok.status, 303);
      assert.notEqual(b.jar.get('clinic-session'), before, 'a new session after sign-in');
      const signedIn = await b.get('/');
      assert.equal(signedIn.status, 200);
      assert.match(signedIn.text_, /佐藤 医師/);
      assert.match(signedIn.text_, /<label for="patient-number">/);
      assert.equal((signedIn.text_.match(/type="checkbox" name="types"/g) ?? []).length, 4);
      assert.notEqual(b.csrf(), csrf, 'a new CSRF token with the new session');

      const cookie = b.jar.get('clinic-session')!;
      assert.equal((await b.post('/logout', { csrf: b.csrf() })).status, 303);
      const replay = await fetch(`${w.clinic.origin}/`, { redirect: 'manual', headers: { cookie: `clinic-session=${cookie}` } });
      assert.equal(replay.status, 303, 'the old cookie no longer signs in');
      assert.equal(w.events.filter((e) => e.event === 'login.failed').length, 2);
    } finally {
      await w.close();
    }
  });
});

describe('clinic app: poll mode', () => {
  it('sends a signed FAPI-CIBA request, polls, and shows the records the patient approved', async () => {
    const w = await world('poll');
    try {
      const b = createBrowser(w.clinic.origin);
      await signIn(b);
      const path = await ask(b);
      assert.match(path, /^\/requests\/[A-Za-z0-9_-]{22}$/);

      const [sent] = w.stub.requestObjects;
      assert.ok(sent);
      assert.deepEqual(sent.outer.sort(), ['client_assertion', 'client_assertion_type', 'client_id', 'request'], 'every parameter inside the request object');
      assert.equal(sent.header.alg, 'ES256');
      assert.equal(sent.header.kid, 'clinic-2026');
      const c = sent.claims;
      assert.equal(c.iss, w.stub.clientId);
      assert.equal(c.aud, w.stub.issuer.issuer);
      assert.ok(typeof c.jti === 'string' && c.jti.length >= 16);
      assert.ok(c.exp! - c.iat! <= 300 && c.nbf! <= c.iat!);
      assert.equal(c.scope, 'openid patient/Patient.rs patient/AllergyIntolerance.rs patient/MedicationStatement.rs patient/Observation.rs patient/Condition.rs',
        'the SMART scopes for the same types as the details: the API requires both');
      assert.equal(c.login_hint, 'p-0001');
      assert.match(String(c.binding_message), /^[2-9A-HJKMNP-TW-Z]{2}-[2-9A-HJKMNP-TW-Z]{4}$/);
      assert.equal(c.requested_expiry, 300);
      assert.equal(c.resource, AUDIENCE);
      assert.deepEqual(c.authorization_details, [{ type: 'fhir_record_access', resource_types: ['Patient', ...ALL_TYPES], actions: ['read', 'search'] }]);
      assert.equal(c.client_notification_token, undefined, 'poll mode sends none');

      const waiting = await b.get(path);
      assert.match(waiting.text_, /<meta http-equiv="refresh" content="2">/);
      assert.ok(waiting.text_.includes(`<strong class="binding">${String(c.binding_message)}</strong>`));
      assert.match(waiting.text_, /Time left [12]:\d\d/);

      const page = await pageWhen(b, path, /Records received/);
      assert.equal(w.stub.tokenRequests.length, 3, 'two authorization_pending, then tokens');
      assert.equal(new Set(w.stub.tokenRequests.map((t) => t.jkt)).size, 1, 'one DPoP key for the request');
      for (const text of ['架空 太郎', 'Taro Kakuu (fictional)', '1968-04-12', 'ペニシリン系抗菌薬', 'アムロジピン錠', '138/86 mmHg', 'HbA1c', '7.1 %', '本態性高血圧症', 'Approved by the patient']) {
        assert.ok(page.includes(text), text);
      }
      assert.doesNotMatch(page, /http-equiv="refresh"/);
      assert.doesNotMatch(page, /eyJ/, 'no token on the page');
      assert.doesNotMatch(JSON.stringify(w.events), /eyJ/, 'no token in the log');
      assert.equal(w.apiLog[0]!.path, '/fhir/Patient/p-0001', 'first: the patient the grant names (patient.ref)');
      assert.deepEqual(w.apiLog.slice(1).map((l) => l.path.split('?')[0]).sort(), ALL_TYPES.map((t) => `/fhir/${t}`).sort());
      assert.equal(w.apiLog.length, 5);
      assert.ok(w.apiLog.every((l) => l.status === 200 && l.client_id === w.stub.clientId));

      const otherDoctor = createBrowser(w.clinic.origin);
      await signIn(otherDoctor, 'dr-kato', DOCTORS[1]!.password);
      assert.equal((await otherDoctor.get(path)).status, 404, 'another doctor\'s request');
    } finally {
      await w.close();
    }
  });

  it('adds 5 s (here 0.2 s) on slow_down and retries once with the DPoP nonce it is given', async () => {
    const w = await world('poll', { pending: 1, slowDown: true, dpopNonce: true });
    try {
      const b = createBrowser(w.clinic.origin);
      await signIn(b);
      const path = await ask(b);
      await pageWhen(b, path, /Records received/);
      const t = w.stub.tokenRequests;
      assert.equal(t[0]!.nonce, undefined);
      assert.ok(t.slice(1).every((r) => r.nonce === 'server-nonce-1'), 'the retry and later requests carry the nonce');
      // t[1] is the nonce retry (answered slow_down); the next poll waits interval + 0.2 s.
      assert.ok(t[2]!.at - t[1]!.at >= 200, `waited ${t[2]!.at - t[1]!.at} ms after slow_down`);
    } finally {
      await w.close();
    }
  });

  it('says so when the patient declines, when nobody answers in time, when Sekisho does not know the patient, and when the grant names no FHIR patient', async () => {
    for (const [scenario, patientNumber, words] of [
      [{ outcome: 'deny' }, 'p-0001', /The patient declined/],
      [{ outcome: 'expire' }, 'p-0001', /No answer in time/],
      [{}, 'nobody', /Sekisho does not know this patient number/],
      // A grant naming the patient only by Sekisho's id: the API could not tell whose records.
      [{ patient: { id: TARO.id, label: TARO.label } }, 'p-0001', /The approval named no patient/],
    ] as const) {
      const w = await world('poll', scenario);
      try {
        const b = createBrowser(w.clinic.origin);
        await signIn(b);
        const path = await ask(b, patientNumber);
        const page = await pageWhen(b, path, words);
        assert.doesNotMatch(page, /架空 太郎/);
        assert.equal(w.apiLog.length, 0, 'no record read');
      } finally {
        await w.close();
      }
    }
  });

  it('marks the records the patient added themself (a home reading, an unconfirmed allergy) for the doctor', async () => {
    const w = await world('poll', { pending: 0 });
    try {
      // The patient's portal added two records before the doctor asks.
      const key = await dpopKey();
      for (const [type, body] of [['Observation', BLOOD_PRESSURE('p-0001', 131, 79, '2026-03-01T07:10:00+09:00')], ['AllergyIntolerance', ALLERGY('p-0001')]] as const) {
        const token = await w.stub.issuer.mintAccessToken({
          aud: AUDIENCE, client_id: 'portal', cnf: { jkt: key.jkt }, scope: `patient/${type}.c`,
          authorization_details: [{ type: 'fhir_record_access', resource_types: [type], actions: ['create'], patient: TARO }],
        });
        const url = `${w.api.origin}/fhir/${type}`;
        const response = await fetch(url, {
          method: 'POST', body: JSON.stringify(body),
          headers: { 'content-type': 'application/fhir+json', authorization: `DPoP ${token}`, dpop: await dpopProof(key, { htm: 'POST', htu: url, accessToken: token }) },
        });
        assert.equal(response.status, 201);
      }
      const b = createBrowser(w.clinic.origin);
      await signIn(b);
      const page = await pageWhen(b, await ask(b), /Records received/);
      assert.match(page, /<td>血圧 <span class="tag">本人記録 <span class="en" lang="en">Added by the patient<\/span><\/span><\/td><td>131\/79 mmHg<\/td><td>2026-03-01<\/td>/);
      assert.match(page, /<td>そば <span class="tag">本人記録/);
      assert.match(page, /<td>ペニシリン系抗菌薬<\/td>/, 'the hospital\'s own records carry no mark');
    } finally {
      await w.close();
    }
  });

  it('asks only for the types ticked, and shows a type whose scope the patient left unticked as not approved, without reading it', async () => {
    const w = await world('poll', { pending: 0, withheldScopes: ['patient/MedicationStatement.rs'] });
    try {
      const b = createBrowser(w.clinic.origin);
      await signIn(b);
      const page = await pageWhen(b, await ask(b, 'p-0001', ['MedicationStatement', 'Condition']), /Records received/);
      assert.equal(w.stub.requestObjects[0]!.claims.scope, 'openid patient/Patient.rs patient/MedicationStatement.rs patient/Condition.rs');
      assert.match(page, /本態性高血圧症/);
      assert.doesNotMatch(page, /アムロジピン錠/);
      assert.match(page, /Not approved/);
      assert.deepEqual(w.apiLog.map((l) => l.path.split('?')[0]).sort(), ['/fhir/Condition', '/fhir/Patient/p-0001']);
    } finally {
      await w.close();
    }
  });

  it('shows that a guardian approved for the patient (act)', async () => {
    const w = await world('poll', { pending: 0, act: { sub: 'account-guardian' } });
    try {
      const b = createBrowser(w.clinic.origin);
      await signIn(b);
      const page = await pageWhen(b, await ask(b), /Records received/);
      assert.match(page, /Approved by a guardian for the patient/);
      assert.deepEqual(w.apiLog[0]!.act, { sub: 'account-guardian' });
    } finally {
      await w.close();
    }
  });

  it('refuses bad input and more running requests than its bound', async () => {
    const w = await world('poll', { pending: 1000 }, { maxPending: 1 });
    try {
      const b = createBrowser(w.clinic.origin);
      await signIn(b);
      const csrf = b.csrf();
      for (const fields of [
        { csrf, patient_number: 'p 0001', types: ALL_TYPES }, { csrf, patient_number: 'p-0001', types: [] },
        { csrf, patient_number: 'p-0001', types: ['Encounter'] }, { csrf, patient_number: 'p-0001', types: ['Condition', 'Condition'] },
        { csrf, patient_number: 'x'.repeat(65), types: ALL_TYPES },
      ]) {
        assert.equal((await b.post('/requests', fields)).status, 400, JSON.stringify(fields));
      }
      assert.equal(w.stub.requestObjects.length, 0);
      await b.get('/');
      await ask(b);
      await b.get('/');
      const busy = await b.post('/requests', { csrf: b.csrf(), patient_number: 'p-0002', types: ALL_TYPES });
      assert.equal(busy.status, 503);
      assert.equal(busy.headers.get('retry-after'), '30');
    } finally {
      await w.close();
    }
  });
});

describe('clinic app: ping mode', () => {
  it('sends a client_notification_token, answers only its bearer at /ciba/notify, then fetches the tokens once', async () => {
    const w = await world('ping', { pending: 0 });
    try {
      const b = createBrowser(w.clinic.origin);
      await signIn(b);
      const path = await ask(b);
      const token = String(w.stub.requestObjects[0]!.claims.client_notification_token);
      assert.match(token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
      assert.equal(w.app.notificationEndpoint, `${w.clinic.origin}/ciba/notify`);

      assert.equal(await w.stub.ping(w.app.notificationEndpoint, { bearer: `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}` }), 401, 'a wrong bearer');
      assert.equal(await w.stub.ping(w.app.notificationEndpoint, { bearer: 'c29tZXRoaW5nLWVsc2UtZW50aXJlbHk' }), 401, 'an unknown bearer');
      const noAuth = await fetch(w.app.notificationEndpoint, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      assert.equal(noAuth.status, 401);
      assert.equal(await w.stub.ping(w.app.notificationEndpoint, { authReqId: 'another-request' }), 400, 'the right bearer for another auth_req_id');
      assert.equal(w.stub.tokenRequests.length, 0, 'nothing fetched before the ping (the fallback poll is 60 s away)');
      assert.match((await b.get(path)).text_, /Waiting for the patient/);

      assert.equal(await w.stub.ping(w.app.notificationEndpoint), 204);
      const page = await pageWhen(b, path, /Records received/);
      assert.match(page, /架空 太郎/);
      assert.equal(w.stub.tokenRequests.length, 1, 'fetched once');
      assert.equal(await w.stub.ping(w.app.notificationEndpoint), 401, 'a finished request is no longer known');
    } finally {
      await w.close();
    }
  });

  it('still finds the result by its slow fallback poll when no ping comes', async () => {
    const w = await world('ping', { pending: 1 }, { pingFallbackPollSeconds: 0.05 });
    try {
      const b = createBrowser(w.clinic.origin);
      await signIn(b);
      await pageWhen(b, await ask(b), /Records received/);
      assert.equal(w.stub.tokenRequests.length, 2);
    } finally {
      await w.close();
    }
  });

  it('has no notification endpoint in poll mode', async () => {
    const w = await world('poll');
    try {
      const response = await fetch(`${w.clinic.origin}/ciba/notify`, { method: 'POST', headers: { authorization: 'Bearer x' } });
      assert.equal(response.status, 404);
    } finally {
      await w.close();
    }
  });
});
