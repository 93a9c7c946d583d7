/**
 * `npm run demo` as a newcomer follows it, in Debian Chromium: the demo is started as `npm run
 * demo` starts it (startDemo, on free ports and a temporary folder), and every step goes where the
 * printed instructions say, as the printed people with the printed passwords.
 *
 * Open banking: hanako connects the fintech app (Connect, sign in at Sekisho, pick one account,
 * allow), sees the balance, sends money with a one-time consent, disconnects; then connects again
 * and withdraws the consent at Sekisho's My consents: the bank API refuses the app at once.
 * Healthcare: taro signs in at /account with his password, adds a passkey (a CDP virtual
 * authenticator as his phone's), links the device app with it; the doctor asks at the clinic for
 * p-0001; taro compares the code and allows on the phone with the passkey; the clinic shows the
 * records. Then the patient portal: taro signs in on his computer with the same passkey (synced),
 * adds a home blood pressure, and the doctor's next request shows it.
 * Screenshots go to .screenshots/demo-*.png.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sekisho } from '../../src/app.ts';
import { SAMPLE_LABELS, SAMPLE_REFS } from '../../../../examples/bank/src/sample-accounts.ts';
import type { AccessLogLine } from '../../../../examples/bank/src/bank-api.ts';
import { BROWSER_SKIP } from '../support/browser.ts';
import {
  addAuthenticator, credentialsOf, openBrowser, PHONE, shot as screenshot, syncPasskeys, type Authenticator, type PersonBrowser,
} from '../support/person-browser.ts';
import {
  allowAndSeeAccounts, approveAtTheBank, chooseConnect, disconnect, fillTransfer, payFrom, pickAccount, signInWithPassword,
} from '../support/bank-browser.ts';
import { addBloodPressure, allowOnPhone, allowPortal, askForRecords, clinicShows, linkPhone, openOnPhone } from '../support/health-browser.ts';

/**
 * What this test uses of examples/demo. The demo's TypeScript project references this one (it runs
 * Sekisho's own sources), and project references admit no cycle, so this project cannot reference
 * it back: the demo's modules are loaded by their URL (type-checked in their own project), and
 * typed here by the part of them the test uses.
 */
interface Demo {
  sekisho: Sekisho;
  urls: { sekisho: string; clinic: string; healthApi: string; portal: string; fintech: string; bankApi: string };
  people: Array<{ username: string; password: string; id: string }>;
  doctor: { id: string; password: string };
  close(): Promise<void>;
}
type DemoPorts = Record<'sekisho' | 'clinic' | 'healthApi' | 'portal' | 'fintech' | 'bankApi', number>;
interface DemoModules {
  startDemo(options: { host: string; ports: DemoPorts; dataDir: string; log?: (app: string, line: unknown) => void }): Promise<Demo>;
  freePort(host: string): Promise<number>;
  instructions(demo: Demo): string;
}
async function demoModules(): Promise<DemoModules> {
  const load = (file: string) => import(new URL(`../../../../examples/demo/src/${file}`, import.meta.url).href) as Promise<Partial<DemoModules>>;
  const [{ startDemo }, { freePort }, { instructions }] = await Promise.all([load('demo-world.ts'), load('listen.ts'), load('instructions.ts')]);
  assert.ok(startDemo && freePort && instructions, 'examples/demo exports startDemo, freePort and instructions');
  return { startDemo, freePort, instructions };
}

const shot = (page: PersonBrowser['page'], name: string) => screenshot(page, `demo-${name}`);

/** What the printed instructions say, read back from the text a person sees. */
interface Printed {
  people: Map<string, string>;
  fintech: string;
  consents: string;
  account: string;
  device: string;
  clinic: string;
  doctor: { id: string; password: string };
  patientNumber: string;
  portal: string;
}

function readInstructions(text: string): Printed {
  const find = (re: RegExp, what: string) => {
    const m = re.exec(text);
    assert.ok(m, `the instructions say ${what}:\n${text}`);
    return m;
  };
  const people = new Map<string, string>();
  const list = text.slice(text.indexOf('People'), text.indexOf('Open banking'));
  for (const m of list.matchAll(/^ {4}(\S+) +([A-Za-z0-9_-]{12}) /gm)) people.set(m[1]!, m[2]!);
  const clinicLine = find(/Clinic records system +(\S+) +doctor: (\S+) \/ (\S+)/, 'where the clinic is and who the doctor is');
  const clinicStep = find(/At (\S+), sign in as (\S+), type patient number (p-\d{4})/, 'where the doctor asks');
  assert.equal(clinicStep[1], clinicLine[1]);
  assert.equal(clinicStep[2], clinicLine[2]);
  return {
    people,
    fintech: find(/At (\S+), choose Connect, sign in at Sekisho as hanako/, 'where to connect')[1]!,
    consents: find(/withdraw at (\S+\/account\/consents)/, 'where to withdraw')[1]!,
    account: find(/As taro, open (\S+\/account), sign in, and add a passkey/, 'where to add a passkey')[1]!,
    device: find(/Open (\S+\/device) \(the approval app/, 'where the approval app is')[1]!,
    clinic: clinicStep[1]!,
    doctor: { id: clinicLine[2]!, password: clinicLine[3]! },
    patientNumber: clinicStep[3]!,
    portal: find(/At (\S+), taro signs in, adds a home blood pressure/, 'where the portal is')[1]!,
  };
}

describe('npm run demo in Chromium: both scenarios, as the printed instructions say', { skip: BROWSER_SKIP }, () => {
  const host = '127.0.0.1';
  let demo: Demo;
  let dataDir: string;
  let printed: Printed;
  /** Every line the demo's bank API logged (never a token). */
  const bankLog: AccessLogLine[] = [];
  const browsers: PersonBrowser[] = [];
  const person = (username: string) => {
    const password = printed.people.get(username);
    assert.ok(password, `${username} is printed`);
    return { username, password };
  };

  before(async () => {
    const { startDemo, freePort, instructions } = await demoModules();
    dataDir = join(mkdtempSync(join(tmpdir(), 'sekisho-demo-browser-')), 'demo-data');
    demo = await startDemo({
      host, dataDir,
      ports: {
        sekisho: await freePort(host), clinic: await freePort(host), healthApi: await freePort(host), portal: await freePort(host),
        fintech: await freePort(host), bankApi: await freePort(host),
      },
      log: (app, line) => { if (app === 'bank-api') bankLog.push(line as AccessLogLine); },
    });
    printed = readInstructions(instructions(demo));
  });
  after(async () => {
    for (const b of browsers) await b.browser.close();
    await demo?.close();
    if (dataDir) rmSync(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('prints the people the demo made, with the passwords they sign in with, and where everything is', () => {
    assert.deepEqual([...printed.people.keys()].sort(), demo.people.map((p) => p.username).sort());
    for (const p of demo.people) assert.equal(printed.people.get(p.username), p.password);
    assert.deepEqual(printed.doctor, demo.doctor);
    assert.equal(printed.fintech, demo.urls.fintech);
    assert.equal(printed.clinic, demo.urls.clinic);
    assert.equal(printed.portal, demo.urls.portal);
  });

  describe('open banking: hanako and the household-budget app', () => {
    let hanako: PersonBrowser;
    const EVERYDAY = SAMPLE_LABELS[SAMPLE_REFS.hanakoMain]!;
    const SAVINGS = SAMPLE_LABELS[SAMPLE_REFS.hanakoSavings]!;
    const APP = 'Kakeibo Biyori (fictional)';

    before(async () => {
      hanako = await openBrowser();
      browsers.push(hanako);
    });

    it('1. at the fintech app, Connect; sign in at Sekisho as hanako, pick one account, allow: the dashboard shows its balance', async () => {
      const page = hanako.page;
      await page.goto(printed.fintech);
      // One name for the app wherever hanako meets it: its pages, the consent screen, My consents.
      assert.ok((await page.locator('header').innerText()).includes(APP));
      await shot(page, 'fintech-home');
      assert.equal(await chooseConnect(page, printed.fintech), 303);
      assert.ok(page.url().startsWith(`${demo.urls.sekisho}/interaction/`), page.url());
      await shot(page, 'sekisho-sign-in');
      await signInWithPassword(page, person('hanako'));
      const consent = await page.locator('main').innerText();
      for (const words of [APP, 'See your account information', EVERYDAY, SAVINGS]) assert.ok(consent.includes(words), words);
      await pickAccount(page, EVERYDAY);
      await shot(page, 'sekisho-consent-accounts');
      const dashboard = await allowAndSeeAccounts(page, printed.fintech);
      for (const words of ['Your bank account is connected', '482,350円', '普段使い（架空）', 'Recent transactions']) assert.ok(dashboard.includes(words), words);
      assert.ok(!dashboard.includes('1,250,000'), 'the savings account was not picked, and is not shown');
      await shot(page, 'fintech-dashboard');
      assert.ok(bankLog.some((l) => l.status === 200 && l.client_id === 'fintech-demo' && l.account === SAMPLE_REFS.hanakoMain), 'the app read the account at the bank API');
    });

    it('2. Send money asks again, for that one transfer: hanako picks the account to pay from; the transfer is made', async () => {
      const page = hanako.page;
      await fillTransfer(page);
      await shot(page, 'fintech-transfer-form');
      const consent = await approveAtTheBank(page);
      for (const words of ['Make a transfer', '¥12,000', 'カクウ タロウ', 'one use only']) assert.ok(consent.includes(words), words);
      await shot(page, 'sekisho-consent-transfer');
      const result = await payFrom(page, EVERYDAY);
      for (const words of ['12,000円', 'カクウ タロウ', EVERYDAY]) assert.ok(result.includes(words), words);
      await shot(page, 'fintech-transfer-done');
      await page.getByRole('link', { name: /Back to your accounts/ }).click();
      await page.getByRole('heading', { name: /Your accounts/ }).waitFor();
      assert.ok((await page.locator('main').innerText()).includes('470,350円'), 'the balance dropped by the transfer');
      assert.equal(bankLog.filter((l) => l.path === '/v1/transfers' && l.status === 201).length, 1);
    });

    it('3. Disconnect in the app: the app says so, and Sekisho\'s My consents says the service withdrew the consent', async () => {
      const page = hanako.page;
      await disconnect(page);
      await shot(page, 'fintech-disconnected');
      await page.goto(`${printed.consents}?lang=en`);
      await page.getByRole('heading', { name: 'Ended consents' }).waitFor();
      const ended = await page.locator('main').innerText();
      assert.ok(ended.includes('Withdrawn by the service'), ended);
      assert.ok(ended.includes(APP), 'the app is named as on its own pages');
      assert.ok(ended.includes('Used (one time)'), 'the transfer consent is there too, used');
      await shot(page, 'sekisho-consents');
    });

    it('3. or withdraw at Sekisho\'s My consents: the bank API refuses the app at once, and the app says the connection has ended', async () => {
      const page = hanako.page;
      await page.goto(printed.fintech);
      await chooseConnect(page, printed.fintech);
      // Still signed in at Sekisho: straight to the consent screen.
      await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
      await pickAccount(page, EVERYDAY);
      await allowAndSeeAccounts(page, printed.fintech);

      await page.goto(`${printed.consents}?lang=en`);
      await page.getByRole('button', { name: /^Withdraw the access of/ }).click();
      await page.getByRole('status').waitFor();
      const before = bankLog.length;
      await page.goto(printed.fintech);
      await page.getByRole('alert').filter({ hasText: /The connection to your bank has ended/ }).waitFor();
      await page.getByRole('heading', { name: /Connect your bank/ }).waitFor();
      await shot(page, 'fintech-ended');
      const after = bankLog.slice(before);
      assert.ok(after.length >= 1 && after.every((l) => l.status === 401), `the bank API refused the app: ${JSON.stringify(after)}`);
    });

    it('no page broke its Content Security Policy or threw a script error', () => {
      assert.deepEqual(hanako.problems, []);
    });
  });

  describe('healthcare: the doctor asks, taro approves on his phone, then adds a reading at the patient portal', () => {
    /** Taro's phone: his account page, then the device app. */
    let phone: PersonBrowser;
    let phoneAuthenticator: Authenticator;
    /** The doctor's computer at the clinic. */
    let doctor: PersonBrowser;
    /** Taro's computer at home. */
    let pc: PersonBrowser;
    const RECORD = '架空 太郎 (p-0001)';
    const BP = { systolic: '143', diastolic: '89' };

    before(async () => {
      phone = await openBrowser(PHONE);
      doctor = await openBrowser();
      pc = await openBrowser();
      browsers.push(phone, doctor, pc);
      phoneAuthenticator = await addAuthenticator(phone.browser.context, phone.page);
    });

    it('1. as taro, open /account, sign in with the password, and add a passkey (Sign-in & security)', async () => {
      const page = phone.page;
      await page.goto(printed.account);
      const taro = person('taro');
      await page.getByLabel('Username or e-mail address').fill(taro.username);
      await page.getByLabel('Password').fill(taro.password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Your account' }).waitFor();
      await shot(page, 'account');
      await page.getByRole('link', { name: 'Sign-in & security' }).click();
      await page.getByRole('link', { name: 'Add a passkey' }).click();
      await page.getByRole('button', { name: 'Create a passkey' }).click();
      await page.getByRole('status').filter({ hasText: 'The passkey was added' }).waitFor();
      await shot(page, 'account-security');
      const passkeys = await demo.sekisho.storage.db.selectFrom('passkeys').select('id').where('account_id', '=', demo.people.find((p) => p.username === 'taro')!.id).execute();
      assert.equal(passkeys.length, 1);
    });

    it('2. open /device and link it with the passkey', async () => {
      const page = phone.page;
      await page.goto(printed.device);
      await shot(page, 'device-link');
      await linkPhone(page, 'Taro’s phone');
      await page.getByText('Nothing is waiting for you.').waitFor();
    });

    it('3–4. the doctor signs in at the clinic and asks for p-0001; taro compares the code and allows with the passkey; the clinic shows the records', async () => {
      const page = phone.page;
      await page.goto(printed.device);
      const { code } = await askForRecords(doctor.page, printed.clinic, printed.doctor, printed.patientNumber);
      await shot(doctor.page, 'clinic-waiting');
      await page.getByRole('listitem').filter({ hasText: code }).waitFor();
      await shot(page, 'device-list');
      await openOnPhone(page, code);
      await shot(page, 'device-request');
      await allowOnPhone(page, RECORD);
      const text = await clinicShows(doctor.page, /Records received/);
      for (const words of ['架空 太郎', '1968-04-12', 'ペニシリン系抗菌薬', '本態性高血圧症', 'Approved by the patient']) assert.ok(text.includes(words), words);
      await shot(doctor.page, 'clinic-records');
    });

    it('5. at the patient portal, taro signs in with his passkey and adds a home blood pressure; the doctor\'s next request shows it', async () => {
      // His computer has the passkey he made on his phone (synced by his passkey provider).
      const pcAuthenticator = await addAuthenticator(pc.browser.context, pc.page);
      await syncPasskeys(phoneAuthenticator, pcAuthenticator);
      assert.equal((await credentialsOf(pcAuthenticator)).length, 1);
      const page = pc.page;
      await page.goto(printed.portal);
      await shot(page, 'portal-signed-out');
      await page.getByRole('button', { name: 'Sign in with Sekisho' }).click();
      // At Sekisho: the sign-in page takes the passkey by itself (autofill), then the consent screen.
      await page.getByRole('heading', { name: 'Allow access?' }).waitFor({ timeout: 20_000 });
      await shot(page, 'portal-consent');
      await allowPortal(page, RECORD);
      await page.waitForURL(`${printed.portal}/`);
      await page.getByRole('heading', { name: 'Health records' }).waitFor();
      await addBloodPressure(page, BP);
      assert.ok((await page.locator('main').textContent())!.includes(`血圧 Added by you${BP.systolic}/${BP.diastolic} mmHg`), 'the new reading, marked as his');
      await shot(page, 'portal-records');

      await syncPasskeys(pcAuthenticator, phoneAuthenticator);
      await phone.page.goto(printed.device);
      const { code } = await askForRecords(doctor.page, printed.clinic, printed.doctor, printed.patientNumber);
      await phone.page.getByRole('listitem').filter({ hasText: code }).waitFor();
      await openOnPhone(phone.page, code);
      await allowOnPhone(phone.page, RECORD);
      const text = await clinicShows(doctor.page, /Records received/);
      assert.ok(text.includes(`血圧 本人記録 Added by the patient${BP.systolic}/${BP.diastolic} mmHg`), text.slice(0, 2000));
      await shot(doctor.page, 'clinic-records-with-home-reading');
    });

    it('no page broke its Content Security Policy or threw a script error', () => {
      assert.deepEqual(phone.problems, []);
      assert.deepEqual(doctor.problems, []);
      assert.deepEqual(pc.problems, []);
    });
  });
});
