import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientPrivateJwk } from '@sekisho/example-kit/client-key';
import { createBrowser, type Browser } from '@sekisho/example-kit/testing/browser';
import { listen, type Listening } from '@sekisho/example-kit/testing/listen';
import { createHealthApi, type AccessLogLine } from '../src/health-api.ts';
import { createPatientPortal, type PatientPortal } from '../src/patient-portal.ts';
import { SAMPLE_RECORDS } from '../src/sample-records.ts';
import { startStubCodeFlow, type CodeFlowScenario, type StubCodeFlow } from './support/stub-code-flow.ts';

const AUDIENCE = 'https://health.example/fhir';
const TARO = { id: '3b0f8a52-7c1e-4d2a-9f6b-2a1c0e9d8b7a', label: '架空 太郎 (p-0001)', ref: 'p-0001' };

interface World { stub: StubCodeFlow; portal: PatientPortal; site: Listening; api: Listening; apiLog: AccessLogLine[]; events: Array<Record<string, unknown>>; close(): Promise<void> }

async function world(scenario: Partial<CodeFlowScenario> = {}): Promise<World> {
  const site = await listen();
  const stub = await startStubCodeFlow({ healthAudience: AUDIENCE, redirectUri: `${site.origin}/callback`, scenario: { outcome: 'approve', patient: TARO, ongoing: true, ...scenario } });
  const api = await listen();
  const apiLog: AccessLogLine[] = [];
  api.server.on('request', createHealthApi({ issuer: stub.issuer.issuer, audience: AUDIENCE, publicUrl: `${api.origin}/fhir`, data: structuredClone(SAMPLE_RECORDS), log: (l) => apiLog.push(l) }));
  const events: Array<Record<string, unknown>> = [];
  const portal = createPatientPortal({
    issuer: stub.issuer.issuer, clientId: stub.clientId, privateJwk: stub.clientPrivateJwk as ClientPrivateJwk,
    healthApiUrl: `${api.origin}/fhir`, healthApiAudience: AUDIENCE, publicUrl: site.origin, log: (e) => events.push(e),
  });
  site.server.on('request', portal.handler);
  return {
    stub, portal, site, api, apiLog, events,
    async close() { portal.close(); await site.close(); await api.close(); await stub.close(); },
  };
}

/** Signs in as the browser would: the button, Sekisho (the stub decides), back to the callback. */
async function signIn(w: World, b: Browser, lang = ''): Promise<Response & { text_: string }> {
  await b.get(`/${lang}`);
  const started = await b.post('/login', { csrf: b.csrf() });
  assert.equal(started.status, 303, started.text_);
  const authorize = new URL(started.headers.get('location')!);
  assert.equal(authorize.origin + authorize.pathname, `${w.stub.issuer.issuer}/authorize`);
  const atSekisho = await fetch(authorize, { redirect: 'manual' });
  assert.equal(atSekisho.status, 303);
  const callback = new URL(atSekisho.headers.get('location')!);
  assert.equal(callback.origin, w.site.origin);
  return b.get(`${callback.pathname}${callback.search}`);
}

/** A reading taken a little while ago, as the datetime-local field gives it (Japan time). */
function localTime(minutesAgo: number): string {
  return new Date(Date.now() + 9 * 3600_000 - minutesAgo * 60_000).toISOString().slice(0, 16);
}

describe('patient portal: signing in through Sekisho (stub)', () => {
  it('says what it is, in Japanese by default and in English on request, with a strict CSP and an HttpOnly session cookie', async () => {
    const w = await world();
    try {
      const b = createBrowser(w.site.origin);
      const home = await b.get('/');
      assert.equal(home.status, 200);
      assert.match(home.text_, /<html lang="ja">/);
      assert.match(home.text_, /Sekisho でログイン/);
      const csp = home.headers.get('content-security-policy')!;
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, new RegExp(`form-action 'self' ${w.stub.issuer.issuer}`), 'the sign-in form is redirected to Sekisho');
      assert.doesNotMatch(csp, /script-src/);
      assert.doesNotMatch(home.text_, /<script/);
      assert.match(home.headers.getSetCookie().join('\n'), /^portal-session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=1800$/m);
      const en = await b.get('/?lang=en');
      assert.match(en.text_, /<html lang="en">/);
      assert.match(en.text_, /Sign in with Sekisho/);
      assert.match((await b.get('/')).text_, /<html lang="en">/, 'the choice is remembered');
    } finally {
      await w.close();
    }
  });

  it('signs in with PAR, PKCE, DPoP and private_key_jwt, asks for the scopes and two details, and shows the records', async () => {
    const w = await world({ dpopNonce: true });
    try {
      const b = createBrowser(w.site.origin);
      await b.get('/');
      const before = b.jar.get('portal-session');
      const back = await signIn(w, b);
      assert.equal(back.status, 303);
      assert.equal(back.headers.get('location'), '/');
      assert.notEqual(b.jar.get('portal-session'), before, 'a new session id after sign-in');

      const [pushed] = w.stub.pushed;
      assert.ok(pushed);
      assert.equal(pushed.scope, 'openid offline_access patient/Patient.rs patient/AllergyIntolerance.rs patient/MedicationStatement.rs patient/Observation.rs patient/Condition.rs patient/Observation.c patient/AllergyIntolerance.c');
      assert.equal(pushed.prompt, 'consent');
      assert.equal(pushed.resource, AUDIENCE);
      assert.equal(pushed.code_challenge_method, 'S256');
      assert.deepEqual(JSON.parse(pushed.authorization_details!), [
        { type: 'fhir_record_access', resource_types: ['Patient', 'AllergyIntolerance', 'MedicationStatement', 'Observation', 'Condition'], actions: ['read', 'search'] },
        { type: 'fhir_record_access', resource_types: ['Observation', 'AllergyIntolerance'], actions: ['create'] },
      ]);
      assert.ok(!('code_verifier' in pushed));

      const page = await b.get('/');
      assert.equal(page.status, 200);
      for (const text of ['健康記録', '架空 太郎', 'Taro Kakuu (fictional)', '1968-04-12', 'ペニシリン系抗菌薬', 'アムロジピン錠', '138/86 mmHg', '本態性高血圧症', '連携を解除する', '家庭での血圧', 'アレルギーの原因']) {
        assert.ok(page.text_.includes(text), text);
      }
      assert.doesNotMatch(page.text_, /eyJ/, 'no token on the page');
      assert.doesNotMatch(JSON.stringify(w.events), /eyJ/, 'no token in the log');
      const grants = w.stub.tokenRequests.map((t) => t.grantType);
      assert.deepEqual(grants, ['authorization_code', 'refresh_token'], 'the page got a fresh access token');
      assert.equal(new Set(w.stub.tokenRequests.map((t) => t.jkt)).size, 1, 'one DPoP key for the connection');
      assert.deepEqual(w.apiLog.map((l) => l.status), [200, 200, 200, 200, 200]);
      assert.ok(w.apiLog.every((l) => l.client_id === w.stub.clientId && l.patient === 'p-0001'));

      const en = await b.get('/?lang=en');
      for (const text of ['Health records', 'Allergies and adverse reactions', 'Blood pressure at home', 'Disconnect']) assert.ok(en.text_.includes(text), text);
      assert.equal(w.stub.tokenRequests.filter((t) => t.grantType === 'refresh_token').length, 2, 'one refresh per page');
    } finally {
      await w.close();
    }
  });

  it('says so when the person does not allow it, and ignores a callback it did not start or with another state', async () => {
    const w = await world({ outcome: 'deny' });
    try {
      const b = createBrowser(w.site.origin);
      const denied = await signIn(w, b, '?lang=en');
      assert.equal(denied.status, 403);
      assert.match(denied.text_, /You did not allow access at Sekisho/);
      assert.equal(w.stub.tokenRequests.length, 0);
      assert.equal((await b.post('/login', { csrf: b.csrf() })).status, 303, 'the page offers signing in again, with a working form');

      const stranger = createBrowser(w.site.origin);
      const unasked = await stranger.get('/callback?code=x&state=y&iss=z');
      assert.equal(unasked.status, 303, 'no sign-in was started here');
      await stranger.get('/');
      await stranger.post('/login', { csrf: stranger.csrf() });
      const forged = await stranger.get(`/callback?code=x&state=not-the-state&iss=${encodeURIComponent(w.stub.issuer.issuer)}`);
      assert.equal(forged.status, 400);
      assert.equal(w.stub.tokenRequests.length, 0, 'nothing redeemed');
    } finally {
      await w.close();
    }
  });

  it('refuses sign-in and other forms without the session\'s CSRF token or from another site', async () => {
    const w = await world();
    try {
      const b = createBrowser(w.site.origin);
      await b.get('/');
      const csrf = b.csrf();
      assert.equal((await b.post('/login', {})).status, 403);
      assert.equal((await b.post('/login', { csrf: 'forged' })).status, 403);
      assert.equal((await b.post('/login', { csrf }, { origin: 'https://evil.example' })).status, 403);
      const other = createBrowser(w.site.origin);
      await other.get('/');
      assert.equal((await b.post('/login', { csrf: other.csrf() })).status, 403, 'another session\'s token');
      assert.equal(w.stub.pushed.length, 0);
    } finally {
      await w.close();
    }
  });
});

describe('patient portal: when something is missing', () => {
  it('says so when Sekisho cannot be reached, and when the API holds no record of the chosen patient', async () => {
    const w = await world({ patient: { id: 'x', label: '架空 四郎', ref: 'p-0404' } });
    try {
      const b = createBrowser(w.site.origin);
      await signIn(w, b);
      const nobody = await b.get('/?lang=en');
      assert.equal(nobody.status, 404);
      assert.match(nobody.text_, /holds no record of the patient chosen/);
      await w.stub.close();
      const down = await b.get('/');
      assert.equal(down.status, 503);
      assert.match(down.text_, /could not be reached/);
      const other = createBrowser(w.site.origin);
      await other.get('/');
      const login = await other.post('/login', { csrf: other.csrf() });
      assert.equal(login.status, 503, 'the pushed authorization request cannot be made');
    } finally {
      await w.close();
    }
  });
});

describe('patient portal: adding records', () => {
  it('adds a home blood pressure, a weight and an allergy through the API; they appear, marked as added by the patient', async () => {
    const w = await world();
    try {
      const b = createBrowser(w.site.origin);
      await signIn(w, b);
      await b.get('/');
      const bp = await b.post('/records/blood-pressure', { csrf: b.csrf(), systolic: '133', diastolic: '85', measured_at: localTime(30) });
      assert.equal(bp.status, 303);
      const page = await b.get('/');
      assert.match(page.text_, /role="status">記録を追加しました。/);
      assert.match(page.text_, /<td>血圧 <span class="tag">ご本人が追加<\/span><\/td><td>133\/85 mmHg<\/td>/);
      const created = w.apiLog.filter((l) => l.outcome === 'created');
      assert.equal(created.length, 1);
      assert.match(created[0]!.created!, /^Observation\/ob-/);

      assert.equal((await b.post('/records/body-weight', { csrf: b.csrf(), weight: '70.8', measured_at: localTime(20) })).status, 303);
      await b.get('/');
      assert.equal((await b.post('/records/allergy', { csrf: b.csrf(), allergen: 'buckwheat', criticality: 'high', reaction: 'じんましん', noticed_on: '' })).status, 303);
      const after = await b.get('/?lang=en');
      assert.match(after.text_, /<td>体重 <span class="tag">Added by you<\/span><\/td><td>70.8 kg<\/td>/);
      assert.match(after.text_, /<td>そば <span class="tag">Added by you<\/span><\/td><td>重篤 \/ high risk、じんましん<\/td>/);
      assert.deepEqual(w.events.filter((e) => e.event === 'portal.record_added').map((e) => e.form), ['blood-pressure', 'body-weight', 'allergy']);
    } finally {
      await w.close();
    }
  });

  it('says what is wrong with a form in the person\'s language and sends nothing to the API', async () => {
    const w = await world();
    try {
      const b = createBrowser(w.site.origin);
      await signIn(w, b);
      await b.get('/?lang=en');
      const bad = await b.post('/records/blood-pressure', { csrf: b.csrf(), systolic: '80', diastolic: '95', measured_at: localTime(5) });
      assert.equal(bad.status, 400);
      assert.match(bad.text_, /role="alert" id="blood-pressure-error">The systolic value must be higher than the diastolic./);
      assert.match(bad.text_, /value="80" aria-describedby="blood-pressure-error" aria-invalid="true"/, 'the values are kept');
      const future = await b.post('/records/body-weight', { csrf: b.csrf(), weight: '70', measured_at: localTime(-120) });
      assert.equal(future.status, 400);
      assert.match(future.text_, /not in the future/);
      assert.equal((await b.post('/records/allergy', { csrf: b.csrf(), allergen: 'pollen' })).status, 400);
      assert.equal(w.apiLog.filter((l) => l.method === 'POST').length, 0);
      assert.equal((await b.post('/records/blood-pressure', { systolic: '130', diastolic: '80', measured_at: localTime(5) })).status, 403, 'no CSRF token');
    } finally {
      await w.close();
    }
  });

  it('offers only what was granted: no allergy form without its scope, a type not granted is said so and not read', async () => {
    const w = await world({ withheldScopes: ['patient/AllergyIntolerance.c', 'patient/Condition.rs'] });
    try {
      const b = createBrowser(w.site.origin);
      await signIn(w, b);
      const page = await b.get('/?lang=en');
      assert.doesNotMatch(page.text_, /Allergic to/);
      assert.match(page.text_, /Blood pressure at home/);
      assert.match(page.text_, /<h2>Conditions and diagnoses<\/h2><p class="error">This service was not allowed to read these.<\/p>/);
      assert.ok(!w.apiLog.some((l) => l.path.startsWith('/fhir/Condition')));
      const refused = await b.post('/records/allergy', { csrf: b.csrf(), allergen: 'egg' });
      assert.equal(refused.status, 403);
      assert.equal(w.apiLog.filter((l) => l.method === 'POST').length, 0);
    } finally {
      await w.close();
    }
  });
});

describe('patient portal: disconnecting, and a consent that ends', () => {
  it('Disconnect ends the grant at Sekisho (Grant Management DELETE with its own client-credentials token) and forgets the tokens', async () => {
    const w = await world();
    try {
      const b = createBrowser(w.site.origin);
      await signIn(w, b);
      await b.get('/');
      const grantId = [...w.stub.grants.keys()][0]!;
      const reads = w.apiLog.length;
      const out = await b.post('/disconnect', { csrf: b.csrf() });
      assert.equal(out.status, 303);
      assert.deepEqual(w.stub.revocations, [{ grantId, status: 204 }]);
      assert.equal(w.stub.grants.get(grantId)!.active, false);
      const management = w.stub.tokenRequests.at(-1)!;
      assert.equal(management.grantType, 'client_credentials');
      assert.notEqual(management.jkt, w.stub.tokenRequests[0]!.jkt, 'its own DPoP key, not the connection\'s');

      const page = await b.get('/?lang=en');
      assert.match(page.text_, /role="status">Disconnected. Your consent to this service was withdrawn at Sekisho./);
      assert.match((await b.get('/?lang=ja')).text_, /role="status">連携を解除しました。/, 'the message again in the other language');
      assert.doesNotMatch((await b.get('/')).text_, /role="status"/, 'and then no more');
      assert.match(page.text_, /Sign in with Sekisho/);
      const refreshes = w.stub.tokenRequests.filter((t) => t.grantType === 'refresh_token').length;
      await b.get('/');
      assert.equal(w.stub.tokenRequests.filter((t) => t.grantType === 'refresh_token').length, refreshes, 'nothing left to refresh with');
      assert.equal(w.apiLog.length, reads, 'no record read after');
      assert.equal((await b.post('/records/blood-pressure', { csrf: b.csrf(), systolic: '130', diastolic: '80', measured_at: localTime(5) })).status, 303);
      assert.equal(w.apiLog.length, reads, 'nor added');
    } finally {
      await w.close();
    }
  });

  it('a consent withdrawn at Sekisho stops the portal at its next page: the refresh answers invalid_grant', async () => {
    const w = await world();
    try {
      const b = createBrowser(w.site.origin);
      await signIn(w, b);
      assert.equal((await b.get('/')).status, 200);
      const reads = w.apiLog.length;
      w.stub.withdraw([...w.stub.grants.keys()][0]!);
      const next = await b.get('/');
      assert.equal(next.status, 303, 'nothing shown');
      assert.equal(w.apiLog.length, reads, 'not a single record read with a token issued before');
      const page = await b.get('/');
      assert.match(page.text_, /このサービスへの同意が終了しています/);
      assert.ok(w.events.some((e) => e.event === 'portal.consent_ended'));
    } finally {
      await w.close();
    }
  });

  it('"just this once" (no refresh token): the one access token serves until it expires, and is never refreshed', async () => {
    const w = await world({ ongoing: false });
    try {
      const b = createBrowser(w.site.origin);
      await signIn(w, b);
      assert.match((await b.get('/')).text_, /架空 太郎/);
      assert.match((await b.get('/')).text_, /架空 太郎/);
      assert.deepEqual(w.stub.tokenRequests.map((t) => t.grantType), ['authorization_code']);
      assert.ok(w.events.some((e) => e.event === 'portal.signed_in' && e.ongoing === false));
    } finally {
      await w.close();
    }
  });

  it('signing out forgets the tokens here and keeps the consent at Sekisho', async () => {
    const w = await world();
    try {
      const b = createBrowser(w.site.origin);
      await signIn(w, b);
      const page = await b.get('/');
      const cookie = b.jar.get('portal-session')!;
      assert.equal((await b.post('/logout', { csrf: b.csrf() })).status, 303);
      assert.match((await b.get('/')).text_, /ログアウトしました。同意はそのままです。/);
      assert.ok([...w.stub.grants.values()].every((g) => g.active));
      const replay = await fetch(`${w.site.origin}/`, { headers: { cookie: `portal-session=${cookie}` } });
      assert.doesNotMatch(await replay.text(), /架空 太郎/, 'the old session cookie shows nothing');
      assert.ok(page.text_.includes('架空 太郎'));
    } finally {
      await w.close();
    }
  });
});
