import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

export type ClientMetadata = Record<string, unknown> & { client_id: string };

export function createClientsRepository(db: Kysely<Database>) {
  return {
    async insert(metadata: ClientMetadata): Promise<boolean> {
      const row = await db.insertInto('clients').values({ client_id: metadata.client_id, metadata: JSON.stringify(metadata) })
        .onConflict((oc) => oc.column('client_id').doNothing()).returning('client_id').executeTakeFirst();
      return row !== undefined;
    },
    async replace(metadata: ClientMetadata): Promise<boolean> {
      const row = await db.updateTable('clients').set({ metadata: JSON.stringify(metadata), updated_at: sql<Date>`now()` })
        .where('client_id', '=', metadata.client_id).returning('client_id').executeTakeFirst();
      return row !== undefined;
    },
    async get(clientId: string): Promise<ClientMetadata | undefined> {
      const row = await db.selectFrom('clients').select('metadata').where('client_id', '=', clientId).executeTakeFirst();
      return row?.metadata as ClientMetadata | undefined;
    },
    async list(): Promise<ClientMetadata[]> {
      const rows = await db.selectFrom('clients').select('metadata').orderBy('created_at').execute();
      return rows.map((r) => r.metadata as ClientMetadata);
    },
    async count(): Promise<number> {
      const row = await db.selectFrom('clients').select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    /** Removes the client and every token, code and grant it holds. */
    async remove(clientId: string): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const row = await trx.deleteFrom('clients').where('client_id', '=', clientId).returning('client_id').executeTakeFirst();
        if (!row) return false;
        await trx.deleteFrom('oidc_models').where(sql<string>`payload->>'clientId'`, '=', clientId).execute();
        return true;
      });
    },
  };
}
export type ClientsRepository = ReturnType<typeof createClientsRepository>;
