/**
 * The operations of the identity benchmark, from the load generator's side.
 *
 * - `prepareInteraction`: what comes before a sign-in page (not measured): the client pushes an
 *   authorization request (PAR, private_key_jwt + DPoP, PKCE) and the browser follows it to
 *   `/interaction/<uid>`, receiving the interaction's cookies.
 * - `passwordSignIn` / `passkeySignIn`: the sign-in step itself (measured): GET the sign-in page,
 *   POST the password, or the passkey assertion made from the page's WebAuthn options; success is
 *   the 303 back to the authorization request (`/auth/<uid>`).
 * - `tokenRequest`: one client_credentials grant (private_key_jwt + DPoP) whose latency is the
 *   HTTP round trip only (the client's signing is done before the clock starts).
 */
import { RESOURCE_SERVER } from '../targets/types.ts';
import type { DpopProver } from '../load/client-auth.ts';
import { par, type ScenarioContext, type Steps } from '../load/scenarios.ts';
import { authenticatorFor, type RequestOptions } from '../../packages/server/test/support/soft-authenticator.ts';
import { browse, CookieJar, csrfOf, expectStatus, locationOf, UnexpectedPage, webauthnOptionsOf } from './browser.ts';
import type { PasskeyPerson } from './server-process.ts';
import type { PasswordPerson } from '../sekisho-server-process.ts';

export interface Prepared { uid: string; jar: CookieJar }

const isDeviceCookie = (name: string) => name.startsWith('sekisho.device');

/** A browser that has come back to this site: its long-lived cookies, nothing else. */
export interface Person { device: CookieJar }
export type PasswordUser = PasswordPerson & Person;
export type PasskeyUser = Person & { email: string; authenticator: ReturnType<typeof authenticatorFor> };

export function passwordUser(p: PasswordPerson): PasswordUser {
  return { ...p, device: new CookieJar() };
}

export function passkeyUser(p: PasskeyPerson): PasskeyUser {
  const device = new CookieJar();
  for (const [name, c] of p.cookies) device.cookies.set(name, c);
  return { email: p.email, device, authenticator: authenticatorFor(p.passkey) };
}

/** PAR → GET /auth → 303 to the sign-in page; returns the interaction and its cookies. */
export async function prepareInteraction(ctx: ScenarioContext, dpop: DpopProver): Promise<Prepared> {
  const { authorizePath: authorize } = await par(ctx, dpop);
  const jar = new CookieJar();
  const tab = browse(ctx.http, ctx.issuer, jar);
  const auth = await tab.get(authorize);
  expectStatus('authorize', auth, 303);
  const uid = /\/interaction\/([A-Za-z0-9_-]+)$/.exec(locationOf(auth))?.[1];
  if (!uid) throw new UnexpectedPage(`authorize: redirected to ${locationOf(auth)}`);
  return { uid, jar };
}

/** This person's browser on this interaction: their device cookie plus the interaction's cookies. */
function tabFor(ctx: ScenarioContext, person: Person, prepared: Prepared) {
  const jar = new CookieJar(prepared.jar);
  for (const [name, c] of person.device.cookies) jar.cookies.set(name, c);
  const tab = browse(ctx.http, ctx.issuer, jar);
  const keepDevice = () => {
    for (const [name, c] of jar.cookies) if (isDeviceCookie(name)) person.device.cookies.set(name, c);
  };
  return { tab, keepDevice };
}

function expectSignedIn(step: string, res: { status: number; body: string; headers: Record<string, string | string[] | undefined> }, uid: string): void {
  expectStatus(step, res, 303);
  const location = locationOf(res);
  if (!new URL(location, 'http://x').pathname.endsWith(`/auth/${uid}`)) throw new UnexpectedPage(`${step}: redirected to ${location}`);
}

/** GET the sign-in page, POST username and password; done at the 303 back to /auth/<uid>. */
export async function passwordSignIn(ctx: ScenarioContext, person: PasswordUser, prepared: Prepared): Promise<Steps> {
  const { tab, keepDevice } = tabFor(ctx, person, prepared);
  const path = `/interaction/${prepared.uid}`;
  const t0 = performance.now();
  const page = await tab.get(path);
  expectStatus('sign-in page', page, 200);
  const t1 = performance.now();
  const res = await tab.post(`${path}/login`, { csrf: csrfOf('sign-in page', page.body), username: person.username, password: person.password });
  expectSignedIn('password', res, prepared.uid);
  const t2 = performance.now();
  keepDevice();
  return { page: t1 - t0, submit: t2 - t1 };
}

/** GET the sign-in page, answer its WebAuthn request with the person's passkey, POST the assertion. */
export async function passkeySignIn(ctx: ScenarioContext, person: PasskeyUser, prepared: Prepared): Promise<Steps> {
  const { tab, keepDevice } = tabFor(ctx, person, prepared);
  const path = `/interaction/${prepared.uid}`;
  const origin = new URL(ctx.issuer).origin;
  const t0 = performance.now();
  const page = await tab.get(path);
  expectStatus('sign-in page', page, 200);
  const credential = person.authenticator.get(webauthnOptionsOf<RequestOptions>('sign-in page', page.body), origin);
  const t1 = performance.now();
  const res = await tab.post(`${path}/passkey`, { csrf: csrfOf('sign-in page', page.body), credential: JSON.stringify(credential) });
  expectSignedIn('passkey', res, prepared.uid);
  const t2 = performance.now();
  keepDevice();
  return { page: t1 - t0, submit: t2 - t1 };
}

/** One client_credentials grant, signed first; resolves to the HTTP round trip in ms. */
export function tokenRequest(ctx: ScenarioContext, dpop: DpopProver) {
  const tokenUrl = `${ctx.issuer}/token`;
  return async function grant(): Promise<number> {
    const form = { grant_type: 'client_credentials', scope: 'read', resource: RESOURCE_SERVER.identifier, ...(await ctx.assertion()) };
    const proof = await dpop('POST', tokenUrl);
    const t0 = performance.now();
    const res = await ctx.http.post('/token', form, { dpop: proof });
    const ms = performance.now() - t0;
    expectStatus('token', res, 200);
    const body = JSON.parse(res.body) as { token_type?: string; access_token?: string };
    if (body.token_type !== 'DPoP' || !body.access_token) throw new UnexpectedPage(`token: not a DPoP token: ${res.body.slice(0, 200)}`);
    return ms;
  };
}
