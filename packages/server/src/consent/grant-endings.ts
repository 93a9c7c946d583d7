import type { AuditLog } from '../audit/audit-log.ts';
import type { ConsentChannel, ConsentLedger } from './ledger.ts';
import type { GrantEndedBy, GrantTerms, GrantTermsStore } from './grant-terms.ts';

const NOTHING = { scopes: [], claims: [], resources: {}, authorizationDetails: [] };

/**
 * Grants that end other than through My consents or the Grant Management API — a client revoking
 * its refresh token, a sign-out ending access tied to it, a code used twice, a client removed,
 * time running out — end in their terms and in the ledger too, so the person's history says so.
 */
export function createGrantEndings(deps: { terms: GrantTermsStore; ledger: ConsentLedger; audit: AuditLog }) {
  async function record(t: GrantTerms, how: { by: GrantEndedBy | 'expiry'; channel: ConsentChannel; reason: string }) {
    const expiry = how.by === 'expiry';
    await deps.ledger.append({
      subject: t.accountId, clientId: t.clientId, grantId: t.id, action: expiry ? 'expire' : 'revoke', decision: expiry ? 'expired' : 'revoked',
      channel: how.channel, requested: t.parts, granted: NOTHING, context: { by: how.by, reason: how.reason },
    });
    deps.audit.recordInBackground({ type: expiry ? 'grant.expired' : 'grant.revoked', outcome: 'success', clientId: t.clientId, subject: t.accountId, details: { grantId: t.id, by: how.by, reason: how.reason } });
  }

  return {
    /** A grant oidc-provider (or reuse detection) ended: recorded once, whoever notices first. */
    async ended(grantId: string, by: GrantEndedBy, channel: ConsentChannel, reason: string): Promise<void> {
      const t = await deps.terms.end(grantId, by, reason);
      if (t) await record(t, { by, channel, reason });
    },

    /** Every grant of a removed client. */
    async clientRemoved(clientId: string): Promise<number> {
      const ended = await deps.terms.endForClient(clientId, 'the service was removed by an operator');
      for (const t of ended) await record(t, { by: 'admin', channel: 'admin', reason: 'the service was removed by an operator' });
      return ended.length;
    },

    /** Grants past their expiry, each recorded once (the sweep claims them in one statement). */
    async sweepExpired(): Promise<number> {
      const expired = await deps.terms.sweepExpired();
      for (const t of expired) await record(t, { by: 'expiry', channel: 'admin', reason: 'the consent reached the end date the person chose' });
      return expired.length;
    },
  };
}
export type GrantEndings = ReturnType<typeof createGrantEndings>;
