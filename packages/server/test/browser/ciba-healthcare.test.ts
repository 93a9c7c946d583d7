/**
 * The healthcare scenario end to end, with the real apps (examples/health) and several browsers
 * in Debian Chromium: a doctor at the clinic's records system asks for a patient's records; the
 * request reaches the patient's phone (Sekisho's device app, a CDP virtual authenticator as the
 * phone's platform authenticator) with the same binding message; the patient picks their record,
 * ticks the record types and allows with their passkey; the clinic reads the records from the
 * health API with a DPoP-bound JWT carrying SMART scopes and the fhir_record_access detail. Also:
 * a denial, an expiry, ping mode over HTTPS, a guardian deciding for a child (`act` in the tokens),
 * a lost phone removed from another, and the patient portal: the patient signs in on their
 * computer with a passkey, adds a home blood pressure that the doctor then sees, and disconnects;
 * a consent withdrawn at Sekisho stops the portal at its next refresh. One story: the phone linked
 * in the first test is used by the others. Screenshots go to .screenshots/ (ciba-*.png,
 * health-portal-*.png).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { BROWSER_SKIP } from '../support/browser.ts';
import { addPasskey } from '../support/device.ts';
import { addAuthenticator, addCredential, openBrowser, PHONE, shot as screenshot, type PersonBrowser } from '../support/person-browser.ts';
import {
  addBloodPressure, allowOnPhone, allowPortal, askForRecords as askAtClinic, clinicShows as clinicSays, linkPhone, openOnPhone,
  signInDoctor as signInAtClinic,
} from '../support/health-browser.ts';
import { DOCTOR, startHealthScenario, type HealthScenario, type RunningClinic, type RunningPortal } from '../support/health-scenario.ts';
import { listMailbox } from '../../src/mail/mailer.ts';
import { createLinkedResources } from '../../src/identity/linked-resources.ts';
import { createDelegations } from '../../src/consent/delegations.ts';
import { HEALTH_SCOPES } from '../../../../examples/health/src/registration.ts';

const TARO = { email: `taro.kakuu.${Date.now()}@example.jp`, name: '架空 太郎', record: '架空 太郎 (p-0001)' };

/** A screenshot (ciba-`name`.png unless another prefix is given), with the accessibility basics checked. */
const shot = (page: Page, name: string, prefix = 'ciba') => screenshot(page, `${prefix}-${name}`);

describe('the healthcare CIBA scenario in Chromium (clinic, device app, health API)', { skip: BROWSER_SKIP }, () => {
  let world: HealthScenario;
  let clinic: RunningClinic;
  /** The doctor's computer at the clinic. */
  let doctor: PersonBrowser;
  /** The patient's phone (架空 太郎), later also the guardian's. */
  let phone: PersonBrowser;
  let taroId: string;
  const browsers: PersonBrowser['browser'][] = [];
  const sekisho = (path: string) => `${world.server.issuer}${path}`;

  before(async () => {
    world = await startHealthScenario();
    clinic = await world.startClinic({ mode: 'poll' });
    doctor = await openBrowser();
    phone = await openBrowser(PHONE);
    browsers.push(doctor.browser, phone.browser);
    await addAuthenticator(phone.browser.context, phone.page);
  });
  after(async () => {
    await Promise.all(browsers.map((b) => b.close()));
    await world?.close();
  });

  async function codeFrom(to: string) {
    for (let i = 0; i < 100; i++) {
      const [mail] = await listMailbox(world.server.app.storage.db, { to, limit: 1 });
      const code = mail ? /(\d{6})/.exec(mail.text)?.[1] : undefined;
      if (code) return code;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no code mailed to ${to}`);
  }

  /** The doctor signs in to a clinic app (once per clinic: its own cookie). */
  const signInDoctor = (c: RunningClinic) => signInAtClinic(doctor.page, c.url, DOCTOR);
  /** The doctor asks for a patient's records; returns the binding message the waiting page shows. */
  const askForRecords = (c: RunningClinic, patientNumber: string, uncheck: string[] = []) => askAtClinic(doctor.page, c.url, DOCTOR, patientNumber, uncheck);
  /** The clinic's request page once it says `heading`. */
  const clinicShows = (heading: RegExp, timeout?: number) => clinicSays(doctor.page, heading, timeout);

  it('the patient creates a passkey on Sekisho and links their phone to the device app with it', async () => {
    const page = phone.page;
    await page.goto(sekisho('/signup?lang=en'));
    await page.getByLabel('E-mail address').fill(TARO.email);
    await page.getByLabel('Your name (optional)').fill(TARO.name);
    await page.getByRole('button', { name: 'Send the code' }).click();
    await page.getByLabel('Code from the e-mail').fill(await codeFrom(TARO.email));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Create a passkey' }).click();
    await page.getByRole('heading', { name: 'Your account is ready' }).waitFor();
    taroId = (await world.server.app.accounts.findByEmail(TARO.email))!.id;
    // The hospital's part: the patient record linked to the account, its ref the FHIR Patient id.
    await createLinkedResources(world.server.app.storage.db).add({ accountId: taroId, kind: 'fhir_patient', ref: 'p-0001', label: TARO.record });

    await page.goto(sekisho('/device?lang=ja'));
    await page.getByRole('heading', { name: 'このスマートフォンを登録' }).waitFor();
    await shot(page, 'device-link-ja');
    await page.goto(sekisho('/device?lang=en'));
    await page.getByRole('heading', { name: 'Link this phone' }).waitFor();
    await shot(page, 'device-link-en');
    await linkPhone(page, 'Taro’s phone');
    await page.getByText('Nothing is waiting for you.').waitFor();
    const devices = await world.server.app.storage.db.selectFrom('authentication_devices').select('name').where('account_id', '=', taroId).execute();
    assert.deepEqual(devices.map((d) => d.name), ['Taro’s phone']);
  });

  it('the approval app installs like an app: a manifest, a service worker for /device, and its shell answers offline', async () => {
    const page = phone.page;
    const manifest = await (await page.request.get(sekisho('/device/manifest.webmanifest'))).json() as { start_url: string; scope: string; display: string; icons: unknown[] };
    assert.deepEqual([manifest.start_url, manifest.scope, manifest.display], ['/device', '/device', 'standalone']);
    assert.ok(manifest.icons.length >= 1);
    const worker = await page.evaluate(async () => Promise.race([
      navigator.serviceWorker.ready.then((r) => r.active?.scriptURL ?? ''),
      new Promise<string>((resolve) => { setTimeout(() => resolve('no service worker became ready'), 10_000); }),
    ]));
    assert.ok(worker.endsWith('/device/sw.js'), worker);
    // Once the worker controls the page, a visit without a network gets the offline shell, not the browser's error page.
    await page.reload();
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 10_000 });
    await phone.browser.context.setOffline(true);
    try {
      await page.goto(sekisho('/device'));
      await page.getByText('You are offline. Requests appear when you are back online.').waitFor();
    } finally {
      await phone.browser.context.setOffline(false);
    }
    await page.goto(sekisho('/device?lang=en'));
    await page.getByText('Nothing is waiting for you.').waitFor();
  });

  it('poll mode: the request appears on the open list by itself with the clinic’s code; the patient allows with the passkey; the clinic shows the records', async () => {
    const page = phone.page;
    // The list is open before the clinic asks, its live channel connected.
    const live = page.waitForResponse((r) => r.url().endsWith('/device/events'));
    await page.goto(sekisho('/device?lang=en'));
    assert.equal((await live).status(), 200);
    let loads = 0;
    const counted = () => { loads += 1; };
    page.on('load', counted);

    await doctor.page.goto(`${clinic.url}/login`);
    await shot(doctor.page, 'clinic-login');
    await signInDoctor(clinic);
    await shot(doctor.page, 'clinic-home');
    const { code } = await askForRecords(clinic, 'p-0001');
    await shot(doctor.page, 'clinic-waiting');

    // No reload by the test: the page reloads itself on the live channel's event.
    const item = page.getByRole('listitem').filter({ hasText: code });
    await item.waitFor();
    assert.ok(loads >= 1, 'the list page reloaded itself');
    page.off('load', counted);
    assert.match((await item.textContent())!, /Clinic|クリニック/);
    await shot(page, 'device-list-en');
    await page.goto(sekisho('/device?lang=ja'));
    await page.getByRole('link', { name: '内容を確認する' }).waitFor();
    await shot(page, 'device-list-ja');
    await page.goto(sekisho('/device?lang=en'));

    await openOnPhone(page, code);
    await shot(page, 'device-request-en');
    await page.goto(`${page.url()}?lang=ja`);
    await page.getByRole('heading', { name: 'アクセスを許可しますか？' }).waitFor();
    await shot(page, 'device-request-ja');
    await page.goto(page.url().replace('?lang=ja', '?lang=en'));
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    await allowOnPhone(page, TARO.record);
    await shot(page, 'device-allowed-en');

    await clinicShows(/Records received/);
    const text = await doctor.page.locator('main').textContent();
    for (const words of ['架空 太郎', 'Taro Kakuu (fictional)', '1968-04-12', 'ペニシリン系抗菌薬', 'アムロジピン錠', '138/86 mmHg', 'HbA1c', '本態性高血圧症', 'Approved by the patient']) {
      assert.ok(text!.includes(words), words);
    }
    await shot(doctor.page, 'clinic-records');
    const reads = world.apiLog.filter((l) => l.client_id === clinic.clientId);
    assert.deepEqual(reads.map((l) => [l.path.split('?')[0], l.status, l.sub, l.patient]).sort(), [
      ['/fhir/AllergyIntolerance', 200, taroId, 'p-0001'], ['/fhir/Condition', 200, taroId, 'p-0001'], ['/fhir/MedicationStatement', 200, taroId, 'p-0001'],
      ['/fhir/Observation', 200, taroId, 'p-0001'], ['/fhir/Patient/p-0001', 200, taroId, 'p-0001'],
    ]);
    assert.ok(reads.every((l) => l.act === undefined), 'the patient approved: no act');

    // The decided request has left the list (looked at in Japanese this time).
    await page.goto(sekisho('/device?lang=ja'));
    await page.getByText('判断を待っている依頼はありません。').waitFor();
    await page.goto(sekisho('/device?lang=en'));
  });

  it('a denial on the phone: the clinic says the patient declined and reads nothing', async () => {
    const page = phone.page;
    const before = world.apiLog.length;
    await page.goto(sekisho('/device?lang=en'));
    const { code } = await askForRecords(clinic, 'p-0001', ['Test results and vital signs']);
    await page.getByRole('listitem').filter({ hasText: code }).waitFor();
    await openOnPhone(page, code);
    await page.goto(`${page.url()}?lang=ja`);
    await page.getByRole('button', { name: '拒否する', exact: true }).click();
    await page.getByRole('status').filter({ hasText: /^拒否しました。/ }).waitFor();
    await shot(page, 'device-denied-ja');
    await clinicShows(/The patient declined/);
    await shot(doctor.page, 'clinic-denied');
    assert.equal(world.apiLog.length, before, 'no record read');
  });

  it('expiry: nobody allows in time; the open request on the phone says it expired, and so does the clinic', async () => {
    const quick = await world.startClinic({ mode: 'poll', requestedExpiry: 8 });
    const page = phone.page;
    await page.goto(sekisho('/device?lang=en'));
    const { code } = await askForRecords(quick, 'p-0001');
    await page.getByRole('listitem').filter({ hasText: code }).waitFor();
    await openOnPhone(page, code);
    assert.match((await page.locator('#time-left').textContent())!, /Time left: 0:0\d/);
    // The countdown reaches zero and the page reloads itself into the outcome.
    await page.getByRole('status').filter({ hasText: 'This request has expired' }).waitFor({ timeout: 15_000 });
    await shot(page, 'device-expired-en');
    await clinicShows(/No answer in time/);
    await shot(doctor.page, 'clinic-expired');
  });

  it('ping mode over HTTPS: Sekisho notifies the clinic, which fetches the tokens at once and shows the records', async () => {
    const pinged = await world.startClinic({ mode: 'ping' });
    assert.match(pinged.url, /^https:\/\/localhost:/);
    const page = phone.page;
    await page.goto(sekisho('/device?lang=en'));
    const { code } = await askForRecords(pinged, 'p-0001', ['Allergies and adverse reactions', 'Medicines']);
    await page.getByRole('listitem').filter({ hasText: code }).waitFor();
    await openOnPhone(page, code);
    await allowOnPhone(page, TARO.record);
    // The fallback poll is 30 s away: only the ping can bring the result this soon.
    await clinicShows(/Records received/, 10_000);
    assert.ok(pinged.events.some((e) => e.event === 'ciba.notified'), 'the clinic was pinged');
    const text = (await doctor.page.locator('main').textContent())!;
    assert.ok(text.includes('本態性高血圧症') && text.includes('HbA1c'));
    assert.ok(!text.includes('アムロジピン錠'), 'medicines were not asked for');
  });

  it('a guardian decides for a child: the request for the child reaches the parent’s phone, and the clinic and the API see act', async () => {
    const db = world.server.app.storage.db;
    const jiro = await world.server.app.accounts.create({ username: `jiro-${Date.now()}`, password: randomBytes(12).toString('base64url'), claims: { name: '架空 次郎' } });
    await createLinkedResources(db).add({ accountId: jiro.id, kind: 'fhir_patient', ref: 'p-0003', label: '架空 次郎 (p-0003)' });
    await createDelegations(db).register({
      principal: jiro.id, delegate: taroId, relationship: 'parent', evidence: '戸籍謄本 (fictional) #A-0003', verifiedBy: '窓口 佐藤 (fictional)',
      // What a parent may allow for the child: reading the record types, and the detail that names the child.
      verifiedAt: new Date(), constraints: { scopes: HEALTH_SCOPES.read, authorizationDetailTypes: ['fhir_record_access'] }, validFrom: new Date(Date.now() - 60_000),
    });

    const page = phone.page;
    await page.goto(sekisho('/device?lang=en'));
    const { code } = await askForRecords(clinic, 'p-0003');
    const item = page.getByRole('listitem').filter({ hasText: code });
    await item.waitFor();
    assert.match((await item.textContent())!, /for 架空 次郎/);
    await shot(page, 'device-list-guardian-en');
    await openOnPhone(page, code);
    await page.getByRole('note').filter({ hasText: 'You are deciding for 架空 次郎, as parent.' }).waitFor();
    assert.equal(await page.getByRole('radio').count(), 1, 'only the child’s own record is offered');
    await shot(page, 'device-request-guardian-en');
    await page.goto(`${page.url()}?lang=ja`);
    await page.getByRole('note').filter({ hasText: '架空 次郎 さんの親権者として判断します。' }).waitFor();
    await shot(page, 'device-request-guardian-ja');
    await allowOnPhone(page, '架空 次郎 (p-0003)', { allow: '許可する', done: /^許可しました。/ });
    await shot(page, 'device-allowed-ja');

    await clinicShows(/Records received/);
    const text = (await doctor.page.locator('main').textContent())!;
    for (const words of ['Approved by a guardian for the patient', '架空 次郎', '2016-02-03', 'ピーナッツ', 'アトピー性皮膚炎']) assert.ok(text.includes(words), words);
    await shot(doctor.page, 'clinic-records-guardian');
    const reads = world.apiLog.filter((l) => l.patient === 'p-0003');
    assert.ok(reads.length >= 5);
    assert.ok(reads.every((l) => l.sub === jiro.id && JSON.stringify(l.act) === JSON.stringify({ sub: taroId })), JSON.stringify(reads));
  });

  it('a lost phone removed from the other: it is back on the link page and sees no request', async () => {
    // An older phone of Taro's that has a passkey of his account too (made there earlier; here
    // the key is put into its authenticator), linked to the device app as "Old phone".
    const second = await openBrowser(PHONE);
    browsers.push(second.browser);
    await addCredential(await addAuthenticator(second.browser.context, second.page), await addPasskey(world.server, taroId, TARO.email));
    const spare = second.page;
    await spare.goto(sekisho('/device'));
    await linkPhone(spare, 'Old phone');

    // A request reaches both phones.
    const page = phone.page;
    await page.goto(sekisho('/device?lang=en'));
    const { code } = await askForRecords(clinic, 'p-0001');
    await page.getByRole('listitem').filter({ hasText: code }).waitFor();
    await spare.getByRole('listitem').filter({ hasText: code }).waitFor();

    // The old phone is lost: removed from Taro's phone.
    await page.getByRole('link', { name: 'Your devices' }).click();
    await page.getByRole('heading', { name: 'Your devices' }).waitFor();
    await shot(page, 'device-devices-en');
    await page.getByRole('button', { name: 'Remove Old phone' }).click();
    await page.getByRole('status').filter({ hasText: 'Removed.' }).waitFor();
    await shot(page, 'device-devices-removed-en');
    await page.goto(sekisho('/device/devices?lang=ja'));
    await shot(page, 'device-devices-ja');
    await page.goto(sekisho('/device/devices?lang=en'));

    // Whoever holds the old phone opens the request it still shows: the link page, nothing else.
    await spare.getByRole('listitem').filter({ hasText: code }).getByRole('link', { name: 'Look and decide' }).click();
    await spare.getByRole('heading', { name: 'Link this phone' }).waitFor();
    assert.equal(new URL(spare.url()).pathname, '/device');
    assert.equal(await spare.getByText(code).count(), 0);
    assert.equal((await spare.request.get(sekisho('/device/events'))).status(), 401, 'its live channel is closed to it');

    // The request is still Taro's to decide, on the phone he has.
    await page.goto(sekisho('/device?lang=en'));
    await openOnPhone(page, code);
    await page.getByRole('button', { name: 'Deny', exact: true }).click();
    await page.getByRole('status').filter({ hasText: /^Denied\./ }).waitFor();
    await clinicShows(/The patient declined/);
    assert.deepEqual(second.problems, []);
  });

  /** Taro's computer at home, with a passkey of his account in its authenticator. */
  let pc: PersonBrowser;
  let portal: RunningPortal;
  const BP = { systolic: '141', diastolic: '87' };

  it('the patient portal: Taro signs in on his computer with his passkey, sees his records, and adds a home blood pressure (ja and en)', async () => {
    portal = await world.startPortal();
    pc = await openBrowser();
    browsers.push(pc.browser);
    await addCredential(await addAuthenticator(pc.browser.context, pc.page), await addPasskey(world.server, taroId, TARO.email));
    const page = pc.page;
    await page.goto(`${portal.url}/?lang=ja`);
    await page.getByRole('heading', { name: 'ご自身の健康記録' }).waitFor();
    await shot(page, 'signed-out-ja', 'health-portal');
    await page.goto(`${portal.url}/?lang=en`);
    await shot(page, 'signed-out-en', 'health-portal');
    await page.getByRole('button', { name: 'Sign in with Sekisho' }).click();

    // At Sekisho: the sign-in page takes the passkey by itself (autofill), then the consent screen.
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor({ timeout: 20_000 });
    await shot(page, 'consent-en', 'health-portal');
    const consent = (await page.locator('main').textContent())!;
    for (const words of ['Add blood pressure and body weight readings', 'See your basic details', 'Add allergies']) assert.ok(consent.includes(words), words);
    await allowPortal(page, TARO.record);

    await page.waitForURL(`${portal.url}/`);
    await page.getByRole('heading', { name: 'Health records' }).waitFor();
    let text = (await page.locator('main').textContent())!;
    for (const words of ['架空 太郎', '1968-04-12', 'ペニシリン系抗菌薬', 'アムロジピン錠', '138/86 mmHg', '本態性高血圧症']) assert.ok(text.includes(words), words);
    const signedIn = portal.events.find((e) => e.event === 'portal.signed_in');
    assert.deepEqual([signedIn?.sub, signedIn?.patient, signedIn?.ongoing, signedIn?.can_add], [taroId, 'p-0001', true, ['Observation', 'AllergyIntolerance']]);

    await addBloodPressure(page, BP);
    text = (await page.locator('main').textContent())!;
    assert.ok(text.includes(`血圧 Added by you${BP.systolic}/${BP.diastolic} mmHg`), 'the new reading, marked as his');
    await shot(page, 'records-en', 'health-portal');
    await page.goto(`${portal.url}/?lang=ja`);
    await page.getByRole('heading', { name: '健康記録' }).waitFor();
    await shot(page, 'records-ja', 'health-portal');
    const added = world.apiLog.filter((l) => l.client_id === portal.clientId && l.outcome === 'created');
    assert.equal(added.length, 1);
    assert.deepEqual([added[0]!.status, added[0]!.sub, added[0]!.patient], [201, taroId, 'p-0001']);
    assert.ok(world.apiLog.filter((l) => l.client_id === portal.clientId).every((l) => l.status < 300), JSON.stringify(world.apiLog.slice(-8)));
  });

  it('the doctor asks again: after Taro allows on his phone, the clinic shows the reading he added, marked as his', async () => {
    const page = phone.page;
    await page.goto(sekisho('/device?lang=en'));
    const { code } = await askForRecords(clinic, 'p-0001');
    await page.getByRole('listitem').filter({ hasText: code }).waitFor();
    await openOnPhone(page, code);
    await allowOnPhone(page, TARO.record);
    await clinicShows(/Records received/);
    const text = (await doctor.page.locator('main').textContent())!;
    assert.ok(text.includes(`血圧 本人記録 Added by the patient${BP.systolic}/${BP.diastolic} mmHg`), text.slice(0, 2000));
    await shot(doctor.page, 'clinic-records-with-home-reading', 'health-portal');
  });

  it('disconnect: the portal ends its consent at Sekisho (Grant Management); My consents says the service withdrew it; the portal reads and adds nothing more', async () => {
    const page = pc.page;
    await page.goto(`${portal.url}/?lang=en`);
    const before = world.apiLog.filter((l) => l.client_id === portal.clientId).length;
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await page.getByRole('status').filter({ hasText: /^Disconnected\./ }).waitFor();
    await page.getByRole('button', { name: 'Sign in with Sekisho' }).waitFor();
    await shot(page, 'disconnected-en', 'health-portal');
    assert.equal(portal.events.find((e) => e.event === 'portal.disconnected')?.grant, 'revoked', 'DELETE /grants/{id} answered 204');
    await page.goto(`${portal.url}/?lang=ja`);
    await page.getByRole('status').filter({ hasText: /^連携を解除しました。/ }).waitFor();
    await shot(page, 'disconnected-ja', 'health-portal');
    assert.equal(world.apiLog.filter((l) => l.client_id === portal.clientId).length, before, 'no request to the API after the disconnect');

    // Sekisho's side, as Taro sees it (the same browser is signed in there).
    await page.goto(sekisho('/account/consents?lang=en'));
    await page.getByRole('heading', { name: 'Ended consents' }).waitFor();
    assert.match((await page.locator('main').textContent())!, /Withdrawn by the service/);
    await shot(page, 'sekisho-consents-ended-en', 'health-portal');
  });

  it('a consent withdrawn at Sekisho: the portal\'s next page refreshes, gets invalid_grant, and says the consent has ended', async () => {
    const page = pc.page;
    await page.goto(`${portal.url}/?lang=en`);
    await page.getByRole('button', { name: 'Sign in with Sekisho' }).click();
    // Signed in at Sekisho already: straight to the consent screen.
    await allowPortal(page, TARO.record);
    await page.getByRole('heading', { name: 'Health records' }).waitFor();

    await page.goto(sekisho('/account/consents?lang=en'));
    await page.getByRole('button', { name: /^Withdraw the access of/ }).click();
    await page.getByRole('status').waitFor();
    const reads = world.apiLog.filter((l) => l.client_id === portal.clientId).length;

    await page.goto(`${portal.url}/`);
    await page.getByRole('status').filter({ hasText: /Your consent to this service has ended/ }).waitFor();
    await shot(page, 'consent-ended-en', 'health-portal');
    assert.ok(portal.events.some((e) => e.event === 'portal.consent_ended'), 'the refresh answered invalid_grant');
    assert.equal(world.apiLog.filter((l) => l.client_id === portal.clientId).length, reads, 'nothing read after the withdrawal');
  });

  it('no page broke its Content Security Policy or threw a script error', () => {
    assert.deepEqual(doctor.problems, []);
    assert.deepEqual(phone.problems, []);
    assert.deepEqual(pc.problems, []);
  });
});
