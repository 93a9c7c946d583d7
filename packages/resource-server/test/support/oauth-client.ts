/**
 * A real client: oauth4webapi's protectedResourceRequest with its DPoP() handle makes the request
 * (proof, Authorization header, nonce retry), and the SDK answers it in place of the network.
 */
import * as oauth from 'oauth4webapi';
import type { ResourceServer, VerifiedAccess, VerifyOptions } from '../../src/index.ts';
import { ResourceServerError } from '../../src/index.ts';

export interface ClientCall {
  /** What the API saw (the Request oauth4webapi sent). */
  requests: Request[];
  response: Response;
  access: VerifiedAccess | undefined;
  error: ResourceServerError | undefined;
  /** The challenges as oauth4webapi parsed them from WWW-Authenticate (it throws on any). */
  challenges: oauth.WWWAuthenticateChallenge[];
}

/**
 * Sends one protected-resource request as oauth4webapi would, answered by `rs`. With `retryNonce`
 * the client retries once on `use_dpop_nonce`, as an oauth4webapi application does.
 */
export async function clientRequest(rs: ResourceServer, token: string, dpop: oauth.DPoPHandle | undefined, options: { method?: string; url?: string; verify?: VerifyOptions; retryNonce?: boolean } = {}): Promise<ClientCall> {
  const call: ClientCall = { requests: [], response: new Response(), access: undefined, error: undefined, challenges: [] };
  const customFetch = async (url: string, init: oauth.CustomFetchOptions<string, oauth.ProtectedResourceRequestBody>) => {
    const request = new Request(url, { method: init.method, headers: init.headers });
    call.requests.push(request);
    try {
      call.access = await rs.verify(request, options.verify);
      call.error = undefined;
      return new Response('{}', { status: 200, headers: call.access.responseHeaders });
    } catch (error) {
      if (!(error instanceof ResourceServerError)) throw error;
      call.error = error;
      return rs.errorResponse(error);
    }
  };
  const send = () => oauth.protectedResourceRequest(token, options.method ?? 'GET', new URL(options.url ?? 'https://api.example.com/accounts'), new Headers(), null, {
    ...(dpop ? { DPoP: dpop } : {}), [oauth.customFetch]: customFetch,
  });
  const attempt = async () => {
    try {
      call.response = await send();
      call.challenges = [];
    } catch (error) {
      if (!(error instanceof oauth.WWWAuthenticateChallengeError)) throw error;
      call.response = error.response;
      call.challenges = error.cause;
      return error;
    }
    return undefined;
  };
  const error = await attempt();
  if (error && options.retryNonce && oauth.isDPoPNonceError(error)) await attempt();
  return call;
}
