import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { accessibilityProblems, launchBrowser } from './browser.ts';

/**
 * A person's browser in the browser tests: a page that records what a person would not see but
 * must not happen (a Content Security Policy refusal, a script error), screenshots checked for the
 * accessibility basics, and a platform authenticator (a CDP virtual authenticator) for passkeys.
 */

/** Where the browser tests put their screenshots (the repository's .screenshots/). */
export const SHOTS = new URL('../../../../.screenshots/', import.meta.url).pathname;

/** A phone's viewport. */
export const PHONE = { width: 390, height: 844 };

export interface PersonBrowser {
  browser: Awaited<ReturnType<typeof launchBrowser>>;
  page: Page;
  /** Every console message about the CSP, and every script error, on `page`. */
  problems: string[];
}

/** A browser with one page; every console message about the CSP, and every script error, is kept. */
export async function openBrowser(viewport?: { width: number; height: number }, options: { locale?: string } = {}): Promise<PersonBrowser> {
  mkdirSync(SHOTS, { recursive: true });
  const browser = await launchBrowser(options);
  const page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
  if (viewport) await page.setViewportSize(viewport);
  const problems: string[] = [];
  page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  return { browser, page, problems };
}

/**
 * A screenshot to look at (.screenshots/`name`.png), and the accessibility basics checked on the
 * same page. A page that reloads itself (the clinic's waiting page, every 2 s) may be caught
 * mid-navigation: the check is then taken again.
 */
export async function shot(page: Page, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
      assert.deepEqual(await accessibilityProblems(page), [], `${name}: ${page.url()}`);
      return;
    } catch (err) {
      if (attempt === 3 || !/Execution context was destroyed|because of a navigation/.test(String(err))) throw err;
      await page.waitForLoadState();
    }
  }
}

export interface Authenticator {
  cdp: CDPSession;
  authenticatorId: string;
}

/** A platform authenticator that keeps its passkeys on the device and verifies the user. */
export async function addAuthenticator(context: BrowserContext, page: Page): Promise<Authenticator> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { cdp, authenticatorId };
}

/** A discoverable passkey, its binary parts base64url-encoded (as the soft authenticator keeps them). */
export interface PasskeyToCopy {
  credentialId: string;
  rpId: string;
  /** PKCS#8, base64url. */
  privateKey: string;
  userHandle: string;
  /** The signature counter the authenticator starts from (default 0). */
  signCount?: number;
}

/**
 * Puts a passkey into an authenticator, as when a passkey syncs to another device of the same
 * person (or was made there earlier).
 */
export async function addCredential({ cdp, authenticatorId }: Authenticator, passkey: PasskeyToCopy): Promise<void> {
  const b64 = (b64u: string) => Buffer.from(b64u, 'base64url').toString('base64');
  await cdp.send('WebAuthn.addCredential', {
    authenticatorId,
    credential: {
      credentialId: b64(passkey.credentialId), isResidentCredential: true, rpId: passkey.rpId, privateKey: b64(passkey.privateKey),
      userHandle: b64(passkey.userHandle), signCount: passkey.signCount ?? 0, backupEligibility: true, backupState: true,
    },
  });
}

/** The passkeys an authenticator holds, with their counters, ready for {@link addCredential} elsewhere. */
export async function credentialsOf({ cdp, authenticatorId }: Authenticator): Promise<Required<PasskeyToCopy>[]> {
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  const b64u = (b64: string) => Buffer.from(b64, 'base64').toString('base64url');
  return credentials.map((c) => ({
    credentialId: b64u(c.credentialId), rpId: c.rpId!, privateKey: b64u(c.privateKey), userHandle: b64u(c.userHandle!), signCount: c.signCount,
  }));
}

/**
 * Syncs the passkeys of one authenticator to another, as a passkey provider syncs them between a
 * person's devices. The counter goes along: a synced passkey's real provider reports 0 every
 * time, but a virtual authenticator counts each use, and Sekisho refuses a counter that went
 * backwards (a cloned authenticator). Call it again the other way before the first device signs again.
 */
export async function syncPasskeys(from: Authenticator, to: Authenticator): Promise<void> {
  const held = new Set((await credentialsOf(to)).map((c) => c.credentialId));
  for (const passkey of await credentialsOf(from)) {
    if (held.has(passkey.credentialId)) {
      await to.cdp.send('WebAuthn.removeCredential', { authenticatorId: to.authenticatorId, credentialId: Buffer.from(passkey.credentialId, 'base64url').toString('base64') });
    }
    await addCredential(to, passkey);
  }
}
