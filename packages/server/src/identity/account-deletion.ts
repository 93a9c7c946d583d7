import { sql, type Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { accountKey } from './throttle-policy.ts';

/**
 * Deleting an account: every grant, token and session ends, and the person's data is erased,
 * in one transaction. What is kept, and why:
 * - audit_events: the security log the operator must keep; it names the person only by the
 *   opaque account id (and is append-only);
 * - deleted_accounts: that id, when and why it went, so a record naming it stays explainable;
 * - consent records (the consent ledger, when it exists): the proof of what the person agreed to
 *   that the law requires to be kept. They must name the account by its id WITHOUT a foreign key
 *   that cascades, so that this service never deletes them. ERASED_WITH_ACCOUNT lists the tables
 *   that may cascade from accounts; a test fails when another one does.
 *
 * Protocol records are oidc-provider's (oidc_models): every record whose payload names the account
 * (Session, Grant, AccessToken, RefreshToken, AuthorizationCode, DeviceCode,
 * BackchannelAuthenticationRequest …, Interactions by their session or login result), and anything
 * issued under one of its grants. A token a racing request saves a moment later is still dead:
 * its grant and its account are gone, and oidc-provider refuses both.
 */

/** Tables that reference accounts with ON DELETE CASCADE: personal data erased with the account. */
export const ERASED_WITH_ACCOUNT: readonly string[] = [
  'passkeys', 'totp_credentials', 'recovery_codes', 'login_history', 'session_details', 'identity_verifications',
  'linked_resources', 'consent_grants',
  // CIBA: the person's phones, their request code, the requests about them and who may decide them.
  'authentication_devices', 'ciba_user_codes', 'ciba_requests', 'ciba_request_approvers',
  // Who may act for whom: ends with either account (the ledger keeps who decided, by id).
  'delegations',
];

export type DeletionReason = 'self' | 'admin';

export interface DeletionCounts {
  sessions: number;
  grants: number;
  /** Access and refresh tokens, codes, device and CIBA requests: everything else issued to the account. */
  tokens: number;
  interactions: number;
  passkeys: number;
  identityVerifications: number;
}

export interface AccountDeletion {
  accountId: string;
  deletedAt: Date;
  counts: DeletionCounts;
}

export function createAccountDeletion(db: Kysely<Database>) {
  return {
    /**
     * Deletes the account and everything about it (see above). Undefined when there is no such
     * account, for instance because it was deleted already: deleting twice is harmless.
     */
    async deleteAccount(accountId: string, reason: DeletionReason): Promise<AccountDeletion | undefined> {
      return db.transaction().execute(async (trx) => {
        // The lock makes a concurrent second deletion wait, then find nothing.
        const account = await trx.selectFrom('accounts')
          .select(['id', 'email', sql<string | null>`claims->>'email'`.as('claimed_email')])
          .where('id', '=', accountId).forUpdate().executeTakeFirst();
        if (!account) return undefined;

        const grantIds = (await trx.selectFrom('oidc_models').select('id')
          .where('model', '=', 'Grant').where(sql<string>`payload->>'accountId'`, '=', accountId).execute()).map((r) => r.id);
        // One pass over oidc_models (no index covers every model's accountId; deletion is rare and
        // the table holds only live records).
        const protocol = await trx.deleteFrom('oidc_models').where((eb) => eb.or([
          eb(sql<string>`payload->>'accountId'`, '=', accountId),
          eb(sql<string>`payload->'session'->>'accountId'`, '=', accountId),
          eb(sql<string>`payload->'result'->'login'->>'accountId'`, '=', accountId),
          ...(grantIds.length ? [eb('grant_id', 'in', grantIds)] : []),
        ])).returning('model').execute();

        const emails = [...new Set([account.email, account.claimed_email].filter((e): e is string => !!e).map((e) => e.toLowerCase()))];
        await trx.deleteFrom('webauthn_challenges').where('account_id', '=', accountId).execute();
        await trx.deleteFrom('email_challenges').where((eb) => eb.or([
          eb('account_id', '=', accountId), ...(emails.length ? [eb('email', 'in', emails)] : []),
        ])).execute();
        await trx.deleteFrom('throttle').where('key', '=', accountKey(accountId)).execute();
        if (emails.length) await trx.deleteFrom('mail_outbox').where(sql<string>`lower(recipient)`, 'in', emails).execute();
        await trx.deleteFrom('session_details').where('account_id', '=', accountId).execute();
        await trx.deleteFrom('login_history').where('account_id', '=', accountId).execute();
        const verifications = await trx.deleteFrom('identity_verifications').where('account_id', '=', accountId).executeTakeFirst();
        const passkeys = await trx.deleteFrom('passkeys').where('account_id', '=', accountId).executeTakeFirst();
        await trx.deleteFrom('totp_credentials').where('account_id', '=', accountId).execute();
        await trx.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
        await trx.deleteFrom('accounts').where('id', '=', accountId).execute();
        const tombstone = await trx.insertInto('deleted_accounts').values({ id: accountId, reason })
          .onConflict((oc) => oc.column('id').doUpdateSet({ reason, deleted_at: sql<Date>`now()` }))
          .returning('deleted_at').executeTakeFirstOrThrow();

        const count = (model: string) => protocol.filter((r) => r.model === model).length;
        const sessions = count('Session');
        const grants = count('Grant');
        const interactions = count('Interaction');
        return {
          accountId,
          deletedAt: tombstone.deleted_at,
          counts: {
            sessions, grants, interactions, tokens: protocol.length - sessions - grants - interactions,
            passkeys: Number(passkeys.numDeletedRows), identityVerifications: Number(verifications.numDeletedRows),
          },
        };
      });
    },

    /** Whether an id belonged to an account that was deleted (and when, and why). */
    async wasDeleted(accountId: string): Promise<{ deletedAt: Date; reason: DeletionReason } | undefined> {
      const row = await db.selectFrom('deleted_accounts').select(['deleted_at', 'reason']).where('id', '=', accountId).executeTakeFirst();
      return row && { deletedAt: row.deleted_at, reason: row.reason };
    },
  };
}
export type AccountDeletions = ReturnType<typeof createAccountDeletion>;
