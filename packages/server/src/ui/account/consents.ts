import { render, type AccountRequest } from './context.ts';
import { consentsPage } from './consents-pages.ts';

/** How many decisions the page lists; the ledger keeps them all for their retention period. */
const SHOWN = 200;

export async function showConsents(r: AccountRequest) {
  const records = await r.deps.ledger.forSubject(r.account.id, SHOWN);
  const clientNames = new Map<string, string>();
  for (const id of new Set(records.map((x) => x.clientId))) {
    const name = await r.deps.clientName(id);
    if (name) clientNames.set(id, name);
  }
  render(r.ctx, consentsPage(r.lang, { csrf: r.csrf, records, clientNames }));
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
