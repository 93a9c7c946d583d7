/**
 * The issuer's metadata (OpenID Connect Discovery 1.0 §4, RFC 8414 §3), read once and kept for an
 * hour. The document must name the configured issuer (RFC 8414 §3.3), or nothing from it is used.
 */
import { fail } from './errors.ts';
import type { IssuerHttp } from './http.ts';

export interface IssuerMetadata {
  issuer: string;
  jwks_uri?: string;
  introspection_endpoint?: string;
  [member: string]: unknown;
}

const KEEP_MS = 60 * 60_000;
/** After a failure, answer 503 at once for this long instead of making every request wait on a dead issuer. */
const FAILURE_MEMORY_MS = 2_000;

export function createIssuerMetadata(issuer: string, http: IssuerHttp, now: () => number = Date.now) {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let cached: { value: IssuerMetadata; at: number } | undefined;
  let failure: { error: unknown; at: number } | undefined;
  let inflight: Promise<IssuerMetadata> | undefined;

  async function load(): Promise<IssuerMetadata> {
    try {
      const json = await http.getJson(url);
      if (json.issuer !== issuer) fail('ERR_ISSUER_UNAVAILABLE', new Error(`discovery at ${url} names issuer ${String(json.issuer)}`));
      const value = json as IssuerMetadata;
      cached = { value, at: now() };
      failure = undefined;
      return value;
    } catch (error) {
      failure = { error, at: now() };
      throw error;
    } finally {
      inflight = undefined;
    }
  }

  return {
    /** The metadata; a stale copy is still used while a refresh fails. */
    async get(): Promise<IssuerMetadata> {
      if (cached && now() - cached.at < KEEP_MS) return cached.value;
      if (failure && now() - failure.at < FAILURE_MEMORY_MS) {
        if (cached) return cached.value;
        throw failure.error;
      }
      inflight ??= load();
      try {
        return await inflight;
      } catch (error) {
        if (cached) return cached.value;
        throw error;
      }
    },
  };
}
export type IssuerMetadataSource = ReturnType<typeof createIssuerMetadata>;
