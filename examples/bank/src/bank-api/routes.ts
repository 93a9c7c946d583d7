import { ACCOUNT_REF, addDays, daysBetween, isRealDate } from '../bank-data.ts';
import { TRANSFER_ID } from './transfers.ts';

/**
 *   GET  /accounts                       the accounts the consent names (list_accounts)
 *   GET  /accounts/{ref}/balances        one account's balance (read_balances)
 *   GET  /accounts/{ref}/transactions    its statement, ?from=YYYY-MM-DD&to=YYYY-MM-DD (read_transactions)
 *   POST /transfers                      one domestic transfer (domestic_transfer), Idempotency-Key required
 *   GET  /transfers/{id}                 a transfer this client made
 */
export type Route =
  | { kind: 'accounts' }
  | { kind: 'balances'; ref: string | undefined }
  | { kind: 'transactions'; ref: string | undefined }
  | { kind: 'transfers' }
  | { kind: 'transfer'; id: string | undefined };

/** The one method each route answers. */
export const METHOD: Record<Route['kind'], 'GET' | 'POST'> = { accounts: 'GET', balances: 'GET', transactions: 'GET', transfers: 'POST', transfer: 'GET' };

/** The route for a path under the API's base path; ids that are not well formed are `undefined` (a 400 once the token is checked). */
export function route(path: string): Route | undefined {
  const parts = path.split('/');
  if (parts[0] !== '') return undefined;
  if (parts.length === 2 && parts[1] === 'accounts') return { kind: 'accounts' };
  if (parts.length === 2 && parts[1] === 'transfers') return { kind: 'transfers' };
  if (parts.length === 3 && parts[1] === 'transfers') return { kind: 'transfer', id: checked(parts[2]!, TRANSFER_ID) };
  if (parts.length === 4 && parts[1] === 'accounts' && (parts[3] === 'balances' || parts[3] === 'transactions')) {
    return { kind: parts[3], ref: checked(parts[2]!, ACCOUNT_REF) };
  }
  return undefined;
}

function checked(segment: string, format: RegExp): string | undefined {
  let value: string;
  try { value = decodeURIComponent(segment); } catch { return undefined; }
  return format.test(value) ? value : undefined;
}

/** A statement's period as asked, or why it cannot be. */
export type Period = { ok: true; from?: string; to: string } | { ok: false; detail: string };

/** Longest statement one request may ask for. */
export const MAX_PERIOD_DAYS = 731;

/**
 * `?from=&to=` of a statement: each at most once, real dates, from ≤ to, to not after today, at
 * most MAX_PERIOD_DAYS long; nothing else in the query. `from` may be absent (the caller
 * decides the default from the consent); `to` defaults to today.
 */
export function period(params: URLSearchParams, today: string): Period {
  const keys = [...params.keys()];
  if (keys.some((k) => k !== 'from' && k !== 'to') || new Set(keys).size !== keys.length) {
    return { ok: false, detail: 'The only query parameters are from and to, each at most once.' };
  }
  const from = params.get('from') ?? undefined;
  const to = params.get('to') ?? today;
  if ((from !== undefined && !isRealDate(from)) || !isRealDate(to)) return { ok: false, detail: 'from and to are dates, YYYY-MM-DD.' };
  if (to > today) return { ok: false, detail: 'to must not be after today (Japan time).' };
  if (from !== undefined && from > to) return { ok: false, detail: 'from must not be after to.' };
  if (from !== undefined && daysBetween(from, to) >= MAX_PERIOD_DAYS) return { ok: false, detail: `At most ${MAX_PERIOD_DAYS} days at a time.` };
  return { ok: true, to, ...(from !== undefined ? { from } : {}) };
}

/** The statement's start when the client gave none: 90 days back, or the consent's window if shorter. */
export function defaultFrom(earliest: string | undefined, to: string): string {
  const ninety = addDays(to, -90);
  return earliest !== undefined && earliest > ninety ? earliest : ninety;
}
