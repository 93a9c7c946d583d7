import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import { z } from 'zod';
import type { Database, IdentityVerificationsTable } from '../storage/schema.ts';
import {
  IN_PERSON_METHODS, dateTimeSchema, evidenceListSchema, identifierSchema, verifiedClaimsSchema,
  type Evidence, type VerifiedClaims,
} from './identity-evidence.ts';

/**
 * Identity assurance: how well an account's owner was proven to be who they say (NIST SP 800-63A).
 *
 *   ial1  self-asserted: nothing was checked (every account, without a record)
 *   ial2  verified: evidence checked, remotely or in person
 *   ial3  verified in person (or supervised remote): a trained person saw them with the evidence
 *
 * A verification is recorded with its evidence (how, by whom, when) in the shape OpenID Connect
 * for Identity Assurance releases as `verified_claims` (verified-claims.ts). Records are never
 * rewritten: a new verification is added, a withdrawn one is marked revoked.
 */
export type IdentityLevel = 'ial1' | 'ial2' | 'ial3';

export interface IdentityVerification {
  id: string;
  accountId: string;
  level: IdentityLevel;
  trustFramework: string;
  assuranceLevel: string | null;
  verificationProcess: string | null;
  method: string;
  evidence: Evidence[];
  verifiedClaims: VerifiedClaims;
  verifier: string;
  verifiedAt: Date;
  recordedAt: Date;
  revokedAt: Date | null;
}

/** Why recording failed; `issues` name the field. */
export class IdentityAssuranceError extends Error {
  readonly code: 'invalid-input' | 'unknown-account';
  readonly issues: string[];
  constructor(code: 'invalid-input' | 'unknown-account', issues: string[] = []) {
    super(code === 'unknown-account' ? 'no such account' : `invalid identity verification: ${issues.join('; ')}`);
    this.code = code;
    this.issues = issues;
  }
}

/** A verification may be dated a little ahead (clocks differ), never in the future. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

export const verificationInputSchema = z.object({
  accountId: z.string().min(1).max(100),
  level: z.enum(['ial1', 'ial2', 'ial3']),
  trustFramework: identifierSchema,
  method: identifierSchema,
  evidence: evidenceListSchema,
  verifiedClaims: verifiedClaimsSchema,
  verifier: z.string().trim().min(1).max(200),
  verifiedAt: z.union([z.date(), dateTimeSchema.transform((s) => new Date(s))])
    .refine((d) => !Number.isNaN(d.getTime()), 'not a date')
    .refine((d) => d.getTime() <= Date.now() + CLOCK_SKEW_MS, 'in the future')
    .refine((d) => d.getUTCFullYear() >= 1900, 'before 1900'),
  assuranceLevel: identifierSchema.optional(),
  verificationProcess: z.string().trim().min(1).max(200).optional(),
}).strict()
  .refine((v) => v.level === 'ial1' || v.evidence.length > 0, { path: ['evidence'], message: 'ial2 and ial3 need the evidence that was checked' })
  .refine((v) => v.level !== 'ial3' || IN_PERSON_METHODS.has(v.method), {
    path: ['method'], message: `ial3 needs in-person or supervised remote proofing (${[...IN_PERSON_METHODS].join(', ')})`,
  });
export type VerificationInput = z.input<typeof verificationInputSchema>;

const toVerification = (r: Selectable<IdentityVerificationsTable>): IdentityVerification => ({
  id: r.id, accountId: r.account_id, level: r.level, trustFramework: r.trust_framework, assuranceLevel: r.assurance_level,
  verificationProcess: r.verification_process, method: r.method, evidence: r.evidence as Evidence[], verifiedClaims: r.verified_claims,
  verifier: r.verifier, verifiedAt: r.verified_at, recordedAt: r.recorded_at, revokedAt: r.revoked_at,
});

export function createIdentityAssurance(db: Kysely<Database>) {
  /** Non-revoked verifications, strongest first: ial3 > ial2 > ial1, then the newest. */
  const active = (accountId: string) => db.selectFrom('identity_verifications').selectAll()
    .where('account_id', '=', accountId).where('revoked_at', 'is', null)
    // 'ial3' > 'ial2' > 'ial1' as text, so the level sorts by its name.
    .orderBy('level', 'desc').orderBy('verified_at', 'desc').orderBy('recorded_at', 'desc').orderBy('id');
  const current = async (accountId: string): Promise<IdentityVerification | undefined> => {
    const row = await active(accountId).limit(1).executeTakeFirst();
    return row && toVerification(row);
  };

  return {
    /** Records a verification. Throws IdentityAssuranceError on invalid input or an unknown account. */
    async record(input: VerificationInput): Promise<IdentityVerification> {
      const parsed = verificationInputSchema.safeParse(input);
      if (!parsed.success) {
        throw new IdentityAssuranceError('invalid-input', parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`));
      }
      const v = parsed.data;
      try {
        const row = await db.insertInto('identity_verifications').values({
          id: randomUUID(), account_id: v.accountId, level: v.level, trust_framework: v.trustFramework,
          assurance_level: v.assuranceLevel ?? null, verification_process: v.verificationProcess ?? null, method: v.method,
          evidence: JSON.stringify(v.evidence), verified_claims: JSON.stringify(v.verifiedClaims), verifier: v.verifier, verified_at: v.verifiedAt,
        }).returningAll().executeTakeFirstOrThrow();
        return toVerification(row);
      } catch (err) {
        // 23503: foreign_key_violation, the account does not exist (or was deleted meanwhile).
        if ((err as { code?: string }).code === '23503' || /foreign key/i.test(String((err as Error).message))) throw new IdentityAssuranceError('unknown-account');
        throw err;
      }
    },

    /** The strongest verification in force, or undefined (the account is self-asserted, ial1). */
    current,

    /** Every verification in force, strongest first: the candidates `verified_claims` is released from. */
    async active(accountId: string): Promise<IdentityVerification[]> {
      return (await active(accountId).execute()).map(toVerification);
    },

    /** All verifications, revoked ones included, newest first (the operator's view). */
    async list(accountId: string): Promise<IdentityVerification[]> {
      const rows = await db.selectFrom('identity_verifications').selectAll().where('account_id', '=', accountId)
        .orderBy('recorded_at', 'desc').orderBy('id').execute();
      return rows.map(toVerification);
    },

    /** Withdraws a verification (a forged document, a mistake); false when there is none in force with that id. */
    async revoke(accountId: string, id: string): Promise<boolean> {
      const row = await db.updateTable('identity_verifications').set({ revoked_at: sql<Date>`now()` })
        .where('account_id', '=', accountId).where('id', '=', id).where('revoked_at', 'is', null)
        .returning('id').executeTakeFirst();
      return row !== undefined;
    },

    /** The account's identity assurance level: ial1 (self-asserted) when nothing is in force. */
    async levelOf(accountId: string): Promise<IdentityLevel> {
      return (await current(accountId))?.level ?? 'ial1';
    },
  };
}
export type IdentityAssurance = ReturnType<typeof createIdentityAssurance>;
