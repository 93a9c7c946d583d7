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
     * Withdraws one part of a grant (a scope, a claim, or an API's scope) in one UPDATE, so two
     * withdrawals at once cannot undo each other, then ends every token issued under the grant:
     * the service's next request gets what remains, and is asked again for the part withdrawn.
     * 'last' when nothing but signing in would remain: withdraw the whole grant instead.
     */
    async withdrawPart(accountId: string, grantId: string, part: GrantPart): Promise<{ clientId: string; removed: ConsentScope; remaining: ConsentScope } | 'not-found' | 'last'> {
      const grant = await active(accountId).select(['payload']).where('id', '=', grantId).executeTakeFirst();
      if (!grant) return 'not-found';
      const before = partsOf(grant.payload as GrantPayload);
      const has = part.kind === 'scope' ? before.scopes.includes(part.scope)
        : part.kind === 'claim' ? before.claims.includes(part.claim)
          : (before.resources[part.resource] ?? []).includes(part.scope);
      if (!has) return 'not-found';
      const left = before.scopes.filter((x) => x !== 'openid' && !(part.kind === 'scope' && x === part.scope)).length
        + before.claims.filter((x) => !(part.kind === 'claim' && x === part.claim)).length
        + Object.entries(before.resources).reduce((n, [r, list]) => n + list.filter((x) => !(part.kind === 'resource' && r === part.resource && x === part.scope)).length, 0);
      if (left === 0) return 'last';
      // The path as an array of parameters: a resource indicator may hold any character.
      const removeWord = (path: [string, string], word: string) => sql`jsonb_set(payload, ARRAY[${path[0]}::text, ${path[1]}::text],
        to_jsonb(array_to_string(array_remove(string_to_array(payload #>> ARRAY[${path[0]}::text, ${path[1]}::text], ' '), ${word}::text), ' ')))`;
      const update = part.kind === 'scope' ? removeWord(['openid', 'scope'], part.scope)
        : part.kind === 'resource' ? removeWord(['resources', part.resource], part.scope)
          : sql`jsonb_set(payload, '{openid,claims}', coalesce((SELECT jsonb_agg(c) FROM jsonb_array_elements(payload->'openid'->'claims') c WHERE c <> to_jsonb(${part.claim}::text)), '[]'::jsonb))`;
      const row = await db.updateTable('oidc_models').set({ payload: update as never })
        .where('model', '=', 'Grant').where('id', '=', grantId).where(sql<string>`payload->>'accountId'`, '=', accountId)
        .returning('payload').executeTakeFirst();
      if (!row) return 'not-found';
      // Tokens carry the scopes they were issued with: none may outlive the part withdrawn.
      await db.deleteFrom('oidc_models').where('grant_id', '=', grantId).where('model', '!=', 'Grant').execute();
      const payload = row.payload as GrantPayload;
      const empty: ConsentScope = { scopes: [], claims: [], resources: {}, authorizationDetails: [] };
      const removed: ConsentScope = part.kind === 'scope' ? { ...empty, scopes: [part.scope] }
        : part.kind === 'claim' ? { ...empty, claims: [part.claim] } : { ...empty, resources: { [part.resource]: [part.scope] } };
      return { clientId: String(payload.clientId), removed, remaining: partsOf(payload) };
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

/** One part of a grant the person can withdraw on its own. */
export type GrantPart = { kind: 'scope'; scope: string } | { kind: 'claim'; claim: string } | { kind: 'resource'; resource: string; scope: string };

/** Reads a part from the consents page's form value: `scope:profile`, `claim:email`, `resource:<uri> <scope>`. */
export function parseGrantPart(value: string | undefined): GrantPart | undefined {
  const m = /^(scope|claim|resource):(.{1,500})$/.exec(value ?? '');
  if (!m) return undefined;
  if (m[1] === 'scope') return /^[\x21-\x7e]{1,100}$/.test(m[2]!) && m[2] !== 'openid' ? { kind: 'scope', scope: m[2]! } : undefined;
  if (m[1] === 'claim') return /^[\x21-\x7e]{1,100}$/.test(m[2]!) ? { kind: 'claim', claim: m[2]! } : undefined;
  const [resource, scope] = m[2]!.split(' ');
  return resource && scope ? { kind: 'resource', resource, scope } : undefined;
}

