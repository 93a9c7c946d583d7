import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** What oidc-provider stores through an adapter (its `AdapterPayload`, loosely typed). */
export type Payload = Record<string, unknown> & {
  grantId?: string;
  userCode?: string;
  uid?: string;
  consumed?: unknown;
};

export interface OidcAdapter {
  upsert(id: string, payload: Payload, expiresIn: number): Promise<void>;
  find(id: string): Promise<Payload | undefined>;
  findByUserCode(userCode: string): Promise<Payload | undefined>;
  findByUid(uid: string): Promise<Payload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

export interface AdapterHooks {
  /**
   * Called when a single-use record was already consumed by someone else (the loser of a race or
   * a replay). It must throw the protocol error for that model; the adapter never decides wording.
   */
  onConsumeConflict(model: string, id: string, grantId: string | null): Promise<never>;
}

/**
 * oidc-provider adapter over the oidc_models table. Consumption is one atomic UPDATE; the
 * provider's own read-then-consume check is kept, this makes concurrent redemptions safe too.
 */
export function createOidcAdapterFactory(db: Kysely<Database>, hooks: AdapterHooks) {
  return function adapterFor(model: string): OidcAdapter {
    if (model === 'Client') return createClientAdapter(db);
    const rows = () => db.selectFrom('oidc_models').select(['payload', 'consumed_at']).where('model', '=', model)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]));
    const toPayload = (row: { payload: Record<string, unknown>; consumed_at: Date | null } | undefined): Payload | undefined => {
      if (!row) return undefined;
      const payload = row.payload as Payload;
      return row.consumed_at ? { ...payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : payload;
    };

    return {
      async upsert(id, payload, expiresIn) {
        const values = {
          model,
          id,
          payload: JSON.stringify(payload),
          grant_id: payload.grantId ?? null,
          user_code: payload.userCode ?? null,
          uid: payload.uid ?? null,
          expires_at: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
        };
        await db.insertInto('oidc_models').values(values)
          .onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet({
            payload: (eb) => eb.ref('excluded.payload'),
            grant_id: (eb) => eb.ref('excluded.grant_id'),
            user_code: (eb) => eb.ref('excluded.user_code'),
            uid: (eb) => eb.ref('excluded.uid'),
            expires_at: (eb) => eb.ref('excluded.expires_at'),
          })).execute();
      },
      async find(id) {
        return toPayload(await rows().where('id', '=', id).executeTakeFirst());
      },
      async findByUserCode(userCode) {
        return toPayload(await rows().where('user_code', '=', userCode).executeTakeFirst());
      },
      async findByUid(uid) {
        return toPayload(await rows().where('uid', '=', uid).executeTakeFirst());
      },
      async consume(id) {
        const won = await db.updateTable('oidc_models').set({ consumed_at: sql<Date>`now()` })
          .where('model', '=', model).where('id', '=', id).where('consumed_at', 'is', null)
          .returning('id').executeTakeFirst();
        if (won) return;
        const row = await db.selectFrom('oidc_models').select('grant_id').where('model', '=', model).where('id', '=', id).executeTakeFirst();
        await hooks.onConsumeConflict(model, id, row?.grant_id ?? null);
      },
      async destroy(id) {
        await db.deleteFrom('oidc_models').where('model', '=', model).where('id', '=', id).execute();
      },
      async revokeByGrantId(grantId) {
        await db.deleteFrom('oidc_models').where('model', '=', model).where('grant_id', '=', grantId).execute();
      },
    };
  };
}

/**
 * Deletes a grant and every protocol record issued under it, whatever the model (code reuse,
 * consent withdrawal). The Grant row goes too, so a token saved a moment later by a racing
 * request is still dead: oidc-provider refuses tokens whose grant is gone.
 */
export async function deleteGrantRecords(db: Kysely<Database>, grantId: string): Promise<void> {
  await db.deleteFrom('oidc_models')
    .where((eb) => eb.or([eb('grant_id', '=', grantId), eb.and([eb('model', '=', 'Grant'), eb('id', '=', grantId)])]))
    .execute();
}

/**
 * Records a replay-protection `jti` if it is new. One statement: insert, or take over a row whose
 * time has passed; a live duplicate makes it return false. Never read-then-write.
 */
export async function insertJtiIfNew(db: Kysely<Database>, id: string, payload: Payload, expiresIn: number): Promise<boolean> {
  const row = await db.insertInto('oidc_models').values({
    model: 'ReplayDetection',
    id,
    payload: JSON.stringify(payload),
    expires_at: new Date(Date.now() + Math.max(expiresIn, 1) * 1000),
  }).onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet({
    payload: (eb) => eb.ref('excluded.payload'),
    expires_at: (eb) => eb.ref('excluded.expires_at'),
  }).where('oidc_models.expires_at', '<', sql<Date>`now()`)).returning('id').executeTakeFirst();
  return row !== undefined;
}

/** Removes expired protocol records; run by the background purge job. */
export async function purgeExpired(db: Kysely<Database>): Promise<number> {
  const result = await db.deleteFrom('oidc_models').where('expires_at', '<', sql<Date>`now()`).executeTakeFirst();
  return Number(result.numDeletedRows);
}

function createClientAdapter(db: Kysely<Database>): OidcAdapter {
  const unsupported = async () => { throw new Error('clients are managed through the CLI or admin API'); };
  return {
    async find(id) {
      const row = await db.selectFrom('clients').select('metadata').where('client_id', '=', id).executeTakeFirst();
      return row?.metadata as Payload | undefined;
    },
    upsert: unsupported,
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
    consume: unsupported,
    destroy: unsupported,
    revokeByGrantId: async () => {},
  };
}
