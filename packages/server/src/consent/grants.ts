import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { deleteGrantTokens } from '../storage/oidc-adapter.ts';
import type { ConsentScope } from './ledger.ts';
import { canonicalJson } from './canonical-json.ts';
import { createGrantTerms, type GrantDuration, type GrantStatus } from './grant-terms.ts';

/** A grant as the person sees it: which service, what, since when, until when, last used. */
export interface GrantSummary {
  id: string;
  clientId: string;
  parts: ConsentScope;
  createdAt: Date | null;
  expiresAt: Date | null;
  /** When the service last obtained a token under this grant. */
  lastUsedAt: Date | null;
  /** Ongoing access (until expiry or withdrawal), as opposed to one use. */
  ongoing: boolean;
  duration: GrantDuration;
  status: GrantStatus;
  endedAt: Date | null;
  /** Who ended it: 'subject' (the person), 'client' (Grant Management API), 'admin', 'reuse'. */
  endedBy: string | null;
  /** The guardian or proxy who gave it for the person (an account id); null: the person did. */
  actor?: string | null;
}

export interface GrantPayload {
  accountId?: string;
  clientId?: string;
  iat?: number;
  openid?: { scope?: string; claims?: string[] };
  resources?: Record<string, string>;
  rar?: Array<Record<string, unknown>>;
}

/** What an oidc-provider Grant holds, in the ledger's terms. */
export function partsOf(p: GrantPayload): ConsentScope {
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
  const terms = createGrantTerms(db);
  const active = (accountId: string) => db.selectFrom('oidc_models').where('model', '=', 'Grant')
    .where(sql<string>`payload->>'accountId'`, '=', accountId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]));

  return {
    async listActive(accountId: string): Promise<GrantSummary[]> {
      const rows = await active(accountId).select(['id', 'payload', 'expires_at']).execute();
      if (rows.length === 0) return [];
      const [used, recorded] = await Promise.all([
        db.selectFrom('oidc_models')
          .select(['grant_id', sql<string>`max((payload->>'iat')::bigint)`.as('last')])
          .where('grant_id', 'in', rows.map((r) => r.id)).where('model', 'in', ['AccessToken', 'RefreshToken', 'AuthorizationCode'])
          .groupBy('grant_id').execute(),
        db.selectFrom('consent_grants').select(['id', 'duration', 'status', 'actor']).where('id', 'in', rows.map((r) => r.id)).execute(),
      ]);
      const lastUsed = new Map(used.map((u) => [u.grant_id!, u.last ? new Date(Number(u.last) * 1000) : null]));
      const termsOf = new Map(recorded.map((t) => [t.id, t]));
      return rows.map((r) => {
        const p = r.payload as GrantPayload;
        const parts = partsOf(p);
        const t = termsOf.get(r.id);
        // Grants from before consent_grants existed count as ongoing when they hold offline_access.
        const duration: GrantDuration = t?.duration ?? (parts.scopes.includes('offline_access') ? 'ongoing' : 'once');
        return {
          id: r.id, clientId: String(p.clientId), parts, createdAt: p.iat ? new Date(p.iat * 1000) : null, expiresAt: r.expires_at,
          lastUsedAt: lastUsed.get(r.id) ?? null, ongoing: duration === 'ongoing', duration, status: t?.status === 'used' ? 'used' : 'active',
          endedAt: null, endedBy: null, actor: t?.actor ?? null,
        } satisfies GrantSummary;
      }).sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
    },

    /** Grants that ended (withdrawn, used up, expired): kept visible for the retention period. */
    async listEnded(accountId: string, limit = 200): Promise<GrantSummary[]> {
      return (await terms.endedForAccount(accountId, limit))
        .map((t) => ({
          id: t.id, clientId: t.clientId, parts: t.parts, createdAt: t.createdAt, expiresAt: t.expiresAt, lastUsedAt: t.usedAt,
          ongoing: t.duration === 'ongoing', duration: t.duration, status: t.status, endedAt: t.endedAt ?? t.expiresAt, endedBy: t.endedBy, actor: t.actor,
        }));
    },

    /**
     * The grant as the Grant Management API shows it to its client (draft § "Query"): undefined
     * when it no longer exists (withdrawn, expired).
     */
    async managementView(grantId: string): Promise<{ clientId: string; accountId: string; body: Record<string, unknown> } | undefined> {
      const row = await db.selectFrom('oidc_models').select(['payload', 'expires_at']).where('model', '=', 'Grant').where('id', '=', grantId)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())])).executeTakeFirst();
      if (!row) return undefined;
      const p = row.payload as GrantPayload;
      const t = await terms.find(grantId);
      const epoch = (d: Date | null | undefined) => (d ? Math.floor(d.getTime() / 1000) : undefined);
      const scopes: Array<{ scope: string; resource?: string[] }> = [];
      if (p.openid?.scope) scopes.push({ scope: p.openid.scope });
      for (const [resource, scope] of Object.entries(p.resources ?? {})) if (scope) scopes.push({ scope: String(scope), resource: [resource] });
      const body: Record<string, unknown> = {
        scopes,
        ...(p.openid?.claims?.length ? { claims: p.openid.claims } : {}),
        ...(p.rar?.length ? { authorization_details: p.rar } : {}),
        created_at: p.iat ?? epoch(t?.createdAt),
        last_updated_at: epoch(t?.updatedAt) ?? p.iat,
        ...(row.expires_at ? { expires_at: epoch(row.expires_at) } : {}),
      };
      return { clientId: String(p.clientId), accountId: String(p.accountId), body };
    },

    /**
     * Revokes a grant for the client it was given to (Grant Management API `DELETE`): the grant and
     * everything issued under it end at once. Undefined when it is not that client's or is gone.
     */
    async revokeForClient(clientId: string, grantId: string): Promise<(GrantSummary & { accountId: string }) | undefined> {
      const row = await endGrant(grantId, 'clientId', clientId, 'client', 'revoked by the client (Grant Management API)');
      if (!row) return undefined;
      const p = row.payload as GrantPayload;
      return { ...summaryOf(row.id, p, row.expires_at), accountId: String(p.accountId), endedBy: 'client' };
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
      if (part.kind === 'detail') return withdrawDetail(accountId, grantId, grant.payload as GrantPayload, part.hash);
      const has = part.kind === 'scope' ? before.scopes.includes(part.scope)
        : part.kind === 'claim' ? before.claims.includes(part.claim)
          : (before.resources[part.resource] ?? []).includes(part.scope);
      if (!has) return 'not-found';
      // Signing in and ongoing access alone are no consent to any data: withdraw the whole grant then.
      const left = before.scopes.filter((x) => x !== 'openid' && x !== 'offline_access' && !(part.kind === 'scope' && x === part.scope)).length
        + before.claims.filter((x) => !(part.kind === 'claim' && x === part.claim)).length
        + Object.entries(before.resources).reduce((n, [r, list]) => n + list.filter((x) => !(part.kind === 'resource' && r === part.resource && x === part.scope)).length, 0)
        + before.authorizationDetails.length;
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
      await deleteGrantTokens(db, grantId);
      const payload = row.payload as GrantPayload;
      const empty: ConsentScope = { scopes: [], claims: [], resources: {}, authorizationDetails: [] };
      const removed: ConsentScope = part.kind === 'scope' ? { ...empty, scopes: [part.scope] }
        : part.kind === 'claim' ? { ...empty, claims: [part.claim] } : { ...empty, resources: { [part.resource]: [part.scope] } };
      const remaining = partsOf(payload);
      await terms.updateParts(grantId, remaining);
      return { clientId: String(payload.clientId), removed, remaining };
    },

    /**
     * Brings an ongoing grant's end forward to `until` (the person's choice on My consents): the
     * Grant row's expiry, the `exp` oidc-provider reads from its payload, and the consent_grants
     * row. Only earlier, never later: each write takes the earlier of the stored and the new time
     * and only touches a row that ends after `until`, so two changes at once cannot lengthen it.
     * Tokens already issued keep their own (short) lifetimes; nothing is issued after `until`.
     */
    async shortenExpiry(accountId: string, grantId: string, until: Date): Promise<ShortenedGrant | 'not-found' | 'not-earlier'> {
      if (!grantId || grantId.length > 100 || !(until.getTime() > Date.now())) return 'not-found';
      const exp = Math.floor(until.getTime() / 1000);
      return db.transaction().execute(async (trx) => {
        // Locked, so the expiry read as "previous" is the one this change replaces.
        const row = await trx.selectFrom('oidc_models').select(['payload', 'expires_at']).where('model', '=', 'Grant').where('id', '=', grantId)
          .where(sql<string>`payload->>'accountId'`, '=', accountId)
          .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
          .forUpdate().executeTakeFirst();
        if (!row) return 'not-found' as const;
        const t = await trx.selectFrom('consent_grants').select(['status', 'duration']).where('id', '=', grantId).forUpdate().executeTakeFirst();
        // A one-time grant ends when it is used; an ended one has nothing left to shorten.
        if (t && (t.status !== 'active' || t.duration !== 'ongoing')) return 'not-found' as const;
        if (row.expires_at && row.expires_at.getTime() <= until.getTime()) return 'not-earlier' as const;
        const updated = await trx.updateTable('oidc_models')
          .set({
            expires_at: sql<Date>`LEAST(coalesce(expires_at, ${until}), ${until})`,
            payload: sql`jsonb_set(payload, '{exp}', to_jsonb(LEAST(coalesce((payload->>'exp')::bigint, ${exp}::bigint), ${exp}::bigint)))` as never,
          })
          .where('model', '=', 'Grant').where('id', '=', grantId).where(sql<string>`payload->>'accountId'`, '=', accountId)
          .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', until)]))
          .returning(['payload', 'expires_at']).executeTakeFirst();
        if (!updated) return 'not-earlier' as const;
        await trx.updateTable('consent_grants')
          .set({ expires_at: sql<Date>`LEAST(coalesce(expires_at, ${until}), ${until})`, updated_at: sql<Date>`now()` })
          .where('id', '=', grantId).where('status', '=', 'active').execute();
        const p = updated.payload as GrantPayload;
        return { clientId: String(p.clientId), parts: partsOf(p), expiresAt: updated.expires_at ?? until, previousExpiresAt: row.expires_at };
      });
    },

    /**
     * Revokes one of the person's grants and everything issued under it, at once. Undefined when
     * it is not theirs or no longer exists (nothing is revoked then).
     */
    /**
     * Ends every grant a delegate gave under a delegation that has ended (their authority is
     * gone), with everything issued under them; the grants ended, with whose they were.
     */
    async revokeGivenUnder(delegationId: string, reason: string): Promise<Array<GrantSummary & { accountId: string }>> {
      const given = await db.selectFrom('consent_grants').select(['id', 'account_id']).where('delegation_id', '=', delegationId)
        .where('status', 'in', ['active', 'used']).execute();
      const ended: Array<GrantSummary & { accountId: string }> = [];
      for (const g of given) {
        const row = await endGrant(g.id, 'accountId', g.account_id, 'admin', reason);
        if (row) ended.push({ ...summaryOf(row.id, row.payload as GrantPayload, row.expires_at), accountId: g.account_id });
        else await terms.end(g.id, 'admin', reason);
      }
      return ended;
    },

    async revoke(accountId: string, grantId: string): Promise<GrantSummary | undefined> {
      const row = await endGrant(grantId, 'accountId', accountId, 'subject', 'withdrawn by the person');
      return row ? summaryOf(row.id, row.payload as GrantPayload, row.expires_at) : undefined;
    },
  };

  /**
   * Ends a grant that is `ownerId`'s (its payload's accountId or clientId, as `owner` says) with
   * everything issued under it; the deleted Grant row, or undefined when there was none (nothing
   * ends then).
   */
  async function endGrant(grantId: string, owner: 'accountId' | 'clientId', ownerId: string, by: 'subject' | 'client' | 'admin', reason: string) {
    if (!grantId || grantId.length > 100) return undefined;
    // The Grant row goes first, in one statement: of two revocations at once, one wins.
    const row = await db.deleteFrom('oidc_models').where('model', '=', 'Grant').where('id', '=', grantId)
      .where(sql<string>`payload->>${sql.lit(owner)}`, '=', ownerId)
      .returning(['id', 'payload', 'expires_at']).executeTakeFirst();
    if (!row) return undefined;
    // Its tokens and codes end with it; a consent screen still open under it finds it gone.
    await deleteGrantTokens(db, grantId);
    await terms.end(grantId, by, reason);
    return row;
  }

  /**
   * Withdraws one authorization detail, found by the hash of its content; compare-and-set on the
   * details as they were read, so a concurrent change is never overwritten.
   */
  async function withdrawDetail(accountId: string, grantId: string, payload: GrantPayload, hash: string) {
    const rar = payload.rar ?? [];
    const index = rar.findIndex((d) => detailHash(d) === hash);
    if (index < 0) return 'not-found' as const;
    const before = partsOf(payload);
    const left = before.scopes.filter((x) => x !== 'openid' && x !== 'offline_access').length + before.claims.length
      + Object.values(before.resources).reduce((n, list) => n + list.length, 0) + rar.length - 1;
    if (left === 0) return 'last' as const;
    const kept = rar.filter((_, i) => i !== index);
    const row = await db.updateTable('oidc_models').set({ payload: sql`jsonb_set(payload, '{rar}', ${JSON.stringify(kept)}::jsonb)` as never })
      .where('model', '=', 'Grant').where('id', '=', grantId).where(sql<string>`payload->>'accountId'`, '=', accountId)
      .where(sql<boolean>`payload->'rar' = ${JSON.stringify(rar)}::jsonb`)
      .returning('payload').executeTakeFirst();
    if (!row) return 'not-found' as const;
    await deleteGrantTokens(db, grantId);
    const remaining = partsOf(row.payload as GrantPayload);
    await terms.updateParts(grantId, remaining);
    return { clientId: String(payload.clientId), removed: { scopes: [], claims: [], resources: {}, authorizationDetails: [rar[index]!] }, remaining };
  }
}

function summaryOf(id: string, p: GrantPayload, expiresAt: Date | null): GrantSummary {
  return {
    id, clientId: String(p.clientId), parts: partsOf(p), createdAt: p.iat ? new Date(p.iat * 1000) : null, expiresAt, lastUsedAt: null,
    ongoing: false, duration: 'ongoing', status: 'revoked', endedAt: new Date(), endedBy: 'subject',
  };
}

/** A stable id for one authorization detail in a grant: the hash of its canonical JSON. */
export function detailHash(detail: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(detail)).digest('base64url');
}
export type Grants = ReturnType<typeof createGrants>;

/** A grant whose end was brought forward: what it holds, and its end before and after. */
export interface ShortenedGrant { clientId: string; parts: ConsentScope; expiresAt: Date; previousExpiresAt: Date | null }

/** One part of a grant the person can withdraw on its own. */
export type GrantPart = { kind: 'scope'; scope: string } | { kind: 'claim'; claim: string } | { kind: 'resource'; resource: string; scope: string } | { kind: 'detail'; hash: string };

/** Reads a part from the consents page's form value: `scope:profile`, `claim:email`, `resource:<uri> <scope>`, `detail:<hash>`. */
export function parseGrantPart(value: string | undefined): GrantPart | undefined {
  const m = /^(scope|claim|resource|detail):(.{1,500})$/.exec(value ?? '');
  if (!m) return undefined;
  if (m[1] === 'detail') return /^[A-Za-z0-9_-]{43}$/.test(m[2]!) ? { kind: 'detail', hash: m[2]! } : undefined;
  if (m[1] === 'scope') return /^[\x21-\x7e]{1,100}$/.test(m[2]!) && m[2] !== 'openid' ? { kind: 'scope', scope: m[2]! } : undefined;
  if (m[1] === 'claim') return /^[\x21-\x7e]{1,100}$/.test(m[2]!) ? { kind: 'claim', claim: m[2]! } : undefined;
  const [resource, scope] = m[2]!.split(' ');
  return resource && scope ? { kind: 'resource', resource, scope } : undefined;
}

