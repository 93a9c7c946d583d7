/**
 * What Sekisho must know about the two example apps, as the objects to register: the fintech app
 * as a FAPI 2.0 Message Signing client and the bank API's own client for introspection
 * (`sekisho client add --file client.json` each), and the bank API as a resource server (the
 * `resourceServers` entry of Sekisho's configuration). Printed by main.ts; the end-to-end tests
 * register exactly these.
 */

import type { ClientPrivateJwk } from '@sekisho/example-kit/client-key';

/** An ES256 private key as a JWK with its `kid`; only x, y (the public half) go into registrations. */
export type PrivateEcJwk = ClientPrivateJwk;

const publicJwks = (jwk: PrivateEcJwk) => ({ keys: [{ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid: jwk.kid, alg: 'ES256', use: 'sig' }] });

/** Sekisho's RAR types the fintech uses (docs/rich-authorization-requests.md). */
export const FINTECH_DETAIL_TYPES = ['account_information', 'domestic_transfer'];

/** The fintech app's RFC 7591 client metadata. */
export function fintechClientMetadata(options: { clientId: string; privateJwk: PrivateEcJwk; redirectUri: string; clientName?: string }) {
  return {
    client_id: options.clientId,
    client_name: options.clientName ?? 'かけいぼテスト (fictional)',
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    redirect_uris: [options.redirectUri],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: publicJwks(options.privateJwk),
    // FAPI 2.0 Message Signing: every authorization request is a signed request object (pushed),
    // and the authorization response comes back signed (JARM).
    require_signed_request_object: true,
    request_object_signing_alg: 'ES256',
    authorization_signed_response_alg: 'ES256',
    id_token_signed_response_alg: 'ES256',
    dpop_bound_access_tokens: true,
    // RFC 9396 §10: oidc-provider refuses any type a client has not registered.
    authorization_details_types: FINTECH_DETAIL_TYPES,
    // offline_access: the bank connection lasts (refresh tokens); grant_management_revoke: "Disconnect".
    scope: 'openid offline_access grant_management_revoke',
  };
}

/**
 * The bank API's own client: it only introspects (no grant types), authenticating with
 * private_key_jwt, and asks for signed introspection answers (RFC 9701). Sekisho needs every
 * client to say how its tokens would be bound, though this one gets none.
 */
export function bankIntrospectionClientMetadata(options: { clientId: string; privateJwk: PrivateEcJwk }) {
  return {
    client_id: options.clientId,
    client_name: '架空銀行 API (fictional bank API, introspection)',
    grant_types: [],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: publicJwks(options.privateJwk),
    introspection_signed_response_alg: 'ES256',
    dpop_bound_access_tokens: true,
  };
}

/** The bank API's entry in Sekisho's `resourceServers` (packages/server/src/config/schema.ts). */
export function bankResourceServer(options: { audience: string; introspectionClientId: string; accessTokenTtl?: number }) {
  return {
    identifier: options.audience,
    // Opaque tokens, introspected: a consent ended at Sekisho (Disconnect, or the person on 同意の管理)
    // stops access at once, where a JWT would live until it expires.
    accessTokenFormat: 'opaque',
    accessTokenTtl: options.accessTokenTtl ?? 300,
    // No scopes: what a token allows is in its authorization_details.
    scopes: [],
    introspectionClients: [options.introspectionClientId],
  };
}
