import { randomBytes, X509Certificate } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { exportJWK, generateKeyPair } from 'jose';
import type { Dispatcher } from 'undici';
import { registerClient } from '../../src/protocol/client-registration.ts';
import { createClientsRepository } from '../../src/storage/clients-repo.ts';
import { createSelfSignedClientCert, type Issued } from './pki.ts';
import type { TestServer } from './server.ts';

export type AuthMethod = 'private_key_jwt' | 'tls_client_auth' | 'self_signed_tls_client_auth';
export type Binding = 'dpop' | 'mtls';

export interface ClientSpec {
  auth: AuthMethod;
  binding: Binding;
  messageSigning?: boolean;
  grantTypes?: string[];
  scope?: string;
  metadata?: Record<string, unknown>;
}

export interface TestClient {
  clientId: string;
  metadata: Record<string, unknown>;
  redirectUri: string;
  /** Signing key for private_key_jwt assertions and request objects. */
  privateKey: CryptoKey;
  cert: Issued | undefined;
  dispatcher: Dispatcher;
  /** oauth4webapi view of the client and the options every call needs. */
  client: oauth.Client;
  clientAuth: oauth.ClientAuth;
  options: { [oauth.customFetch]: typeof fetch; [oauth.allowInsecureRequests]?: boolean };
  dpopKeys: CryptoKeyPair | undefined;
}

export const REDIRECT_URI = 'https://client.example.com/callback';

/** Registers a FAPI client the way an operator would, and returns what a real client app holds. */
export async function registerTestClient(server: TestServer, spec: ClientSpec): Promise<TestClient> {
  const clientId = `client-${randomBytes(6).toString('hex')}`;
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomBytes(8).toString('hex');
  const signingJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };

  let cert: Issued | undefined;
  if (spec.auth === 'self_signed_tls_client_auth') cert = await createSelfSignedClientCert(`CN=${clientId}`);
  else if (spec.auth === 'tls_client_auth' || spec.binding === 'mtls') cert = await server.pki!.issueClient(`CN=${clientId},O=Sekisho Test`);

  const keys: Record<string, unknown>[] = [signingJwk];
  if (spec.auth === 'self_signed_tls_client_auth') keys.push({ ...cert!.jwk, kid: `${kid}-tls`, use: 'sig' });

  const metadata: Record<string, unknown> = {
    client_id: clientId,
    client_name: `Test client ${clientId}`,
    token_endpoint_auth_method: spec.auth,
    redirect_uris: [REDIRECT_URI],
    grant_types: spec.grantTypes ?? ['authorization_code', 'refresh_token'],
    jwks: { keys },
    ...(spec.auth === 'private_key_jwt' ? { token_endpoint_auth_signing_alg: 'ES256' } : {}),
    // RFC 4514 order (most specific RDN first), as `openssl x509 -nameopt RFC2253` prints it.
    ...(spec.auth === 'tls_client_auth' ? { tls_client_auth_subject_dn: new X509Certificate(cert!.certPem).subject.split('\n').reverse().join(',') } : {}),
    ...(spec.binding === 'dpop' ? { dpop_bound_access_tokens: true } : { tls_client_certificate_bound_access_tokens: true }),
    ...(spec.messageSigning ? {
      require_signed_request_object: true, request_object_signing_alg: 'ES256',
      authorization_signed_response_alg: 'ES256', introspection_signed_response_alg: 'ES256',
    } : {}),
    ...(spec.scope ? { scope: spec.scope } : {}),
    ...spec.metadata,
  };
  const registered = await registerClient(server.app.provider, createClientsRepository(server.app.storage.db), metadata);

  const dispatcher = server.dispatcher(cert);
  const customFetch = ((url: string, init?: RequestInit) => fetch(url, { ...init, dispatcher } as RequestInit)) as typeof fetch;
  const usesMtls = spec.auth !== 'private_key_jwt' || spec.binding === 'mtls';
  return {
    clientId,
    metadata: registered,
    redirectUri: REDIRECT_URI,
    privateKey,
    cert,
    dispatcher,
    client: {
      client_id: clientId,
      ...(spec.messageSigning ? { authorization_signed_response_alg: 'ES256', introspection_signed_response_alg: 'ES256' } : {}),
      ...(usesMtls ? { use_mtls_endpoint_aliases: true } : {}),
    },
    clientAuth: spec.auth === 'private_key_jwt' ? oauth.PrivateKeyJwt({ key: privateKey, kid }) : oauth.TlsClientAuth(),
    // http is only ever a loopback test server (WebAuthn browser tests); oauth4webapi insists on the loud flag.
    options: { [oauth.customFetch]: customFetch, ...(server.issuer.startsWith('http:') ? { [oauth.allowInsecureRequests]: true } : {}) },
    dpopKeys: spec.binding === 'dpop' ? await oauth.generateKeyPair('ES256') : undefined,
  };
}
