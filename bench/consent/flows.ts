/**
 * The person's browser in the consent benchmark, and the flows it takes part in.
 *
 * - `signIn`: a person's first authorization (sign-in page, password, consent screen): done once
 *   per loop before anything is measured; it leaves the browser signed in with a grant for the client.
 * - `codeFlow(arm)`: one complete flow for that signed-in person, client side by oauth4webapi
 *   (bench/consent/client.ts): PAR → GET /auth with the session cookie → [consent screen: GET the
 *   page, POST the form it shows, filled by the test suite's `consentForm` (everything ticked,
 *   ongoing for the longest time offered), GET /auth/<uid> to resume] → callback → token.
 *     reuse    no prompt: the browser's grant for this client is reused, no screen, no ledger record
 *     consent  prompt=consent: the screen, one decision (a merge into that grant), one ledger record
 *     create   grant_management_action=create: the screen, a new grant, one ledger record
 * - `accountSignIn`: signing in on /account/sign-in with a password, for the My consents page.
 */
import { Pool } from 'undici';
import { consentForm } from '../../packages/server/test/support/consent-form.ts';
import { REDIRECT_URI } from '../../packages/server/test/support/clients.ts';
import type { DPoPHandle } from 'oauth4webapi';
import type { HttpResponse } from '../load/http.ts';
import type { Steps } from '../load/scenarios.ts';
import { BROWSER_UA, CookieJar, csrfOf, expectStatus, locationOf, UnexpectedPage } from '../identity/browser.ts';
import type { FlowClient } from './client.ts';
import type { PasswordPerson } from '../sekisho-server-process.ts';

export type Arm = 'reuse' | 'consent' | 'create';
export const ARMS: readonly Arm[] = ['reuse', 'consent', 'create'];
/** The same scopes in every arm: the flows differ only in whether a decision is made. */
export const FLOW_SCOPE = 'openid profile email';
const ARM_PARAMS: Record<Arm, Record<string, string>> = {
  reuse: { scope: FLOW_SCOPE },
  consent: { scope: FLOW_SCOPE, prompt: 'consent' },
  create: { scope: FLOW_SCOPE, grant_management_action: 'create' },
};

/** Keep-alive HTTP/1.1 to the server's loopback origin with the issuer's Host, as a browser with cookies. */
export function createBrowser(origin: string, issuer: string) {
  const pool = new Pool(origin, { connections: 64, pipelining: 1, keepAliveTimeout: 60_000 });
  const host = new URL(issuer).host;
  const siteOrigin = new URL(issuer).origin;
  async function send(jar: CookieJar, method: 'GET' | 'POST', path: string, body?: string): Promise<HttpResponse> {
    const cookie = jar.header(path);
    const res = await pool.request({
      method, path, body,
      headers: {
        host, 'user-agent': BROWSER_UA, 'accept-language': 'ja,en;q=0.8', ...(cookie ? { cookie } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', origin: siteOrigin }),
      },
    });
    const out = { status: res.statusCode, headers: res.headers, body: await res.body.text() };
    jar.update(out, path);
    return out;
  }
  return {
    tab: (jar: CookieJar) => ({
      get: (path: string) => send(jar, 'GET', path),
      post: (path: string, form: Record<string, string> | Array<[string, string]>) => send(jar, 'POST', path, new URLSearchParams(form).toString()),
    }),
    close: () => pool.close(),
  };
}
export type Browser = ReturnType<typeof createBrowser>;
type Tab = ReturnType<Browser['tab']>;

/** One loop's person: their browser's cookies (the session after `signIn`) and their app's DPoP key. */
export interface Person extends PasswordPerson { jar: CookieJar; dpop: DPoPHandle }

const pathOf = (location: string) => {
  const u = new URL(location, 'http://x');
  return `${u.pathname}${u.search}`;
};
const isCallback = (location: string) => location.startsWith(`${REDIRECT_URI}?`);

/**
 * Follows an authorization from GET /auth to the client's callback, answering a sign-in page with
 * the person's password (only when `person` is given) and a consent screen with `consentForm`.
 */
async function authorize(tab: Tab, authorizePath: string, person: PasswordPerson | undefined) {
  const steps: Steps = {};
  const screens = { login: 0, consent: 0 };
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const out = await fn();
    steps[name] = (steps[name] ?? 0) + performance.now() - t0;
    return out;
  };
  let res = await timed('authorize', () => tab.get(authorizePath));
  for (let hops = 0; hops < 6; hops++) {
    expectStatus('authorize', res, 303);
    const location = locationOf(res);
    if (isCallback(location)) return { callback: location, steps, screens };
    const uid = /^\/interaction\/([A-Za-z0-9_-]+)$/.exec(pathOf(location))?.[1];
    if (!uid) throw new UnexpectedPage(`authorize: redirected to ${location}`);
    const page = await timed('page', () => tab.get(`/interaction/${uid}`));
    expectStatus('interaction page', page, 200);
    let answer: HttpResponse;
    if (page.body.includes(`action="/interaction/${uid}/confirm"`)) {
      screens.consent++;
      answer = await timed('confirm', () => tab.post(`/interaction/${uid}/confirm`, consentForm(page.body)));
    } else if (person && page.body.includes(`action="/interaction/${uid}/login"`)) {
      screens.login++;
      answer = await timed('login', () => tab.post(`/interaction/${uid}/login`, { csrf: csrfOf('sign-in page', page.body), username: person.username, password: person.password }));
    } else {
      throw new UnexpectedPage(`interaction ${uid}: neither a consent screen nor an expected sign-in page`);
    }
    expectStatus('interaction answer', answer, 303);
    res = await timed('resume', () => tab.get(pathOf(locationOf(answer))));
  }
  throw new UnexpectedPage('authorize: too many redirects');
}

/** The person's first authorization: sign-in page, password, consent screen, token. */
export async function signIn(client: FlowClient, browser: Browser, person: PasswordPerson): Promise<Person> {
  const dpop = await client.dpop();
  const jar = new CookieJar();
  const request = await client.push(dpop, ARM_PARAMS.reuse);
  const { callback, screens } = await authorize(browser.tab(jar), request.authorizePath, person);
  if (screens.login !== 1 || screens.consent !== 1) throw new UnexpectedPage(`first authorization: ${screens.login} sign-in and ${screens.consent} consent pages`);
  await client.redeem(dpop, request, callback);
  return { ...person, jar, dpop };
}

/** One complete flow of `arm` for a signed-in person; step latencies in ms. */
export function codeFlow(client: FlowClient, browser: Browser, person: Person, arm: Arm) {
  const tab = browser.tab(person.jar);
  return async function flow(): Promise<Steps> {
    const t0 = performance.now();
    const request = await client.push(person.dpop, ARM_PARAMS[arm]);
    const t1 = performance.now();
    const { callback, steps, screens } = await authorize(tab, request.authorizePath, undefined);
    if (screens.consent !== (arm === 'reuse' ? 0 : 1)) throw new UnexpectedPage(`${arm}: ${screens.consent} consent screens`);
    const t2 = performance.now();
    await client.redeem(person.dpop, request, callback);
    const t3 = performance.now();
    return { par: t1 - t0, ...steps, token: t3 - t2 };
  };
}

/** Signs in on /account/sign-in with a password; the jar then holds the account session. */
export async function accountSignIn(browser: Browser, person: PasswordPerson): Promise<CookieJar> {
  const jar = new CookieJar();
  const tab = browser.tab(jar);
  const form = await tab.get('/account/sign-in');
  expectStatus('account sign-in page', form, 200);
  const res = await tab.post('/account/sign-in/login', { csrf: csrfOf('account sign-in page', form.body), username: person.username, password: person.password });
  expectStatus('account sign-in', res, 303);
  if (locationOf(res) !== '/account') throw new UnexpectedPage(`account sign-in: redirected to ${locationOf(res)}`);
  return jar;
}
