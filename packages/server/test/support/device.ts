import { createPasskeys, relyingPartyFor } from '../../src/identity/passkeys.ts';
import { authenticatorFor, createPasskey, type Misbehaviour, type StoredPasskey } from './soft-authenticator.ts';
import { consentForm, type ConsentAnswers } from './consent-form.ts';
import { createUserAgent } from './user-agent.ts';
import type { TestServer } from './server.ts';

const optionsOf = (body: string) => JSON.parse(/<script type="application\/json" id="webauthn-options">([^<]*)<\/script>/.exec(body)![1]!);
const csrfOf = (body: string) => /name="csrf" value="([^"]+)"/.exec(body)![1]!;

/** Gives an account a passkey (as the account page would), held by a software authenticator. */
export async function addPasskey(server: TestServer, accountId: string, username: string): Promise<StoredPasskey> {
  const passkeys = createPasskeys(server.app.storage.db, relyingPartyFor(server.issuer));
  const options = await passkeys.registrationOptions({ accountId, userName: username, displayName: username, binding: `test-${accountId}` });
  const { response, passkey } = createPasskey(options as never, new URL(server.issuer).origin);
  await passkeys.register({ accountId, binding: `test-${accountId}`, response: response as never, name: 'Test phone' });
  return passkey;
}

/**
 * A phone running the device app, over HTTP: linked to the account of `passkey` by a passkey
 * sign-in at /device, then listing, approving (with a passkey assertion) and denying requests.
 */
export async function linkDevice(server: TestServer, passkey: StoredPasskey, name = 'Test phone') {
  const origin = new URL(server.issuer).origin;
  const ua = createUserAgent(server.dispatcher(), server.issuer);
  const authenticator = authenticatorFor(passkey);
  const bind = await ua.request(`${origin}/device`);
  const body = await bind.text();
  const credential = authenticator.get(optionsOf(body), origin);
  const linked = await ua.post(`${origin}/device/bind`, { csrf: csrfOf(body), credential: JSON.stringify(credential), name });
  if (linked.status !== 302) throw new Error(`device not linked: ${linked.status} ${await linked.text()}`);

  async function page(id: string) {
    const res = await ua.request(`${origin}/device/requests/${id}`);
    return { status: res.status, body: await res.text() };
  }

  return {
    ua,
    authenticator,
    /** The ids of the requests the list page shows. */
    async pending(): Promise<string[]> {
      const res = await ua.request(`${origin}/device`);
      return [...(await res.text()).matchAll(/href="\/device\/requests\/(req_[A-Za-z0-9_-]+)"/g)].map((m) => m[1]!);
    },
    page,
    /** Approves as a person would: the form as shown, the choices made, then the passkey. */
    async approve(id: string, answers: ConsentAnswers = {}, options: { passkey?: ReturnType<typeof authenticatorFor>; extra?: Array<[string, string]>; bad?: Misbehaviour } = {}) {
      const shown = await page(id);
      if (shown.status !== 200) return { status: shown.status, body: shown.body };
      const form = consentForm(shown.body, answers);
      const csrf = csrfOf(shown.body);
      const optionsRes = await ua.request(`${origin}/device/requests/${id}/passkey`, { method: 'POST', headers: { 'x-csrf-token': csrf, origin } });
      if (optionsRes.status !== 200) return { status: optionsRes.status, body: await optionsRes.text() };
      // Another passkey (not in the allow list) is sent as a tampered client would; `bad` skips the authenticator's own checks.
      const assertion = (options.passkey ?? authenticator).get(await optionsRes.json() as never, origin, options.bad ?? (options.passkey ? {} : undefined));
      const res = await ua.post(`${origin}/device/requests/${id}/approve`, [...form, ['assertion', JSON.stringify(assertion)], ...(options.extra ?? [])]);
      return { status: res.status, body: await res.text() };
    },
    async deny(id: string) {
      const shown = await page(id);
      if (shown.status !== 200) return { status: shown.status, body: shown.body };
      const res = await ua.post(`${origin}/device/requests/${id}/deny`, { csrf: csrfOf(shown.body) });
      return { status: res.status, body: await res.text() };
    },
  };
}
export type LinkedDevice = Awaited<ReturnType<typeof linkDevice>>;

/** The first request waiting on a device, once one has arrived (a request reaches the list as soon as it is made). */
export async function nextRequest(device: LinkedDevice, timeoutMs = 5000): Promise<string> {
  for (const until = Date.now() + timeoutMs; Date.now() < until;) {
    const [id] = await device.pending();
    if (id) return id;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no request reached the device');
}
