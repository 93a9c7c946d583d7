import { randomBytes } from 'node:crypto';
import { FAPI_ALGS, FAPI_AUTH_METHODS } from './algorithms.ts';

/** A refusal of client metadata: RFC 7591 error code and a description naming the field. */
export class ClientMetadataError extends Error {
  override name = 'ClientMetadataError';
  readonly error: 'invalid_client_metadata' | 'invalid_redirect_uri';
  readonly field: string;
  constructor(error: 'invalid_client_metadata' | 'invalid_redirect_uri', field: string, description: string) {
    super(`${field}: ${description}`);
    this.error = error;
    this.field = field;
  }
}

const ALG_FIELDS = [
  'id_token_signed_response_alg', 'request_object_signing_alg', 'token_endpoint_auth_signing_alg',
  'authorization_signed_response_alg', 'introspection_signed_response_alg', 'userinfo_signed_response_alg',
  'backchannel_authentication_request_signing_alg',
] as const;
const ENCRYPTION_FIELDS = /_encrypted_response_(alg|enc)$|^request_object_encryption_(alg|enc)$/;
export const CIBA_GRANT_TYPE = 'urn:openid:params:grant-type:ciba';
const GRANT_TYPES = new Set(['authorization_code', 'refresh_token', 'client_credentials', CIBA_GRANT_TYPE]);
const SUBJECT_FIELDS = ['tls_client_auth_subject_dn', 'tls_client_auth_san_dns', 'tls_client_auth_san_uri', 'tls_client_auth_san_ip', 'tls_client_auth_san_email'];
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

type Metadata = Record<string, unknown>;

/**
 * FAPI 2.0 rules for client metadata (SP 5.3.2.1, digest C1/C5): checked before anything is
 * stored. Returns normalised metadata (client_id generated when absent); throws ClientMetadataError.
 */
export function applyFapiClientPolicy(input: Metadata): Metadata & { client_id: string } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ClientMetadataError('invalid_client_metadata', '(root)', 'client metadata must be a JSON object');
  }
  const m: Metadata = { ...input };
  const fail = (field: string, description: string): never => {
    throw new ClientMetadataError('invalid_client_metadata', field, description);
  };

  if (m.client_id === undefined) m.client_id = randomBytes(16).toString('base64url');
  if (typeof m.client_id !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(m.client_id)) fail('client_id', 'must be 1–255 printable ASCII characters');

  for (const secretField of ['client_secret', 'client_secret_expires_at']) {
    if (m[secretField] !== undefined) fail(secretField, 'client secrets are not allowed for FAPI clients; use private_key_jwt or mTLS');
  }

  const method = m.token_endpoint_auth_method;
  if (!FAPI_AUTH_METHODS.includes(method as (typeof FAPI_AUTH_METHODS)[number])) {
    fail('token_endpoint_auth_method', `must be one of ${FAPI_AUTH_METHODS.join(', ')}`);
  }
  if (m.jwks !== undefined && m.jwks_uri !== undefined) fail('jwks', 'give jwks or jwks_uri, not both');
  if ((method === 'private_key_jwt' || method === 'self_signed_tls_client_auth') && m.jwks === undefined && m.jwks_uri === undefined) {
    fail('jwks', `${String(method)} needs the client's public keys in jwks or jwks_uri`);
  }
  if (m.jwks_uri !== undefined && !isHttpsUrl(m.jwks_uri)) fail('jwks_uri', 'must be an https URL');
  if (m.jwks !== undefined) checkJwks(m.jwks, fail);
  if (method === 'tls_client_auth') {
    const present = SUBJECT_FIELDS.filter((f) => m[f] !== undefined);
    if (present.length !== 1) fail('tls_client_auth_subject_dn', 'tls_client_auth needs exactly one of ' + SUBJECT_FIELDS.join(', '));
  }

  for (const field of ALG_FIELDS) {
    if (m[field] !== undefined && !FAPI_ALGS.includes(m[field] as (typeof FAPI_ALGS)[number])) {
      fail(field, `must be one of ${FAPI_ALGS.join(', ')}`);
    }
  }
  for (const field of Object.keys(m)) {
    if (ENCRYPTION_FIELDS.test(field)) fail(field, 'encryption of responses and request objects is not offered');
  }

  const grantTypes = m.grant_types ?? ['authorization_code'];
  if (!Array.isArray(grantTypes) || !grantTypes.every((g) => typeof g === 'string' && GRANT_TYPES.has(g))) {
    fail('grant_types', `allowed values: ${[...GRANT_TYPES].join(', ')} (password and implicit are refused)`);
  }
  m.grant_types = grantTypes;
  const usesCodeFlow = (grantTypes as string[]).includes('authorization_code');
  const responseTypes = m.response_types ?? (usesCodeFlow ? ['code'] : []);
  const allowed = usesCodeFlow ? ['code'] : [];
  if (!Array.isArray(responseTypes) || responseTypes.length !== allowed.length || responseTypes.some((r, i) => r !== allowed[i])) {
    fail('response_types', usesCodeFlow
      ? 'only ["code"] is allowed (implicit and hybrid flows are refused)'
      : 'must be empty for a client without the authorization_code grant');
  }
  m.response_types = allowed;

  const redirectUris = m.redirect_uris ?? [];
  if (!Array.isArray(redirectUris)) fail('redirect_uris', 'must be an array of URLs');
  if (usesCodeFlow && (redirectUris as unknown[]).length === 0) {
    fail('redirect_uris', 'at least one redirect URI is needed for the authorization code grant');
  }
  for (const uri of redirectUris as unknown[]) {
    const problem = redirectUriProblem(uri);
    if (problem) throw new ClientMetadataError('invalid_redirect_uri', 'redirect_uris', `${String(uri)}: ${problem}`);
  }
  m.redirect_uris = redirectUris;

  if ((grantTypes as string[]).includes(CIBA_GRANT_TYPE)) applyCibaPolicy(m, fail);

  if (m.dpop_bound_access_tokens !== true && m.tls_client_certificate_bound_access_tokens !== true) {
    fail('dpop_bound_access_tokens', 'FAPI 2.0 needs sender-constrained tokens: set dpop_bound_access_tokens or tls_client_certificate_bound_access_tokens to true');
  }

  if (m.require_signed_request_object === true) {
    // Message Signing clients get JARM by default with a FAPI algorithm.
    m.authorization_signed_response_alg ??= 'PS256';
  }
  m.require_pushed_authorization_requests = true;
  return m as Metadata & { client_id: string };
}

/**
 * CIBA clients (digest B1, B3, B7): poll or ping (push is not offered), signed authentication
 * requests with a FAPI algorithm, and for ping an https notification endpoint.
 */
function applyCibaPolicy(m: Metadata, fail: (field: string, description: string) => never): void {
  const mode = m.backchannel_token_delivery_mode;
  if (mode !== 'poll' && mode !== 'ping') fail('backchannel_token_delivery_mode', 'must be poll or ping (push is not offered)');
  if (m.backchannel_authentication_request_signing_alg === undefined) {
    fail('backchannel_authentication_request_signing_alg', `FAPI-CIBA needs signed authentication requests: one of ${FAPI_ALGS.join(', ')}`);
  }
  const endpoint = m.backchannel_client_notification_endpoint;
  if (mode === 'ping') {
    if (endpoint === undefined) fail('backchannel_client_notification_endpoint', 'required for the ping mode');
    if (!isHttpsUrl(endpoint) || String(endpoint).includes('#')) fail('backchannel_client_notification_endpoint', 'must be an https URL without a fragment');
  } else if (endpoint !== undefined) {
    fail('backchannel_client_notification_endpoint', 'only for the ping mode');
  }
  if (m.backchannel_user_code_parameter !== undefined && typeof m.backchannel_user_code_parameter !== 'boolean') {
    fail('backchannel_user_code_parameter', 'must be true or false');
  }
}

function isHttpsUrl(value: unknown): boolean {
  return typeof value === 'string' && URL.canParse(value) && new URL(value).protocol === 'https:';
}

function redirectUriProblem(uri: unknown): string | undefined {
  if (typeof uri !== 'string' || !URL.canParse(uri)) return 'not a valid absolute URL';
  const url = new URL(uri);
  if (url.hash || uri.includes('#')) return 'must not contain a fragment';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return undefined;
  return 'must use https (http is allowed only for loopback addresses)';
}

function checkJwks(jwks: unknown, fail: (field: string, description: string) => never): void {
  const keys = (jwks as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0) fail('jwks', 'must be a JWK Set with at least one key');
  for (const [i, key] of (keys as Array<Record<string, unknown>>).entries()) {
    if (typeof key !== 'object' || key === null) fail(`jwks.keys[${i}]`, 'must be a JWK object');
    if (PRIVATE_JWK_MEMBERS.some((p) => key[p] !== undefined)) fail(`jwks.keys[${i}]`, 'private or symmetric key material must not be registered');
    if (key.kty === 'RSA' && typeof key.n === 'string' && Buffer.from(key.n, 'base64url').length * 8 < 2048) {
      fail(`jwks.keys[${i}]`, 'RSA keys must be at least 2048 bits');
    }
    if (key.kty === 'EC' && !['P-256', 'P-384', 'P-521'].includes(key.crv as string)) fail(`jwks.keys[${i}]`, 'EC keys must use P-256, P-384 or P-521');
    if (key.alg !== undefined && !FAPI_ALGS.includes(key.alg as (typeof FAPI_ALGS)[number])) {
      fail(`jwks.keys[${i}].alg`, `must be one of ${FAPI_ALGS.join(', ')}`);
    }
  }
}
