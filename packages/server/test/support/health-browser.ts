import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';

/**
 * The healthcare example's steps as people take them in the browser: the doctor at the clinic's
 * records system (examples/health), the patient on Sekisho's device app (/device) and at the
 * patient portal. Shared by the scenario's browser test and the demo's. Each step waits for what
 * the person would see next; what to assert on the way stays in the tests.
 */

/** A doctor of the clinic app, as it was started. */
export interface Doctor { id: string; password: string }

/** The doctor signs in to a clinic app (once per clinic: its own cookie); the request form follows. */
export async function signInDoctor(page: Page, clinicUrl: string, doctor: Doctor): Promise<void> {
  await page.goto(`${clinicUrl}/`);
  if (new URL(page.url()).pathname !== '/login') return;
  await page.getByLabel('Doctor ID').fill(doctor.id);
  await page.getByLabel('Password').fill(doctor.password);
  await page.getByRole('button', { name: /Sign in/ }).click();
  await page.getByRole('heading', { name: /Request a patient's records/ }).waitFor();
}

/**
 * The doctor asks for a patient's records (the record types in `uncheck` left out); returns the
 * binding message the waiting page shows, and that page's address.
 */
export async function askForRecords(page: Page, clinicUrl: string, doctor: Doctor, patientNumber: string, uncheck: string[] = []): Promise<{ code: string; url: string }> {
  await signInDoctor(page, clinicUrl, doctor);
  await page.goto(`${clinicUrl}/`);
  await page.getByLabel('Patient number').fill(patientNumber);
  for (const words of uncheck) await page.getByLabel(words).uncheck();
  await page.getByRole('button', { name: /Ask the patient/ }).click();
  await page.waitForURL(/\/requests\/[A-Za-z0-9_-]{22}$/);
  await page.getByRole('heading', { name: /Waiting for the patient/ }).waitFor();
  const code = (await page.locator('strong.binding').textContent())!.trim();
  assert.match(code, /^[2-9A-Z]{2}-[2-9A-Z]{4}$/);
  return { code, url: page.url() };
}

/** The clinic's request page (it reloads itself every 2 s) once it says `heading`; returns the page's text. */
export async function clinicShows(page: Page, heading: RegExp, timeout = 20_000): Promise<string> {
  await page.getByRole('heading', { name: heading }).waitFor({ timeout });
  return (await page.locator('main').textContent())!;
}

/**
 * On Sekisho's device app (/device), not linked yet: names the phone and links it by signing in
 * with a passkey the phone's authenticator holds; the (empty) list of approvals follows.
 */
export async function linkPhone(page: Page, name: string): Promise<void> {
  await page.getByRole('heading', { name: 'Link this phone' }).waitFor();
  await page.getByLabel('Name for this phone').fill(name);
  await page.getByRole('button', { name: 'Sign in with a passkey and link this phone' }).click();
  await page.getByRole('heading', { name: 'Approvals' }).waitFor();
}

/** On the phone's list: the request with this code, opened; the phone shows the code the clinic shows. */
export async function openOnPhone(page: Page, code: string): Promise<void> {
  const item = page.getByRole('listitem').filter({ hasText: code });
  await item.getByRole('link', { name: 'Look and decide' }).click();
  await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
  assert.equal(await page.locator('#binding-message').textContent(), code, 'the phone shows the code the clinic shows');
}

/**
 * Ticks the record types (health data is sensitive: each scope is a choice of its own, unticked
 * until the person ticks it), picks whose records and allows; the passkey is asked for, then the
 * phone says Allowed.
 */
export async function allowOnPhone(page: Page, record: string, words = { allow: 'Allow', done: /^Allowed\./ }): Promise<void> {
  const boxes = await page.locator('input[type=checkbox][name=item]').all();
  assert.ok(boxes.length >= 2, 'the SMART scopes are asked for one by one');
  for (const box of boxes) await box.check();
  await page.getByRole('radio', { name: record }).check();
  const passkey = page.waitForResponse((r) => r.url().endsWith('/passkey') && r.request().method() === 'POST');
  await page.getByRole('button', { name: words.allow, exact: true }).click();
  assert.equal((await passkey).status(), 200);
  await page.getByRole('status').filter({ hasText: words.done }).waitFor();
}

/**
 * On Sekisho's consent screen for the patient portal: every record type ticked (seven SMART
 * scopes), the patient picked for each detail (read and search; add), ongoing access, Allow.
 */
export async function allowPortal(page: Page, record: string): Promise<void> {
  await page.getByRole('heading', { name: 'Allow access?' }).waitFor({ timeout: 20_000 });
  const boxes = await page.locator('input[type=checkbox][name=item]').all();
  assert.equal(boxes.length, 7, 'the seven SMART scopes, each its own choice');
  for (const box of boxes) await box.check();
  const radios = await page.getByRole('radio', { name: record }).all();
  assert.equal(radios.length, 2, 'two details (read and search; add): the patient is picked for each');
  for (const radio of radios) await radio.check();
  await page.getByLabel(/^(Ongoing access|Remember this consent) until a date you choose/).check();
  await page.getByRole('button', { name: 'Allow', exact: true }).click();
}

/** The datetime-local value of a reading taken `minutesAgo` minutes ago, Japan time. */
const localTime = (minutesAgo: number) => new Date(Date.now() + 9 * 3600_000 - minutesAgo * 60_000).toISOString().slice(0, 16);

/** At the patient portal, signed in: adds a home blood pressure taken 15 minutes ago; the portal says it was added. */
export async function addBloodPressure(page: Page, reading: { systolic: string; diastolic: string }): Promise<void> {
  const form = page.getByRole('form', { name: 'Blood pressure at home' });
  await form.getByLabel('Systolic (upper, mmHg)').fill(reading.systolic);
  await form.getByLabel('Diastolic (lower, mmHg)').fill(reading.diastolic);
  await form.getByLabel('Measured at').fill(localTime(15));
  await form.getByRole('button', { name: 'Add' }).click();
  await page.getByRole('status').filter({ hasText: 'The record was added.' }).waitFor();
}
