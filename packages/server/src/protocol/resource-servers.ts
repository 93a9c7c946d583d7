import type { ResourceServerConfig } from '../config/schema.ts';
import { FAPI_ALGS } from './algorithms.ts';

export interface ResourceServerInfo {
  scope: string;
  audience: string;
  accessTokenTTL: number;
  accessTokenFormat: 'opaque' | 'jwt';
  jwt?: { sign: { alg: (typeof FAPI_ALGS)[number] } };
}

/** The APIs tokens may be issued for (RFC 8707), and who may introspect their tokens. */
export function createResourceServers(list: ResourceServerConfig[]) {
  const byIdentifier = new Map(list.map((rs) => [rs.identifier, rs]));
  return {
    info(indicator: string): ResourceServerInfo | undefined {
      const rs = byIdentifier.get(indicator);
      if (!rs) return undefined;
      return {
        scope: rs.scopes.join(' '),
        audience: rs.identifier,
        accessTokenTTL: rs.accessTokenTtl,
        accessTokenFormat: rs.accessTokenFormat,
        // RFC 9068 tokens are signed with ES256 (FAPI-allowed, compact, fast to verify).
        ...(rs.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: 'ES256' as const } } } : {}),
      };
    },
    /** Does client `clientId` introspect for an API this token's audience names? */
    mayIntrospect(clientId: string, audience: string | string[] | undefined): boolean {
      const audiences = audience === undefined ? [] : Array.isArray(audience) ? audience : [audience];
      return audiences.some((aud) => byIdentifier.get(aud)?.introspectionClients.includes(clientId) ?? false);
    },
  };
}
