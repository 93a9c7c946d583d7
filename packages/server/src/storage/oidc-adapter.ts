import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { coalesce } from './coalesce.ts';
import { ttlMemo } from '../shared/ttl-memo.ts';

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
 * Seconds a model stays findable after its own expiry. A polling client must hear that its
 * backchannel request expired (CIBA expired_token), not that it never existed (invalid_grant):
 * the library reads the request past its expiry and decides from the payload's exp; every other
 * read of it checks that exp itself.
 */
const KEPT_AFTER_EXPIRY: Record<string, number> = { BackchannelAuthenticationRequest: 600 };

/**
 * oidc-provider adapter over the oidc_models table. Consumption is one atomic UPDATE; the
 * provider's own read-then-consume check is kept, this makes concurrent redemptions safe too.
 * Saves are coalesced per model (group commit) so a busy server sends fewer statements.
 */
export function createOidcAdapterFactory(db: Kysely<Database>, hooks: AdapterHooks, options: { clientCacheSeconds?: number } = {}) {
  return function adapterFor(model: string): OidcAdapter {
    if (model === 'Client') return createClientAdapter(db, (options.clientCacheSeconds ?? 0) * 1000);
    const rows = () => db.selectFrom('oidc_models').select(['payload', 'consumed_at']).where('model', '=', model)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]));
    const toPayload = (row: { payload: Record<string, unknown>; consumed_at: Date | null } | undefined): Payload | undefined => {
      if (!row) return undefined;
      const payload = row.payload as Payload;
      return row.consumed_at ? { ...payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : payload;
    };

    // Concurrent saves of this model go to the database as one multi-row upsert (last write per id wins).
    const write = coalesce<{ id: string; payload: Payload; expiresIn: number }, void>(async (items) => {
      const latest = new Map(items.map((item) => [item.id, item]));
      // Sorted, so batches racing on the same ids lock rows in one order (no deadlock).
      const rows = [...latest.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map(({ id, payload, expiresIn }) => ({
        model,
        id,
        payload: JSON.stringify(payload),
        grant_id: payload.grantId ?? null,
        user_code: payload.userCode ?? null,
        uid: payload.uid ?? null,
        expires_at: expiresIn ? new Date(Date.now() + (expiresIn + (KEPT_AFTER_EXPIRY[model] ?? 0)) * 1000) : null,
      }));
      await db.insertInto('oidc_models').values(rows)
        .onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet({
          payload: (eb) => eb.ref('excluded.payload'),
          grant_id: (eb) => eb.ref('excluded.grant_id'),
          user_code: (eb) => eb.ref('excluded.user_code'),
          uid: (eb) => eb.ref('excluded.uid'),
          expires_at: (eb) => eb.ref('excluded.expires_at'),
        })).execute();
      return items.map(() => undefined);
    }, 1); // one batch at a time per model, so a later save of a record never lands before an earlier one

    return {
      upsert: (id, payload, expiresIn) => write({ id, payload, expiresIn }),
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
/** A grant that may issue nothing more ends at `until` (a one-time grant: when its access token expires). */
export async function expireGrantAt(db: Kysely<Database>, grantId: string, until: Date): Promise<void> {
  await db.updateTable('oidc_models').set({ expires_at: until }).where('model', '=', 'Grant').where('id', '=', grantId).execute();
}

/** What is issued under a grant (an interaction in progress also names its grant, and is not issued). */
const ISSUED_UNDER_GRANT = ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'BackchannelAuthenticationRequest', 'DeviceCode'];

/** Ends every token and code issued under a grant, keeping the grant itself (a merge, a replace, a part withdrawn). */
export async function deleteGrantTokens(db: Kysely<Database>, grantId: string): Promise<void> {
  await db.deleteFrom('oidc_models').where('grant_id', '=', grantId).where('model', 'in', ISSUED_UNDER_GRANT).execute();
}

export async function deleteGrantRecords(db: Kysely<Database>, grantId: string): Promise<void> {
  await db.deleteFrom('oidc_models')
    .where((eb) => eb.or([eb('grant_id', '=', grantId), eb.and([eb('model', '=', 'Grant'), eb('id', '=', grantId)])]))
    .execute();
}

export interface ReplayStore {
  /**
   * Records a replay-protection id (a hash of issuer and `jti`) until `expiresAt` (epoch seconds).
   * True when it is new; false when it is already recorded and still live. Atomic across
   * processes: insert, or take over a row whose time has passed, in one statement.
   */
  insertIfNew(id: string, expiresAt: number): Promise<boolean>;
}

export function createReplayStore(db: Kysely<Database>): ReplayStore {
  const insert = coalesce<{ id: string; expiresAt: number }, boolean>(async (items) => {
    const first = new Map<string, number>();
    items.forEach((item, i) => { if (!first.has(item.id)) first.set(item.id, i); });
    const unique = [...first.keys()].sort().map((id) => items[first.get(id)!]!);
    const rows = await db.insertInto('replay_jtis')
      .values(unique.map((item) => ({ id: item.id, expires_at: new Date(item.expiresAt * 1000) })))
      .onConflict((oc) => oc.column('id').doUpdateSet({ expires_at: (eb) => eb.ref('excluded.expires_at') })
        .where('replay_jtis.expires_at', '<', sql<Date>`now()`))
      .returning('id').execute();
    const won = new Set(rows.map((r) => r.id));
    // A duplicate inside one batch is a replay of its first occurrence.
    return items.map((item, i) => first.get(item.id) === i && won.has(item.id));
  });
  return { insertIfNew: (id, expiresAt) => insert({ id, expiresAt }) };
}

/** Removes expired protocol records; run by the background purge job. */
export async function purgeExpired(db: Kysely<Database>): Promise<number> {
  const models = await db.deleteFrom('oidc_models').where('expires_at', '<', sql<Date>`now()`).executeTakeFirst();
  const jtis = await db.deleteFrom('replay_jtis').where('expires_at', '<', sql<Date>`now()`).executeTakeFirst();
  return Number(models.numDeletedRows) + Number(jtis.numDeletedRows);
}

/**
 * Clients are read from the clients table. With a cache time, each process keeps what it read for
 * that long (a registration change or removal reaches every instance within it); unknown ids are
 * not cached, so a new registration is seen at once. The cache is keyed by client_id and bounded.
 */
function createClientAdapter(db: Kysely<Database>, cacheMs: number): OidcAdapter {
  const unsupported = async () => { throw new Error('clients are managed through the CLI or admin API'); };
  const find = ttlMemo(async (id: string) => {
    const row = await db.selectFrom('clients').select('metadata').where('client_id', '=', id).executeTakeFirst();
    return row?.metadata as Payload | undefined;
  }, cacheMs);
  return {
    find,
    upsert: unsupported,
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
    consume: unsupported,
    destroy: unsupported,
    revokeByGrantId: async () => {},
  };
}
