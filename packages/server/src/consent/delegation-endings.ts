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
  const reason = 'the delegation it was given under ended';
  const grants = await deps.grants.revokeGivenUnder(id, reason);
  for (const g of grants) {
    await deps.ledger.append({
      subject: g.accountId, actor: delegation.delegate, clientId: g.clientId, grantId: g.id, action: 'revoke', decision: 'revoked', channel: 'admin',
      requested: g.parts, granted: { scopes: [], claims: [], resources: {}, authorizationDetails: [] },
      context: { reason, delegation: id, endedBy: how.by },
    });
  }
  return { ended: true, grantsEnded: grants.length };
}
