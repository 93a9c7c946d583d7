/**
 * The clinic's server as a FAPI-CIBA client, with oauth4webapi as the conformance tests drive
 * Sekisho (test/support/ciba.ts): a signed request object (aud, iss, exp, iat, nbf, jti) sent to
 * the backchannel endpoint with private_key_jwt, then polls of the token endpoint with
 * private_key_jwt and DPoP (one DPoP key per client application). The same HTTP path serves the
 * client_credentials baseline (the benchmark client, same authentication and DPoP). Every call
 * is timed from the moment oauth4webapi hands the request to fetch, so the client's own signing
 * before that is not counted as the server's latency.
 */
import { randomUUID } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { importJWK, SignJWT } from 'jose';
import { Agent } from 'undici';
import type { CibaClientPlan } from './server-process.ts';
import { RESOURCE_SERVER } from '../targets/types.ts';

/** `sentAt`: when the request that got the answer left (after a DPoP nonce retry: the retry). */
export interface Timed<T> { sentAt: number; at: number; value: T }
export type PollResult = { ok: true; tokenType: string } | { ok: false; error: string };

const CIBA_SCOPE = 'openid profile';

/**
 * The token endpoint hands out a DPoP nonce with its answers (oidc-provider does so whenever a
 * nonce secret is configured, required or not) and oauth4webapi puts the last one it saw in the
 * next proof; once that nonce has aged out (a few minutes), the server answers use_dpop_nonce
 * with a fresh one and a client retries once, as RFC 9449 §8 has it (and the test suite's
 * `withNonceRetry`). The retries are counted.
 */
export const dpopNonceRetries = { count: 0 };
async function withNonceRetry<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!oauth.isDPoPNonceError(err)) throw err;
    dpopNonceRetries.count++;
    return call();
  }
}

export function createHttpAgent() {
  return new Agent({ connections: 128, keepAliveTimeout: 60_000 });
}

export async function discover(issuer: string, agent: Agent): Promise<oauth.AuthorizationServer> {
  const url = new URL(issuer);
  return oauth.processDiscoveryResponse(url, await oauth.discoveryRequest(url, optionsFor(agent, { sentAt: 0 })));
}

/** oauth4webapi's options with a fetch through `agent` that notes when the request left. */
function optionsFor(agent: Agent, clock: { sentAt: number }) {
  const customFetch = ((url: string, init?: RequestInit) => {
    clock.sentAt = performance.now();
    return fetch(url, { ...init, dispatcher: agent } as RequestInit);
  }) as typeof fetch;
  return { [oauth.customFetch]: customFetch, [oauth.allowInsecureRequests]: true };
}

export async function createCibaClient(issuer: string, as: oauth.AuthorizationServer, plan: CibaClientPlan, agent: Agent) {
  const key = (await importJWK(plan.privateJwk, 'ES256')) as CryptoKey;
  const client: oauth.Client = { client_id: plan.clientId };
  const clientAuth = oauth.PrivateKeyJwt({ key, kid: plan.kid });
  const dpop = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));

  return {
    clientId: plan.clientId,
    /** The signed authentication request (FAPI-CIBA), made before the clock starts. */
    async requestObject(params: Record<string, string>): Promise<string> {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ scope: CIBA_SCOPE, ...params })
        .setProtectedHeader({ alg: 'ES256', kid: plan.kid, typ: 'JWT' })
        .setIssuer(plan.clientId).setAudience(issuer).setIssuedAt(now).setNotBefore(now).setExpirationTime(now + 300).setJti(randomUUID())
        .sign(key);
    },
    /** POST /backchannel with the request object; auth_req_id and interval, or it throws. */
    async start(request: string): Promise<Timed<{ authReqId: string; interval: number }>> {
      const clock = { sentAt: 0 };
      const res = await oauth.processBackchannelAuthenticationResponse(as, client,
        await oauth.backchannelAuthenticationRequest(as, client, clientAuth, { request }, optionsFor(agent, clock)));
      return { sentAt: clock.sentAt, at: performance.now(), value: { authReqId: res.auth_req_id, interval: res.interval ?? 5 } };
    },
    /** One poll; `ok` with a DPoP access token, or the OAuth error (authorization_pending, slow_down, …). */
    async poll(authReqId: string): Promise<Timed<PollResult>> {
      const clock = { sentAt: 0 };
      try {
        const tokens = await withNonceRetry(async () => oauth.processBackchannelAuthenticationGrantResponse(as, client,
          await oauth.backchannelAuthenticationGrantRequest(as, client, clientAuth, authReqId, { ...optionsFor(agent, clock), DPoP: dpop })));
        if (tokens.token_type.toLowerCase() !== 'dpop' || !tokens.id_token) throw new Error(`CIBA token: token_type ${tokens.token_type}, id_token ${tokens.id_token ? 'present' : 'missing'}`);
        return { sentAt: clock.sentAt, at: performance.now(), value: { ok: true, tokenType: tokens.token_type } };
      } catch (err) {
        if (err instanceof oauth.ResponseBodyError) return { sentAt: clock.sentAt, at: performance.now(), value: { ok: false, error: err.error } };
        throw err;
      }
    },
  };
}
export type CibaClient = Awaited<ReturnType<typeof createCibaClient>>;

/** An error's message with what undici says underneath ("fetch failed" alone says little). */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: string; message?: string } | undefined;
  return cause ? `${err.message} (${cause.code ?? ''} ${cause.message ?? ''})` : err.message;
}

/** The benchmark client's client_credentials grant (private_key_jwt + DPoP): a token request with no CIBA in it. */
export async function createClientCredentials(as: oauth.AuthorizationServer, plan: { clientId: string; privateJwk: oauth.JWK; kid: string }, agent: Agent) {
  const client: oauth.Client = { client_id: plan.clientId };
  const clientAuth = oauth.PrivateKeyJwt({ key: (await importJWK(plan.privateJwk, 'ES256')) as CryptoKey, kid: plan.kid });
  const dpop = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
  return async function grant(): Promise<Timed<void>> {
    const clock = { sentAt: 0 };
    const tokens = await withNonceRetry(async () => oauth.processClientCredentialsResponse(as, client,
      await oauth.clientCredentialsGrantRequest(as, client, clientAuth, { scope: 'read', resource: RESOURCE_SERVER.identifier }, { ...optionsFor(agent, clock), DPoP: dpop })));
    if (tokens.token_type.toLowerCase() !== 'dpop') throw new Error(`client_credentials: token_type ${tokens.token_type}`);
    return { sentAt: clock.sentAt, at: performance.now(), value: undefined };
  };
}
