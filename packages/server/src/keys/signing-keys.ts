import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, calculateJwkThumbprint, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import type { Kek } from './kek.ts';

/** The algorithms Sekisho signs with (FAPI 2.0 SP 5.4.1): one key of each. */
export const SIGNING_ALGS = ['ES256', 'PS256', 'EdDSA'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

const PURPOSE = 'signing-key';

async function generate(alg: SigningAlg): Promise<{ kid: string; publicJwk: JWK; privateJwk: JWK }> {
  const options = alg === 'PS256' ? { modulusLength: 3072, extractable: true } : alg === 'EdDSA' ? { crv: 'Ed25519', extractable: true } : { extractable: true };
  const { privateKey, publicKey } = await generateKeyPair(alg, options);
  const publicJwk = await exportJWK(publicKey);
  // kid = thumbprint prefix + random suffix: stable, unique, and says nothing secret.
  const kid = `${(await calculateJwkThumbprint(publicJwk)).slice(0, 16)}-${randomUUID().slice(0, 8)}`;
  const extra = { kid, alg, use: 'sig' };
  return { kid, publicJwk: { ...publicJwk, ...extra }, privateJwk: { ...(await exportJWK(privateKey)), ...extra } };
}

export interface SigningKeyStore {
  /** Private JWKs to sign and verify with: active keys first (they sign), then retiring ones. */
  loadPrivateJwks(): Promise<JWK[]>;
  /** Creates a key for every algorithm that has none yet. Returns the kids created. */
  ensureKeys(): Promise<string[]>;
  /** New keys for every algorithm; the old ones stop signing and stay published for overlapSeconds. */
  rotate(overlapSeconds: number): Promise<{ created: string[]; retired: string[] }>;
  /** Deletes retired keys whose overlap has ended. */
  purgeRetired(): Promise<string[]>;
  list(): Promise<Array<{ kid: string; alg: string; createdAt: Date; retiredAt: Date | null; purgeAfter: Date | null }>>;
}

export function createSigningKeyStore(db: Kysely<Database>, kek: Kek): SigningKeyStore {
  async function insert(alg: SigningAlg): Promise<string> {
    const key = await generate(alg);
    await db.insertInto('signing_keys').values({
      kid: key.kid,
      alg,
      public_jwk: JSON.stringify(key.publicJwk),
      private_jwk: kek.encrypt(JSON.stringify(key.privateJwk), `${PURPOSE}:${key.kid}`),
    }).execute();
    return key.kid;
  }

  return {
    async loadPrivateJwks() {
      const rows = await db.selectFrom('signing_keys').selectAll()
        .where((eb) => eb.or([eb('purge_after', 'is', null), eb('purge_after', '>', new Date())]))
        .orderBy('retired_at', (ob) => ob.desc().nullsFirst()).orderBy('created_at', 'desc').execute();
      return rows.map((r) => JSON.parse(kek.decrypt(r.private_jwk, `${PURPOSE}:${r.kid}`)) as JWK);
    },
    async ensureKeys() {
      const active = await db.selectFrom('signing_keys').select('alg').where('retired_at', 'is', null).execute();
      const have = new Set(active.map((r) => r.alg));
      const created: string[] = [];
      for (const alg of SIGNING_ALGS) if (!have.has(alg)) created.push(await insert(alg));
      return created;
    },
    async rotate(overlapSeconds) {
      const now = new Date();
      const retiredRows = await db.updateTable('signing_keys')
        .set({ retired_at: now, purge_after: new Date(now.getTime() + overlapSeconds * 1000) })
        .where('retired_at', 'is', null).returning('kid').execute();
      const created: string[] = [];
      for (const alg of SIGNING_ALGS) created.push(await insert(alg));
      return { created, retired: retiredRows.map((r) => r.kid) };
    },
    async purgeRetired() {
      const rows = await db.deleteFrom('signing_keys').where('purge_after', '<=', new Date()).returning('kid').execute();
      return rows.map((r) => r.kid);
    },
    async list() {
      const rows = await db.selectFrom('signing_keys').select(['kid', 'alg', 'created_at', 'retired_at', 'purge_after'])
        .orderBy('created_at', 'desc').execute();
      return rows.map((r) => ({ kid: r.kid, alg: r.alg, createdAt: r.created_at, retiredAt: r.retired_at, purgeAfter: r.purge_after }));
    },
  };
}
