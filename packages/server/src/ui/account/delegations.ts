import { whoMayEnd } from '../../consent/delegations.ts';
import { endDelegation as endDelegationAndItsGrants } from '../../consent/delegation-endings.ts';
import { t } from '../i18n.ts';
import { render, seeOther, type AccountRequest } from './context.ts';
import { delegationsPage } from './delegations-pages.ts';

export async function showDelegations(r: AccountRequest, error?: string, status = 200) {
  const { actingForMe, iActFor } = await r.deps.delegations.listForAccount(r.account.id);
  render(r.ctx, delegationsPage(r.lang, {
    csrf: r.csrf, accountId: r.account.id, catalogue: r.deps.catalogue, detailTypes: r.deps.detailTypes, actingForMe, iActFor,
    done: typeof r.ctx.query.done === 'string' ? r.ctx.query.done : undefined, ...(error ? { error } : {}),
  }), status);
}

// Stored as the end reason; the page says who ended it in the reader's language instead of showing these.
const REASONS = { delegate: 'the delegate stepped down on their account page', principal: 'the principal ended it on their account page' } as const;

/**
 * Ends a delegation from one of its two people: the delegate steps down, or the principal ends a
 * proxy or caregiver they chose. A parent's or a court-appointed guardian's authority is ended by
 * the operator, who checks the evidence (403 here). Someone else's delegation is not found.
 */
export async function endDelegation(r: AccountRequest) {
  const found = await r.deps.delegations.find((r.form.id ?? '').slice(0, 100));
  const who = found ? whoMayEnd(found, r.account.id) : 'unrelated';
  if (!found || who === 'unrelated') return showDelegations(r, t(r.lang, 'delegations.not-found'), 404);
  if (who === 'operator-only') {
    r.deps.audit.recordInBackground({
      type: 'delegation.ended', outcome: 'failure', subject: found.principal, ip: r.ctx.ip,
      details: { id: found.id, by: 'principal', relationship: found.relationship, reason: 'only the operator may end this relationship', via: 'account' },
    });
    return showDelegations(r, t(r.lang, 'delegations.operator-only'), 403);
  }
  const { ended } = await endDelegationAndItsGrants({ delegations: r.deps.delegations, grants: r.deps.grants, ledger: r.deps.ledger }, found.id, { by: who, reason: REASONS[who] });
  if (!ended) return showDelegations(r, t(r.lang, 'delegations.already-ended'), 409);
  r.deps.audit.recordInBackground({
    type: 'delegation.ended', outcome: 'success', subject: found.principal, ip: r.ctx.ip,
    details: { id: found.id, by: who, delegate: found.delegate, relationship: found.relationship, reason: REASONS[who], via: 'account' },
  });
  seeOther(r.ctx, '/account/delegations', who === 'delegate' ? 'delegation-resigned' : 'delegation-ended');
}
