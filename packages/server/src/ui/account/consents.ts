import { render, seeOther, type AccountRequest } from './context.ts';
import { t } from '../i18n.ts';
import { parseGrantPart } from '../../consent/grants.ts';
import { consentsPage, SHORTEN_DAYS } from './consents-pages.ts';

/** How many decisions the page lists; the ledger keeps them all for their retention period. */
const SHOWN = 200;

export async function showConsents(r: AccountRequest, error?: string, status = 200) {
  const [live, ended, records] = await Promise.all([
    r.deps.grants.listActive(r.account.id), r.deps.grants.listEnded(r.account.id), r.deps.ledger.forSubject(r.account.id, SHOWN),
  ]);
  // A one-time grant whose token was issued is spent: listed with the ended ones (listEnded has it), not as access to withdraw.
  const grants = live.filter((g) => g.status !== 'used');
  const endedGrants = ended;
  const clientNames = new Map<string, string>();
  for (const id of new Set([...live.map((g) => g.clientId), ...ended.map((g) => g.clientId), ...records.map((x) => x.clientId)])) {
    const name = await r.deps.clientName(id, r.lang);
    if (name) clientNames.set(id, name);
  }
  // A consent a guardian or proxy gave for this person names them.
  const actorNames = new Map<string, string>();
  for (const id of new Set([...live, ...ended].map((g) => g.actor).filter((a): a is string => Boolean(a)))) {
    const actor = await r.deps.accounts.findById(id);
    actorNames.set(id, actor?.claims.name ?? actor?.username ?? t(r.lang, 'consents.given-by.removed'));
  }
  render(r.ctx, consentsPage(r.lang, {
    csrf: r.csrf, catalogue: r.deps.catalogue, detailTypes: r.deps.detailTypes, grants, ended: endedGrants, records, clientNames, actorNames,
    done: typeof r.ctx.query.done === 'string' ? r.ctx.query.done : undefined, ...(error ? { error } : {}),
  }), status);
}

/**
 * Brings an ongoing grant's end forward (never later): from the next refresh after the new date
 * the service gets nothing more. A ledger record like any change to a consent, with both dates.
 */
export async function shortenGrant(r: AccountRequest) {
  const grantId = (r.form.id ?? '').slice(0, 100);
  const days = Number(r.form.days);
  if (!grantId || !SHORTEN_DAYS.includes(days)) return showConsents(r, t(r.lang, 'consents.shorten.invalid'), 400);
  const result = await r.deps.grants.shortenExpiry(r.account.id, grantId, new Date(Date.now() + days * 86_400_000));
  if (result === 'not-found') return showConsents(r, t(r.lang, 'consents.not-found'), 404);
  if (result === 'not-earlier') return showConsents(r, t(r.lang, 'consents.shorten.not-earlier'), 409);
  await r.deps.ledger.append({
    subject: r.account.id, clientId: result.clientId, grantId, action: 'replace', decision: 'approved', channel: 'web',
    requested: result.parts, granted: result.parts,
    context: {
      expiresAt: result.expiresAt.toISOString(), previousExpiresAt: result.previousExpiresAt?.toISOString() ?? null,
      ip: r.ctx.ip, userAgent: r.ctx.get('user-agent').slice(0, 300), acr: r.session.acr, lang: r.lang,
    },
  });
  r.deps.audit.recordInBackground({
    type: 'grant.shortened', outcome: 'success', clientId: result.clientId, subject: r.account.id, ip: r.ctx.ip,
    details: { grantId, expiresAt: result.expiresAt.toISOString(), previousExpiresAt: result.previousExpiresAt?.toISOString() ?? null },
  });
  seeOther(r.ctx, '/account/consents', 'grant-shortened');
}

/**
 * Withdraws a whole grant: its refresh tokens, opaque access tokens and codes stop working at
 * once, and the withdrawal is a record in the ledger like the consent was.
 */
export async function revokeGrant(r: AccountRequest) {
  const revoked = await r.deps.grants.revoke(r.account.id, (r.form.id ?? '').slice(0, 100));
  if (!revoked) return showConsents(r, t(r.lang, 'consents.not-found'), 404);
  await r.deps.ledger.append({
    subject: r.account.id, clientId: revoked.clientId, grantId: revoked.id, action: 'revoke', decision: 'revoked', channel: 'web',
    requested: revoked.parts, granted: { scopes: [], claims: [], resources: {}, authorizationDetails: [] },
    context: { ip: r.ctx.ip, userAgent: r.ctx.get('user-agent').slice(0, 300), acr: r.session.acr, lang: r.lang },
  });
  r.deps.audit.recordInBackground({ type: 'grant.revoked', outcome: 'success', clientId: revoked.clientId, subject: r.account.id, ip: r.ctx.ip, details: { grantId: revoked.id, by: 'person' } });
  seeOther(r.ctx, '/account/consents', 'consent-revoked');
}

/** A record's signed receipt, for the person it is about only (anyone else: not found). */
export async function downloadReceipt(r: AccountRequest) {
  const id = typeof r.ctx.query.id === 'string' ? r.ctx.query.id : '';
  const record = await r.deps.ledger.find(id);
  if (!record || record.subject !== r.account.id) {
    r.ctx.status = 404;
    r.ctx.type = 'text/plain';
    r.ctx.body = 'no such receipt';
    return;
  }
  r.ctx.type = 'application/jwt';
  r.ctx.set('Content-Disposition', `attachment; filename="consent-receipt-${record.id}.jwt"`);
  r.ctx.body = await r.deps.receipts.sign(record);
}

/**
 * Withdraws one part of a grant (a scope or a claim): the rest stays allowed, every token issued
 * under the grant ends, and the withdrawal is a ledger record with what remains.
 */
export async function withdrawGrantPart(r: AccountRequest) {
  const part = parseGrantPart(r.form.part);
  const grantId = (r.form.id ?? '').slice(0, 100);
  const result = part && grantId ? await r.deps.grants.withdrawPart(r.account.id, grantId, part) : 'not-found';
  if (result === 'not-found') return showConsents(r, t(r.lang, 'consents.not-found'), 404);
  if (result === 'last') return showConsents(r, t(r.lang, 'consents.last-part'), 409);
  await r.deps.ledger.append({
    subject: r.account.id, clientId: result.clientId, grantId, action: 'revoke', decision: 'revoked', channel: 'web',
    requested: result.removed, granted: result.remaining,
    context: { ip: r.ctx.ip, userAgent: r.ctx.get('user-agent').slice(0, 300), acr: r.session.acr, lang: r.lang, partial: true },
  });
  r.deps.audit.recordInBackground({ type: 'grant.part_revoked', outcome: 'success', clientId: result.clientId, subject: r.account.id, ip: r.ctx.ip, details: { grantId, part: r.form.part } });
  seeOther(r.ctx, '/account/consents', 'part-withdrawn');
}
