/**
 * The patients' phones running the device app, over plain HTTP as the test suite's
 * `linkDevice` (test/support/device.ts) drives it: linked to the account by a passkey sign-in at
 * /device, then holding the app's event stream open (GET /device/events, as its EventSource does)
 * and approving a request as a person does — the request page, the passkey options the page's
 * script fetches, the software authenticator's assertion, the form posted with it. Each step is
 * timed. Requests go through one keep-alive pool; each open stream holds a connection of its own.
 */
import { Pool } from 'undici';
import { authenticatorFor, type RequestOptions } from '../../packages/server/test/support/soft-authenticator.ts';
import { consentForm } from '../../packages/server/test/support/consent-form.ts';
import { BROWSER_UA, CookieJar, csrfOf, expectStatus, locationOf, UnexpectedPage, webauthnOptionsOf } from '../identity/browser.ts';
import type { HttpResponse } from '../load/http.ts';
import { openSse, type SseStream } from './sse.ts';
import type { Patient } from './server-process.ts';

/** Runs one of an approval's requests (`page`, `options`, `approve`). */
export type Around = (step: 'page' | 'options' | 'approve', request: () => Promise<HttpResponse>) => Promise<HttpResponse>;

/** What one approval took, each step from its request to its response (performance.now() ms). */
export interface ApprovalTiming { page: number; options: number; approve: number; approveSentAt: number; approvedAt: number }

export function createPhones(origin: string, issuer: string, streams: number) {
  const host = new URL(issuer).host;
  const siteOrigin = new URL(issuer).origin;
  const pool = new Pool(origin, { connections: 64, pipelining: 1, keepAliveTimeout: 60_000 });
  // Streams idle between events: no body timeout (undici's default would end them after 300 s).
  const streamPool = new Pool(origin, { connections: streams, pipelining: 1, bodyTimeout: 0, keepAliveTimeout: 60_000 });

  async function send(jar: CookieJar, method: 'GET' | 'POST', path: string, body?: string, extra: Record<string, string> = {}): Promise<HttpResponse> {
    const cookie = jar.header(path);
    const res = await pool.request({
      method, path, body,
      headers: {
        host, 'user-agent': BROWSER_UA, 'accept-language': 'ja,en;q=0.8', ...(cookie ? { cookie } : {}),
        ...(method === 'POST' ? { origin: siteOrigin } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }), ...extra,
      },
    });
    const out = { status: res.statusCode, headers: res.headers, body: await res.body.text() };
    jar.update(out, path);
    return out;
  }
  const form = (fields: Array<[string, string]>) => new URLSearchParams(fields).toString();

  /** Links a phone to the patient's account: GET /device (the passkey prompt), POST /device/bind with the assertion. */
  async function link(patient: Patient) {
    const jar = new CookieJar();
    const authenticator = authenticatorFor(patient.passkey);
    const page = await send(jar, 'GET', '/device');
    expectStatus('device link page', page, 200);
    const credential = authenticator.get(webauthnOptionsOf<RequestOptions>('device link page', page.body), siteOrigin);
    const bound = await send(jar, 'POST', '/device/bind', form([['csrf', csrfOf('device link page', page.body)], ['credential', JSON.stringify(credential)], ['name', 'Bench phone']]));
    expectStatus('device bind', bound, 302);
    if (locationOf(bound) !== '/device') throw new UnexpectedPage(`device bind: redirected to ${locationOf(bound)}`);
    let stream: SseStream | undefined;

    return {
      patient,
      /** Opens the app's event stream, as the open app's EventSource does. */
      async listen(): Promise<SseStream> {
        const cookie = jar.header('/device/events');
        stream = await openSse(streamPool, '/device/events', { host, 'user-agent': BROWSER_UA, cookie });
        return stream;
      },
      /**
       * Approves request `id` with the passkey: the page, the passkey options, the form with the
       * assertion. `around` wraps each of the three requests (the solo run measures each in a window).
       */
      async approve(id: string, around: Around = (_, request) => request()): Promise<ApprovalTiming> {
        const path = `/device/requests/${id}`;
        const t0 = performance.now();
        const shown = await around('page', () => send(jar, 'GET', path));
        expectStatus('request page', shown, 200);
        const t1 = performance.now();
        const csrf = csrfOf('request page', shown.body);
        const options = await around('options', () => send(jar, 'POST', `${path}/passkey`, undefined, { 'x-csrf-token': csrf }));
        expectStatus('passkey options', options, 200);
        const t2 = performance.now();
        const assertion = authenticator.get(JSON.parse(options.body) as RequestOptions, siteOrigin);
        const body = form([...consentForm(shown.body), ['assertion', JSON.stringify(assertion)]]);
        const t3 = performance.now();
        const approved = await around('approve', () => send(jar, 'POST', `${path}/approve`, body));
        const t4 = performance.now();
        expectStatus('approve', approved, 200);
        if (!/Allowed|許可しました/.test(approved.body)) throw new UnexpectedPage('approve: no "allowed" outcome page');
        return { page: t1 - t0, options: t2 - t1, approve: t4 - t3, approveSentAt: t3, approvedAt: t4 };
      },
      close: () => stream?.close(),
    };
  }

  return {
    link,
    async close() {
      await pool.close();
      await streamPool.destroy();
    },
  };
}
export type Phone = Awaited<ReturnType<ReturnType<typeof createPhones>['link']>>;
