import { sql, type Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import type { Delegations, DelegationEndedBy } from './delegations.ts';
import type { Grants } from './grants.ts';
import type { ConsentLedger } from './ledger.ts';

/**
 * Ending a delegation ends what the delegate allowed under it: their authority to decide for the
 * person is gone, so the grants they gave end too (tokens at once), each recorded in the person's
 * consent history. New approvals already stop with the delegation itself.
 */
export async function endDelegation(
  deps: { delegations: Delegations; grants: Grants; ledger: ConsentLedger },
  id: string, how: { by: DelegationEndedBy; reason: string },
): Promise<{ ended: boolean; grantsEnded: number }> {
  const delegation = await deps.delegations.find(id);
  if (!delegation || !(await deps.delegations.end(id, how))) return { ended: false, grantsEnded: 0 };
  const grantsEnded = await endGrantsGivenUnder(deps, id, delegation.delegate, 'the delegation it was given under ended', { endedBy: how.by });
  return { ended: true, grantsEnded };
}

/**
 * A delegation past its end date (valid_until) stops approvals by itself; the grants given under
 * it end here, in the background sweep — as do any an approval racing the delegation's ending
 * wrote just after it ended. Returns how many ended.
 */
export async function endGrantsOfLapsedDelegations(deps: { db: Kysely<Database>; grants: Grants; ledger: ConsentLedger }): Promise<number> {
  const lapsed = await deps.db.selectFrom('delegations as d').innerJoin('consent_grants as g', 'g.delegation_id', 'd.id')
    .select(['d.id', 'd.delegate']).distinct()
    .where((eb) => eb.or([eb('d.valid_until', '<=', sql<Date>`now()`), eb('d.status', '=', 'ended')]))
    .where('g.status', 'in', ['active', 'used']).limit(100).execute();
  let ended = 0;
  for (const d of lapsed) ended += await endGrantsGivenUnder(deps, d.id, d.delegate, 'the delegation it was given under reached its end date', { lapsed: true });
  return ended;
}

async function endGrantsGivenUnder(deps: { grants: Grants; ledger: ConsentLedger }, id: string, delegate: string, reason: string, context: Record<string, unknown>): Promise<number> {
  const grants = await deps.grants.revokeGivenUnder(id, reason);
  for (const g of grants) {
    await deps.ledger.append({
      // Not the delegate's act: the grant ends because their authority did. The context names both.
      subject: g.accountId, clientId: g.clientId, grantId: g.id, action: 'revoke', decision: 'revoked', channel: 'admin',
      requested: g.parts, granted: { scopes: [], claims: [], resources: {}, authorizationDetails: [] },
      context: { reason, delegation: id, delegate, ...context },
    });
  }
  return grants.length;
}
