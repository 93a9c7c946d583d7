import type { ClientPrivateJwk } from './clinic/ciba-client.ts';

/**
 * What Sekisho must know about the two example apps, as the objects to register: the clinic as a
 * FAPI-CIBA client (`sekisho client add --file client.json`), the health API as a resource server
 * (the `resourceServers` entry of Sekisho's configuration). Printed by main.ts; an end-to-end test
 * can register exactly these.
 */

/** The clinic's RFC 7591 client metadata. Only the public half of the key is in it. */
export function clinicClientMetadata(options: {
  clientId: string;
  privateJwk: ClientPrivateJwk;
  deliveryMode: 'poll' | 'ping';
  /** Required for ping: where Sekisho sends the notification (the app's `notificationEndpoint`). */
  notificationEndpoint?: string;
}) {
  const { kty, crv, x, y, kid } = options.privateJwk;
  if (options.deliveryMode === 'ping' && !options.notificationEndpoint) throw new TypeError('ping mode needs notificationEndpoint');
  return {
    client_id: options.clientId,
    client_name: '架空クリニック 診療記録システム (fictional clinic, CIBA example)',
    grant_types: ['urn:openid:params:grant-type:ciba'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: { keys: [{ kty, crv, x, y, kid, alg: 'ES256', use: 'sig' }] },
    backchannel_token_delivery_mode: options.deliveryMode,
    ...(options.deliveryMode === 'ping' ? { backchannel_client_notification_endpoint: options.notificationEndpoint } : {}),
    backchannel_authentication_request_signing_alg: 'ES256',
    backchannel_user_code_parameter: false,
    id_token_signed_response_alg: 'ES256',
    dpop_bound_access_tokens: true,
    // RFC 9396 §10: oidc-provider refuses any type a client has not registered.
    authorization_details_types: ['fhir_record_access'],
  };
}

/** The health API's entry in Sekisho's `resourceServers` (packages/server/src/config/schema.ts). */
export function healthResourceServer(options: { audience: string; accessTokenTtl?: number }) {
  return {
    identifier: options.audience,
    // RFC 9068 JWTs: the API verifies them offline with Sekisho's JWKS (validateJwtAccessToken).
    accessTokenFormat: 'jwt',
    accessTokenTtl: options.accessTokenTtl ?? 300,
    // No scopes: what a token allows is in its fhir_record_access authorization_details.
    scopes: [],
  };
}
