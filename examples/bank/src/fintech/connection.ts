import type { DPoPHandle } from 'oauth4webapi';
import { addDays, tokyoDate } from '../bank-data.ts';
import type { BankAccount, BankClient, BankResult, BankTransaction, Money } from './bank-client.ts';
import { FapiError, type FapiClient, type Tokens } from './fapi-client.ts';

/** A person's bank connection: a lasting account_information consent, held on the server only. */
export interface Connection {
  sub?: string;
  grantId?: string;
  tokens: Tokens;
  /** The key the access and refresh tokens are bound to; it never leaves this process. */
  dpop: DPoPHandle;
  /** The accounts the person picked at the bank, as granted: Sekisho's label, the bank's ref. */
  accounts: Array<{ ref: string; label: string }>;
  connectedAt: number;
}

/** One account on the dashboard: what the bank said, and what could not be read. */
export interface AccountSummary {
  account: BankAccount;
  label?: string;
  balance?: Money;
  transactions?: BankTransaction[];
}

/** The dashboard's data, or why there is none. */
export type Dashboard =
  | { ok: true; accounts: AccountSummary[] }
  /** `ended`: the bank no longer honours the consent (withdrawn at the bank, or revoked); the connection is gone. */
  | { ok: false; problem: 'ended' | 'unavailable' | 'refused' };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The accounts of granted account_information details: `{ ref, label }` of each account the person picked. */
export function grantedAccounts(details: unknown[]): Array<{ ref: string; label: string }> {
  const out = new Map<string, string>();
  for (const d of details) {
    if (!isObject(d) || d.type !== 'account_information' || !Array.isArray(d.accounts)) continue;
    for (const a of d.accounts) if (isObject(a) && typeof a.ref === 'string') out.set(a.ref, typeof a.label === 'string' ? a.label : a.ref);
  }
  return [...out].map(([ref, label]) => ({ ref, label }));
}

/**
 * Calls to the bank on a connection's behalf, keeping its access token fresh: refreshed shortly
 * before it expires, and once more if the bank refuses it anyway. A refresh Sekisho refuses
 * (`invalid_grant`: the person withdrew the consent, or the app disconnected) ends the connection.
 */
export function createConnector(options: { fapi: FapiClient; bank: BankClient; recentDays: number }) {
  const { fapi, bank } = options;

  /** Refreshes the tokens; false when the consent has ended (the caller forgets the connection). */
  async function refresh(c: Connection): Promise<boolean | 'unavailable'> {
    if (!c.tokens.refreshToken) return false;
    try {
      c.tokens = await fapi.refresh(c.tokens.refreshToken, c.dpop);
      return true;
    } catch (err) {
      return err instanceof FapiError && (err.error === 'invalid_grant' || err.error === 'unauthorized_client') ? false : 'unavailable';
    }
  }

  /** `call` with a fresh token; a refused token is refreshed and the call made once more. */
  async function withToken<T>(c: Connection, call: (token: string) => Promise<BankResult<T>>): Promise<BankResult<T> | { ok: false; kind: 'ended' }> {
    if (c.tokens.expiresAt - Date.now() < 15_000) {
      const r = await refresh(c);
      if (r === false) return { ok: false, kind: 'ended' };
      if (r === 'unavailable') return { ok: false, kind: 'unavailable' };
    }
    const first = await call(c.tokens.accessToken);
    if (first.ok || first.kind !== 'invalid_token') return first;
    const r = await refresh(c);
    if (r === false) return { ok: false, kind: 'ended' };
    if (r === 'unavailable') return { ok: false, kind: 'unavailable' };
    const second = await call(c.tokens.accessToken);
    return !second.ok && second.kind === 'invalid_token' ? { ok: false, kind: 'ended' } : second;
  }

  return {
    withToken,

    /** The accounts with their balances and the last `recentDays` days of transactions. */
    async dashboard(c: Connection): Promise<Dashboard> {
      const listed = await withToken(c, (t) => bank.accounts(t, c.dpop));
      if (!listed.ok) return { ok: false, problem: listed.kind === 'ended' ? 'ended' : listed.kind === 'unavailable' ? 'unavailable' : 'refused' };
      const from = addDays(tokyoDate(), -options.recentDays);
      const accounts: AccountSummary[] = [];
      for (const account of listed.value) {
        const balance = await withToken(c, (t) => bank.balance(t, c.dpop, account.id));
        if (!balance.ok && balance.kind === 'ended') return { ok: false, problem: 'ended' };
        const transactions = await withToken(c, (t) => bank.transactions(t, c.dpop, account.id, from));
        if (!transactions.ok && transactions.kind === 'ended') return { ok: false, problem: 'ended' };
        const label = c.accounts.find((a) => a.ref === account.id)?.label;
        accounts.push({
          account, ...(label ? { label } : {}),
          ...(balance.ok ? { balance: balance.value } : {}), ...(transactions.ok ? { transactions: transactions.value } : {}),
        });
      }
      return { ok: true, accounts };
    },
  };
}
export type Connector = ReturnType<typeof createConnector>;
