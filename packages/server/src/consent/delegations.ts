import { randomBytes } from 'node:crypto';
import { sql, type ExpressionBuilder, type Kysely, type Selectable } from 'kysely';
import { z } from 'zod';
import type { Database, DelegationsTable } from '../storage/schema.ts';
import { DelegationConstraints } from './delegation-constraints.ts';

/**
 * Delegations: who may decide for whom. An operator registers one from evidence they checked (a
 * family register extract, a court's appointment, a power of attorney); the delegate may then
 * approve requests for the principal, within the constraints. Whether one is active is decided by
 * the database at each call, never remembered, so an ended or lapsed delegation stops at once.
 */

export const RELATIONSHIPS = ['parent', 'legal_guardian', 'appointed_proxy', 'caregiver'] as const;
export type Relationship = (typeof RELATIONSHIPS)[number];
/** Who ended a delegation: one of its two people, or an operator. */
export type DelegationEndedBy = 'principal' | 'delegate' | 'operator';

export interface Delegation {
  id: string;
  principal: string;
  delegate: string;
  relationship: Relationship;
  /** A reference to the document checked (its number, the file it is kept in), never the document. */
  evidence: string;
  verifiedBy: string;
  verifiedAt: Date;
  constraints: DelegationConstraints;
  validFrom: Date;
  validUntil: Date | null;
  status: 'active' | 'ended';
  endedAt: Date | null;
  endedBy: string | null;
  endReason: string | null;
  createdAt: Date;
}

/** A delegation with the two people's usernames and names, for pages and listings. */
export interface DelegationListing extends Delegation {
  principalUsername: string;
  principalName: string | null;
  delegateUsername: string;
  delegateName: string | null;
}

/** What an operator registers: a delegation's own facts, without what the store adds (id, status, ending). */
export type DelegationInput = Pick<Delegation, 'principal' | 'delegate' | 'relationship' | 'evidence' | 'verifiedBy' | 'verifiedAt' | 'constraints' | 'validFrom'>
  & { validUntil?: Date | undefined };

export type DelegationErrorCode = 'invalid-input' | 'self-delegation' | 'invalid-period' | 'unknown-account' | 'duplicate';

/** Why a delegation was refused; each issue names the input field. */
export class DelegationError extends Error {
  readonly code: DelegationErrorCode;
  readonly issues: Array<{ field: string; message: string }>;
  constructor(code: DelegationErrorCode, issues: Array<{ field: string; message: string }>) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
    this.code = code;
    this.issues = issues;
  }
}

const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\u2028\u2029]/u;
const printable = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `at most ${max} characters`)
  .refine((s) => !UNPRINTABLE.test(s), 'must not contain control or text-direction characters');
const accountId = z.string().min(1, 'must not be empty').max(100);
// A clock a little ahead of ours is not a verification in the future.
const SKEW_MS = 5 * 60_000;

const inputSchema = z.object({
  principal: accountId,
  delegate: accountId,
  relationship: z.enum(RELATIONSHIPS),
  evidence: printable(500),
  verifiedBy: printable(200),
  verifiedAt: z.date().refine((d) => d.getTime() <= Date.now() + SKEW_MS, 'must not be in the future'),
  constraints: DelegationConstraints,
  validFrom: z.date(),
  validUntil: z.date().optional(),
}).strict();
const endSchema = z.object({ by: z.enum(['principal', 'delegate', 'operator']), reason: printable(500) }).strict();

// Registering takes this advisory lock (with the pair's hash), so two registrations of one pair take turns.
const DELEGATION_LOCK = 727_274_013;

const toDelegation = (r: Selectable<DelegationsTable>): Delegation => {
  // Constraints the schema no longer accepts allow nothing but signing in: fail closed.
  const constraints = DelegationConstraints.safeParse(r.constraints);
  return {
    id: r.id, principal: r.principal, delegate: r.delegate, relationship: r.relationship, evidence: r.evidence,
    verifiedBy: r.verified_by, verifiedAt: r.verified_at, constraints: constraints.success ? constraints.data : {},
    validFrom: r.valid_from, validUntil: r.valid_until, status: r.status, endedAt: r.ended_at, endedBy: r.ended_by,
    endReason: r.end_reason, createdAt: r.created_at,
  };
};

/** Active at `at`, or at the database's now when no time is given (one clock for every server process). */
function activeAt(at: Date | undefined) {
  return (eb: ExpressionBuilder<Database, 'delegations'>) => {
    const when = at ?? sql<Date>`now()`;
    return eb.and([
      eb('delegations.status', '=', 'active'),
      eb('delegations.valid_from', '<=', when),
      eb.or([eb('delegations.valid_until', 'is', null), eb('delegations.valid_until', '>', when)]),
    ]);
  };
}

function parseInput(input: DelegationInput) {
  const parsed = inputSchema.safeParse(input);
  if (!parsed.success) {
    throw new DelegationError('invalid-input', parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.') || 'input', message: i.message })));
  }
  const v = parsed.data;
  if (v.principal === v.delegate) throw new DelegationError('self-delegation', [{ field: 'delegate', message: 'must be another account than the principal' }]);
  if (v.validUntil && v.validUntil.getTime() <= v.validFrom.getTime()) {
    throw new DelegationError('invalid-period', [{ field: 'validUntil', message: 'must be after the start of the delegation' }]);
  }
  return v;
}

export function createDelegations(db: Kysely<Database>) {
  const listing = () => db.selectFrom('delegations')
    .innerJoin('accounts as p', 'p.id', 'delegations.principal')
    .innerJoin('accounts as d', 'd.id', 'delegations.delegate')
    .selectAll('delegations')
    .select(['p.username as principal_username', 'd.username as delegate_username'])
    .select([sql<string | null>`p.claims->>'name'`.as('principal_name'), sql<string | null>`d.claims->>'name'`.as('delegate_name')])
    // Active ones first, then the newest.
    .orderBy('delegations.status').orderBy('delegations.created_at', 'desc').orderBy('delegations.id');
  type ListingRow = Selectable<DelegationsTable> & { principal_username: string; delegate_username: string; principal_name: string | null; delegate_name: string | null };
  const toListing = (r: ListingRow): DelegationListing => ({
    ...toDelegation(r), principalUsername: r.principal_username, principalName: r.principal_name, delegateUsername: r.delegate_username, delegateName: r.delegate_name,
  });

  return {
    /** Registers a delegation. Throws DelegationError: invalid-input, self-delegation, invalid-period, unknown-account, duplicate. */
    async register(input: DelegationInput): Promise<Delegation> {
      const v = parseInput(input);
      try {
        return await db.transaction().execute(async (trx) => {
          await sql`SELECT pg_advisory_xact_lock(${DELEGATION_LOCK}, hashtext(${`${v.principal} ${v.delegate}`}))`.execute(trx);
          const found = new Set((await trx.selectFrom('accounts').select('id').where('id', 'in', [v.principal, v.delegate]).execute()).map((a) => a.id));
          const unknown = (['principal', 'delegate'] as const).filter((field) => !found.has(v[field]));
          if (unknown.length) throw new DelegationError('unknown-account', unknown.map((field) => ({ field, message: 'no such account' })));
          // The same two people in the same relationship, for a time that overlaps this one.
          const overlapping = await trx.selectFrom('delegations').select('id')
            .where('principal', '=', v.principal).where('delegate', '=', v.delegate).where('relationship', '=', v.relationship).where('status', '=', 'active')
            .where((eb) => eb.or([eb('valid_until', 'is', null), eb('valid_until', '>', v.validFrom)]))
            .$if(v.validUntil !== undefined, (q) => q.where('valid_from', '<', v.validUntil!))
            .executeTakeFirst();
          if (overlapping) {
            throw new DelegationError('duplicate', [{ field: 'relationship', message: `the delegate already holds this delegation for the principal (${overlapping.id}) for an overlapping time` }]);
          }
          const row = await trx.insertInto('delegations').values({
            id: `dlg_${randomBytes(16).toString('base64url')}`, principal: v.principal, delegate: v.delegate, relationship: v.relationship,
            evidence: v.evidence, verified_by: v.verifiedBy, verified_at: v.verifiedAt, constraints: JSON.stringify(v.constraints),
            valid_from: v.validFrom, valid_until: v.validUntil ?? null,
          }).returningAll().executeTakeFirstOrThrow();
          return toDelegation(row);
        });
      } catch (err) {
        // 23503: foreign_key_violation, an account deleted between the check and the insert.
        if ((err as { code?: string }).code === '23503') throw new DelegationError('unknown-account', [{ field: 'principal', message: 'no such account' }]);
        throw err;
      }
    },

    async find(id: string): Promise<Delegation | undefined> {
      if (typeof id !== 'string' || id.length > 100) return undefined;
      const row = await db.selectFrom('delegations').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toDelegation(row);
    },

    /** The delegations that let someone act for `principal` now (or at `at`). */
    async activeForPrincipal(principal: string, at?: Date): Promise<Delegation[]> {
      const rows = await db.selectFrom('delegations').selectAll().where('principal', '=', principal).where(activeAt(at)).orderBy('created_at').execute();
      return rows.map(toDelegation);
    },

    /** The delegations that let `delegate` act for someone now (or at `at`). */
    async activeForDelegate(delegate: string, at?: Date): Promise<Delegation[]> {
      const rows = await db.selectFrom('delegations').selectAll().where('delegate', '=', delegate).where(activeAt(at)).orderBy('created_at').execute();
      return rows.map(toDelegation);
    },

    /** The re-check at the moment a delegate approves: still active, and still between these two people. */
    async isActive(id: string, principal: string, delegate: string): Promise<boolean> {
      const row = await db.selectFrom('delegations').select('id')
        .where('id', '=', id).where('principal', '=', principal).where('delegate', '=', delegate).where(activeAt(undefined)).executeTakeFirst();
      return row !== undefined;
    },

    /** Both sides of a person's delegations, ended ones included (active first, then newest). */
    async listForAccount(accountId: string): Promise<{ actingForMe: DelegationListing[]; iActFor: DelegationListing[] }> {
      const [actingForMe, iActFor] = await Promise.all([
        listing().where('delegations.principal', '=', accountId).limit(200).execute(),
        listing().where('delegations.delegate', '=', accountId).limit(200).execute(),
      ]);
      return { actingForMe: actingForMe.map(toListing), iActFor: iActFor.map(toListing) };
    },

    /** Every delegation, for operators (active first, then newest). */
    async list(limit = 1000): Promise<DelegationListing[]> {
      return (await listing().limit(limit).execute()).map(toListing);
    },

    /** Ends a delegation in one statement; false when it was already ended (or there is none). Throws DelegationError on a bad reason. */
    async end(id: string, how: { by: DelegationEndedBy; reason: string }): Promise<boolean> {
      const parsed = endSchema.safeParse(how);
      if (!parsed.success) throw new DelegationError('invalid-input', parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.'), message: i.message })));
      const row = await db.updateTable('delegations')
        .set({ status: 'ended', ended_at: sql<Date>`now()`, ended_by: parsed.data.by, end_reason: parsed.data.reason })
        .where('id', '=', id).where('status', '=', 'active').returning('id').executeTakeFirst();
      return row !== undefined;
    },
  };
}
export type Delegations = ReturnType<typeof createDelegations>;

/** Where a delegation stands at `now`: ended, not yet begun, past its end date (lapsed), or active. */
export function delegationState(d: Pick<Delegation, 'status' | 'validFrom' | 'validUntil'>, now: Date): 'active' | 'ended' | 'not-yet' | 'lapsed' {
  if (d.status === 'ended') return 'ended';
  if (d.validFrom > now) return 'not-yet';
  return d.validUntil && d.validUntil <= now ? 'lapsed' : 'active';
}

/**
 * Who may end a delegation from their own page: the delegate may always step down; the principal
 * may end a proxy or caregiver they chose, but not a parent's or a court-appointed guardian's
 * authority (that takes the operator, who checks the evidence that it ended).
 */
export function whoMayEnd(d: Pick<Delegation, 'principal' | 'delegate' | 'relationship'>, accountId: string): 'delegate' | 'principal' | 'operator-only' | 'unrelated' {
  if (d.delegate === accountId) return 'delegate';
  if (d.principal !== accountId) return 'unrelated';
  return d.relationship === 'appointed_proxy' || d.relationship === 'caregiver' ? 'principal' : 'operator-only';
}
