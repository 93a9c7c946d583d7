import { createHash, randomBytes } from 'node:crypto';
import { Agent } from 'undici';
import { createUserAgent } from '../../packages/server/test/support/user-agent.ts';
import { REDIRECT_URI } from '../../packages/server/test/support/clients.ts';
import type { BenchUser } from '../targets/types.ts';
import { RESOURCE_SERVER } from '../targets/types.ts';
import type { Http } from './http.ts';
import type { DpopProver } from './client-auth.ts';

export interface ScenarioContext {
  http: Http;
  issuer: string;
  clientId: string;
  assertion: () => Promise<Record<string, string>>;
}

/** Step durations of one operation, in ms (a flow reports PAR, authorize and token separately). */
export type Steps = Record<string, number>;

export class UnexpectedResponse extends Error {
  override name = 'UnexpectedResponse';
}
export function expect(step: string, res: { status: number; body: string }, status: number): void {
  if (res.status !== status) throw new UnexpectedResponse(`${step}: HTTP ${res.status} ${res.body.replace(/\s+/g, ' ').slice(0, 200)}`);
}

/** (a) One client_credentials grant: private_key_jwt assertion + DPoP proof, for the bench API's `read` scope. */
export function clientCredentials(ctx: ScenarioContext, dpop: DpopProver) {
  const tokenUrl = `${ctx.issuer}/token`;
  return async function grant(): Promise<void> {
    const res = await ctx.http.post('/token', {
      grant_type: 'client_credentials', scope: 'read', resource: RESOURCE_SERVER.identifier, ...(await ctx.assertion()),
    }, { dpop: await dpop('POST', tokenUrl) });
    expect('token', res, 200);
    const body = JSON.parse(res.body) as { token_type?: string; access_token?: string };
    if (body.token_type !== 'DPoP' || !body.access_token) throw new UnexpectedResponse(`token: not a DPoP token: ${res.body.slice(0, 200)}`);
  };
}

const FLOW_SCOPE = 'openid profile';

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The client's pushed authorization request (PKCE, private_key_jwt, DPoP); the path to send the browser to. */
export async function par(ctx: ScenarioContext, dpop: DpopProver) {
  const { verifier, challenge } = pkce();
  const state = randomBytes(16).toString('base64url');
  const res = await ctx.http.post('/par', {
    client_id: ctx.clientId, response_type: 'code', redirect_uri: REDIRECT_URI, scope: FLOW_SCOPE,
    code_challenge: challenge, code_challenge_method: 'S256', state, nonce: randomBytes(16).toString('base64url'),
    ...(await ctx.assertion()),
  }, { dpop: await dpop('POST', `${ctx.issuer}/par`) });
  expect('par', res, 201);
  const { request_uri: requestUri } = JSON.parse(res.body) as { request_uri: string };
  const query = new URLSearchParams({ client_id: ctx.clientId, request_uri: requestUri }).toString();
  return { verifier, state, authorizePath: `/auth?${query}` };
}

function codeFrom(location: string | undefined, state: string, issuer: string): string {
  if (!location?.startsWith(`${REDIRECT_URI}?`)) throw new UnexpectedResponse(`authorize: redirected to ${location}`);
  const params = new URL(location).searchParams;
  if (params.get('error')) throw new UnexpectedResponse(`authorize: ${params.get('error')} ${params.get('error_description')}`);
  if (params.get('state') !== state || params.get('iss') !== issuer) throw new UnexpectedResponse('authorize: state or iss mismatch');
  return params.get('code')!;
}

async function redeem(ctx: ScenarioContext, dpop: DpopProver, code: string, verifier: string): Promise<void> {
  const res = await ctx.http.post('/token', {
    grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier, ...(await ctx.assertion()),
  }, { dpop: await dpop('POST', `${ctx.issuer}/token`) });
  expect('token', res, 200);
  const body = JSON.parse(res.body) as { token_type?: string; id_token?: string };
  if (body.token_type !== 'DPoP' || !body.id_token) throw new UnexpectedResponse(`token: ${res.body.slice(0, 200)}`);
}

/**
 * Signs `user` in once through the server's real sign-in and consent pages (the test suite's
 * scripted browser) and returns the cookies of the resulting session.
 */
export async function signIn(ctx: ScenarioContext, dpop: DpopProver, user: BenchUser): Promise<Map<string, string>> {
  const agent = new Agent();
  try {
    const ua = createUserAgent(agent, ctx.issuer);
    const request = await par(ctx, dpop);
    const { callback, page } = await ua.authorize(`${ctx.issuer}${request.authorizePath}`, user);
    if (!callback) throw new UnexpectedResponse(`sign-in did not return to the client: ${page?.status} ${page?.body.slice(0, 200)}`);
    await redeem(ctx, dpop, codeFrom(callback, request.state, ctx.issuer), request.verifier);
    return new Map(ua.cookies);
  } finally {
    await agent.close();
  }
}

/**
 * (b) One complete flow for a signed-in person whose consent is already on record:
 * PAR → GET /auth with the session cookie (straight back to the client with a code) → token.
 */
export function codeFlow(ctx: ScenarioContext, dpop: DpopProver, jar: Map<string, string>) {
  return async function flow(): Promise<Steps> {
    const t0 = performance.now();
    const request = await par(ctx, dpop);
    const t1 = performance.now();
    const res = await ctx.http.get(request.authorizePath, { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') });
    expect('authorize', res, 303);
    updateJar(jar, res.headers['set-cookie']);
    const location = res.headers.location;
    const code = codeFrom(Array.isArray(location) ? location[0] : location, request.state, ctx.issuer);
    const t2 = performance.now();
    await redeem(ctx, dpop, code, request.verifier);
    const t3 = performance.now();
    return { par: t1 - t0, authorize: t2 - t1, token: t3 - t2 };
  };
}

function updateJar(jar: Map<string, string>, setCookie: string | string[] | undefined): void {
  for (const c of setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie]) {
    const [pair] = c.split(';');
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq).trim();
    const value = pair!.slice(eq + 1).trim();
    if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) jar.delete(name);
    else jar.set(name, value);
  }
}
