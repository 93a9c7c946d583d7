import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyFapiClientPolicy, ClientMetadataError } from './client-policy.ts';

const jwks = { keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1', alg: 'ES256' }] };
const good = { client_id: 'bank-app', token_endpoint_auth_method: 'private_key_jwt', jwks, redirect_uris: ['https://app.example.jp/cb'], dpop_bound_access_tokens: true };

function refuses(over: Record<string, unknown>, field: string, error = 'invalid_client_metadata') {
  assert.throws(() => applyFapiClientPolicy({ ...good, ...over }), (err: unknown) =>
    err instanceof ClientMetadataError && err.error === error && err.field.startsWith(field) && err.message.includes(field));
}

describe('FAPI client metadata policy (C1, C5)', () => {
  it('accepts a FAPI client and normalises it', () => {
    const m = applyFapiClientPolicy(good);
    assert.deepEqual(m.response_types, ['code']);
    assert.deepEqual(m.grant_types, ['authorization_code']);
    assert.equal(m.require_pushed_authorization_requests, true);
  });
  it('generates a client_id when none is given', () => {
    const { client_id: _, ...rest } = good;
    assert.match(applyFapiClientPolicy(rest).client_id, /^[A-Za-z0-9_-]{22}$/);
  });
  it('refuses client secrets and secret-based auth', () => {
    refuses({ client_secret: 'x' }, 'client_secret');
    refuses({ token_endpoint_auth_method: 'client_secret_basic' }, 'token_endpoint_auth_method');
    refuses({ token_endpoint_auth_method: 'none' }, 'token_endpoint_auth_method');
  });
  it('refuses non-https redirect URIs except loopback, and fragments', () => {
    refuses({ redirect_uris: ['http://app.example.jp/cb'] }, 'redirect_uris', 'invalid_redirect_uri');
    refuses({ redirect_uris: ['com.example.app:/cb'] }, 'redirect_uris', 'invalid_redirect_uri');
    refuses({ redirect_uris: ['https://app.example.jp/cb#x'] }, 'redirect_uris', 'invalid_redirect_uri');
    assert.ok(applyFapiClientPolicy({ ...good, redirect_uris: ['http://127.0.0.1:8080/cb', 'http://[::1]/cb'] }));
  });
  it('refuses algorithms outside PS256/ES256/EdDSA', () => {
    refuses({ id_token_signed_response_alg: 'RS256' }, 'id_token_signed_response_alg');
    refuses({ request_object_signing_alg: 'none' }, 'request_object_signing_alg');
    refuses({ token_endpoint_auth_signing_alg: 'HS256' }, 'token_endpoint_auth_signing_alg');
    refuses({ jwks: { keys: [{ ...jwks.keys[0], alg: 'RS256' }] } }, 'jwks.keys[0].alg');
  });
  it('refuses response types and grants FAPI forbids', () => {
    refuses({ response_types: ['code id_token'] }, 'response_types');
    refuses({ response_types: ['token'] }, 'response_types');
    refuses({ grant_types: ['password'] }, 'grant_types');
    refuses({ grant_types: ['implicit'] }, 'grant_types');
  });
  it('needs keys for private_key_jwt and a subject for tls_client_auth', () => {
    refuses({ jwks: undefined }, 'jwks');
    refuses({ jwks: undefined, jwks_uri: 'http://keys.example.jp' }, 'jwks_uri');
    refuses({ token_endpoint_auth_method: 'tls_client_auth' }, 'tls_client_auth_subject_dn');
    assert.ok(applyFapiClientPolicy({ ...good, token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=app' }));
  });
  it('refuses private key material and weak keys in jwks', () => {
    refuses({ jwks: { keys: [{ ...jwks.keys[0], d: 'private' }] } }, 'jwks.keys[0]');
    refuses({ jwks: { keys: [{ kty: 'RSA', e: 'AQAB', n: Buffer.alloc(128, 1).toString('base64url') }] } }, 'jwks.keys[0]');
    refuses({ jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, 'jwks.keys[0]');
  });
  it('requires sender-constrained tokens', () => {
    refuses({ dpop_bound_access_tokens: false }, 'dpop_bound_access_tokens');
    assert.ok(applyFapiClientPolicy({ ...good, dpop_bound_access_tokens: undefined, tls_client_certificate_bound_access_tokens: true }));
  });
  it('refuses response encryption it does not offer', () => {
    refuses({ id_token_encrypted_response_alg: 'RSA-OAEP' }, 'id_token_encrypted_response_alg');
  });
});

describe('clients without the code flow', () => {
  it('a client_credentials-only client needs no redirect URI and gets no response types', () => {
    const m = applyFapiClientPolicy({ ...good, redirect_uris: undefined, grant_types: ['client_credentials'] });
    assert.deepEqual(m.response_types, []);
    assert.throws(() => applyFapiClientPolicy({ ...good, grant_types: ['client_credentials'], response_types: ['code'] }), /response_types/);
  });
  it('a code-flow client needs a redirect URI', () => {
    assert.throws(() => applyFapiClientPolicy({ ...good, redirect_uris: [] }), /redirect_uris/);
  });
  it('B1/B3/B7: a CIBA client polls or pings, signs its requests, and a ping endpoint is https', () => {
    const ciba = { ...good, redirect_uris: undefined, grant_types: ['urn:openid:params:grant-type:ciba'], backchannel_token_delivery_mode: 'poll', backchannel_authentication_request_signing_alg: 'ES256' };
    const m = applyFapiClientPolicy(ciba);
    assert.deepEqual(m.response_types, []);
    assert.throws(() => applyFapiClientPolicy({ ...ciba, backchannel_token_delivery_mode: 'push' }), /backchannel_token_delivery_mode: must be poll or ping/);
    assert.throws(() => applyFapiClientPolicy({ ...ciba, backchannel_authentication_request_signing_alg: undefined }), /backchannel_authentication_request_signing_alg/);
    assert.throws(() => applyFapiClientPolicy({ ...ciba, backchannel_authentication_request_signing_alg: 'RS256' }), /backchannel_authentication_request_signing_alg/);
    assert.throws(() => applyFapiClientPolicy({ ...ciba, backchannel_token_delivery_mode: 'ping' }), /backchannel_client_notification_endpoint: required/);
    assert.throws(() => applyFapiClientPolicy({ ...ciba, backchannel_token_delivery_mode: 'ping', backchannel_client_notification_endpoint: 'http://clinic.example.jp/notify' }), /backchannel_client_notification_endpoint: must be an https URL/);
    assert.ok(applyFapiClientPolicy({ ...ciba, backchannel_token_delivery_mode: 'ping', backchannel_client_notification_endpoint: 'https://clinic.example.jp/notify' }));
    assert.throws(() => applyFapiClientPolicy({ ...ciba, backchannel_client_notification_endpoint: 'https://clinic.example.jp/notify' }), /only for the ping mode/);
  });
});
