import * as oauth from 'oauth4webapi';
import { checkUrl, insecureFor } from './loopback.ts';

/** Options of {@link createDiscovery}. */
export interface DiscoveryOptions {
  /** The metadata the client cannot work without: each must be there, and https (or loopback http). */
  endpoints: readonly string[];
  /** The signal of each discovery request; a function, so that each attempt may get a fresh time limit. */
  signal?: () => AbortSignal | undefined;
  /** The error when one of `endpoints` is missing: the app's own, which its error codes know. */
  missing: () => Error;
}

/**
 * Sekisho's metadata (OpenID Connect discovery of `issuer`, through oauth4webapi), fetched once
 * and kept. A failed attempt is not kept: the next call tries again, so an app that started
 * before Sekisho was reachable works once it is.
 */
export function createDiscovery(issuer: URL, options: DiscoveryOptions): () => Promise<oauth.AuthorizationServer> {
  let metadata: Promise<oauth.AuthorizationServer> | undefined;

  async function discover(): Promise<oauth.AuthorizationServer> {
    const signal = options.signal?.();
    const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...(signal ? { signal } : {}), ...insecureFor(issuer) });
    const as = await oauth.processDiscoveryResponse(issuer, response);
    for (const name of options.endpoints) {
      const endpoint = as[name];
      if (typeof endpoint !== 'string' || !endpoint) throw options.missing();
      checkUrl('endpoint', endpoint);
    }
    return as;
  }

  return () => {
    if (!metadata) {
      const attempt = discover();
      metadata = attempt;
      // Tried again on the next request when Sekisho was not reachable.
      attempt.catch(() => { if (metadata === attempt) metadata = undefined; });
    }
    return metadata;
  };
}
