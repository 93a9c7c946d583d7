/**
 * The client application's side of a code flow, with oauth4webapi (as the conformance tests drive
 * Sekisho): discovery, PAR with private_key_jwt and DPoP, PKCE, the callback's validation (state,
 * iss), the code redeemed with private_key_jwt and DPoP, the ID token's claims checked (nonce).
 * Its HTTP goes through an undici Agent over loopback (`localhost` is 127.0.0.1 on the benchmark
 * machine, as in the test suite); the issuer is `http://localhost:PORT`, which oauth4webapi
 * accepts only with its loud `allowInsecureRequests` option.
 */
import * as oauth from 'oauth4webapi';
import { importJWK, type JWK } from 'jose';
import { Agent } from 'undici';
import { REDIRECT_URI } from '../../packages/server/test/support/clients.ts';
import { UnexpectedResponse } from '../load/scenarios.ts';

export interface AuthorizationRequest { authorizePath: string; state: string; nonce: string; verifier: string }

export async function createFlowClient(plan: { issuer: string; clientId: string; privateJwk: JWK; kid: string }) {
  const agent = new Agent({ connections: 64, keepAliveTimeout: 60_000 });
  const customFetch = ((url: string, init?: RequestInit) => fetch(url, { ...init, dispatcher: agent } as RequestInit)) as typeof fetch;
  const options = { [oauth.customFetch]: customFetch, [oauth.allowInsecureRequests]: true };
  const issuer = new URL(plan.issuer);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, options));
  const client: oauth.Client = { client_id: plan.clientId };
  const clientAuth = oauth.PrivateKeyJwt({ key: (await importJWK(plan.privateJwk, 'ES256')) as CryptoKey, kid: plan.kid });

  return {
    /** One DPoP key per simulated app instance (here: per loop). */
    async dpop(): Promise<oauth.DPoPHandle> {
      return oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    },

    /** PAR; returns the path to send the browser to and what the callback must match. */
    async push(dpop: oauth.DPoPHandle, extra: Record<string, string>): Promise<AuthorizationRequest> {
      const verifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const nonce = oauth.generateRandomNonce();
      const params = {
        client_id: plan.clientId, response_type: 'code', redirect_uri: REDIRECT_URI,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce, ...extra,
      };
      const res = await oauth.processPushedAuthorizationResponse(as, client,
        await oauth.pushedAuthorizationRequest(as, client, clientAuth, params, { ...options, DPoP: dpop }));
      const query = new URLSearchParams({ client_id: plan.clientId, request_uri: res.request_uri }).toString();
      return { authorizePath: `/auth?${query}`, state, nonce, verifier };
    },

    /** Validates the callback and redeems its code; a DPoP-bound access token and an ID token or it throws. */
    async redeem(dpop: oauth.DPoPHandle, request: AuthorizationRequest, callback: string): Promise<void> {
      const params = oauth.validateAuthResponse(as, client, new URL(callback), request.state);
      const tokens = await oauth.processAuthorizationCodeResponse(as, client,
        await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, REDIRECT_URI, request.verifier, { ...options, DPoP: dpop }),
        { expectedNonce: request.nonce, requireIdToken: true });
      if (tokens.token_type.toLowerCase() !== 'dpop') throw new UnexpectedResponse(`token: token_type ${tokens.token_type}`);
    },

    close: () => agent.close(),
  };
}
export type FlowClient = Awaited<ReturnType<typeof createFlowClient>>;
