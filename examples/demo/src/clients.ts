import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Sekisho } from '../../../packages/server/src/app.ts';
import { createConsentNotices } from '../../../packages/server/src/consent/notices.ts';
import { registerClient } from '../../../packages/server/src/protocol/client-registration.ts';
import { createClientsRepository } from '../../../packages/server/src/storage/clients-repo.ts';

/** An ES256 private key as a JWK with `kid` and `alg`, made for this run only. */
export type DemoPrivateJwk = JWK & { kid: string; alg: 'ES256'; kty: 'EC'; crv: 'P-256'; x: string; y: string; d: string };

export async function newClientKey(name: string): Promise<DemoPrivateJwk> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: `${name}-${randomBytes(4).toString('hex')}`, alg: 'ES256' } as DemoPrivateJwk;
}

/**
 * Registers a client exactly as `sekisho client add --file` would (the same validation and FAPI
 * refusals), and publishes its consent notice when it has one.
 */
export async function registerDemoClient(app: Sekisho, metadata: Record<string, unknown>, notice?: Record<string, unknown>): Promise<void> {
  await registerClient(app.provider, createClientsRepository(app.storage.db), metadata);
  if (notice) await createConsentNotices(app.storage.db, { cacheSeconds: 0 }).publish(String(metadata.client_id), notice);
}
