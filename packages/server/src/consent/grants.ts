import { sql, type Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { deleteGrantRecords } from '../storage/oidc-adapter.ts';
import type { ConsentScope } from './ledger.ts';

/** A grant as the person sees it: which service, what, since when, until when, last used. */
export interface GrantSummary {
  id: string;
  clientId: string;
  parts: ConsentScope;
  createdAt: Date | null;
  expiresAt: Date | null;
  /** When the service last obtained a token under this grant. */
  lastUsedAt: Date | null;
  /** The grant outlives its tokens: the service may come back for more (offline_access). */
  ongoing: boolean;
}

interface GrantPayload {
  accountId?: string;
  clientId?: string;
  iat?: number;
  openid?: { scope?: string; claims?: string[] };
  resources?: Record<string, string>;
  rar?: Array<Record<string, unknown>>;
}

function partsOf(p: GrantPayload): ConsentScope {
  return {
    scopes: (p.openid?.scope ?? '').split(' ').filter(Boolean),
    claims: (p.openid?.claims ?? []).filter((c) => !['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss'].includes(c)),
    resources: Object.fromEntries(Object.entries(p.resources ?? {}).map(([r, s]) => [r, String(s).split(' ').filter(Boolean)])),
    authorizationDetails: p.rar ?? [],
  };
}

/**
 * The grants oidc-provider keeps (its Grant records), read for the person they belong to, and
 * revoked with everything issued under them: refresh tokens, opaque access tokens, codes. JWT
 * access tokens are not stored and stay valid until they expire (keep their lifetime short).
 */
export function createGrants(db: Kysely<Database>) {
  const active = (accountId: string) => db.selectFrom('oidc_models').where('model', '=', 'Grant')
    .where(sql<string>`payload->>'accountId'`, '=', accountId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]));

  return {
    async listActive(accountId: string): Promise<GrantSummary[]> {
      const rows = await active(accountId).select(['id', 'payload', 'expires_at']).execute();
      if (rows.length === 0) return [];
      const used = await db.selectFrom('oidc_models')
        .select(['grant_id', sql<string>`max((payload->>'iat')::bigint)`.as('last')])
        .where('grant_id', 'in', rows.map((r) => r.id)).where('model', 'in', ['AccessToken', 'RefreshToken', 'AuthorizationCode'])
        .groupBy('grant_id').execute();
      const lastUsed = new Map(used.map((u) => [u.grant_id!, u.last ? new Date(Number(u.last) * 1000) : null]));
      return rows.map((r) => {
        const p = r.payload as GrantPayload;
        const parts = partsOf(p);
        return {
          id: r.id, clientId: String(p.clientId), parts, createdAt: p.iat ? new Date(p.iat * 1000) : null, expiresAt: r.expires_at,
          lastUsedAt: lastUsed.get(r.id) ?? null, ongoing: parts.scopes.includes('offline_access'),
        };
      }).sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
    },

    /**
     * Revokes one of the person's grants and everything issued under it, at once. Undefined when
     * it is not theirs or no longer exists (nothing is revoked then).
     */
    async revoke(accountId: string, grantId: string): Promise<GrantSummary | undefined> {
      if (!grantId || grantId.length > 100) return undefined;
      // The Grant row goes first, in one statement: of two revocations at once, one wins.
      const row = await db.deleteFrom('oidc_models').where('model', '=', 'Grant').where('id', '=', grantId)
        .where(sql<string>`payload->>'accountId'`, '=', accountId)
        .returning(['id', 'payload', 'expires_at']).executeTakeFirst();
      if (!row) return undefined;
      await deleteGrantRecords(db, grantId);
      const p = row.payload as GrantPayload;
      return { id: row.id, clientId: String(p.clientId), parts: partsOf(p), createdAt: p.iat ? new Date(p.iat * 1000) : null, expiresAt: row.expires_at, lastUsedAt: null, ongoing: false };
    },
  };
}
export type Grants = ReturnType<typeof createGrants>;
