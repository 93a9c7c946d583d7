import { checkUrl, insecureFor } from '@sekisho/example-kit/loopback';
import * as oauth from 'oauth4webapi';
import type { Words } from '../bank-data.ts';

/** An account as the bank API lists it (the members the app reads). */
export interface BankAccount {
  id: string;
  bank_name: Words;
  branch_name: Words;
  account_type: string;
  account_number: string;
  holder_name: string;
  nickname: Words;
}
/** Whole yen as digits, and the currency. */
export interface Money { amount: string; currency: string }
/** A statement line from the bank API. */
export interface BankTransaction { id: string; date: string; description: string; amount: Money; balance_after: Money }
/** A transfer the bank made, as it answers. */
export interface BankTransfer { id: string; status: string; executed_at: string; instructed_amount: Money; creditor_name: string; debtor_account: { ref: string } }

/**
 * How a call went. `invalid_token`: the bank no longer accepts the token (expired, or the consent
 * ended); `problem`: the bank refused with an RFC 9457 problem, whose `type` and `status` are kept.
 */
export type BankResult<T> =
  | { ok: true; value: T; replayed?: boolean }
  | { ok: false; kind: 'invalid_token' | 'forbidden' | 'unavailable' | 'invalid_response' }
  | { ok: false; kind: 'problem'; status: number; type: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The fintech's calls to the bank API, each with the access token and a fresh DPoP proof from the
 * token's key (oauth4webapi's protectedResourceRequest). A DPoP nonce asked for is sent once.
 */
export function createBankClient(options: { bankUrl: string; signal?: AbortSignal }) {
  const base = checkUrl('bankUrl', options.bankUrl).href.replace(/\/$/, '');

  async function call<T>(token: string, dpop: oauth.DPoPHandle, method: string, path: string, read: (body: unknown) => T | undefined,
    body?: unknown, headers: Record<string, string> = {}): Promise<BankResult<T>> {
    const url = new URL(`${base}${path}`);
    const send = () => oauth.protectedResourceRequest(token, method, url, new Headers({ accept: 'application/json', ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }),
      body !== undefined ? JSON.stringify(body) : undefined, { DPoP: dpop, ...insecureFor(url), ...(options.signal ? { signal: options.signal } : {}) });
    let response: Response;
    try {
      try { response = await send(); } catch (err) { if (oauth.isDPoPNonceError(err)) response = await send(); else throw err; }
    } catch (err) {
      if (err instanceof oauth.WWWAuthenticateChallengeError) {
        const error = err.cause[0]?.parameters.error;
        return { ok: false, kind: err.status === 403 || error === 'insufficient_scope' ? 'forbidden' : err.status === 503 ? 'unavailable' : 'invalid_token' };
      }
      return { ok: false, kind: 'unavailable' };
    }
    let json: unknown;
    try { json = await response.json(); } catch { json = undefined; }
    if (response.status === 503) return { ok: false, kind: 'unavailable' };
    if (!response.ok) {
      const type = isObject(json) && typeof json.type === 'string' ? json.type : 'about:blank';
      return { ok: false, kind: 'problem', status: response.status, type };
    }
    const value = read(json);
    if (value === undefined) return { ok: false, kind: 'invalid_response' };
    return { ok: true, value, ...(response.headers.get('idempotent-replayed') === 'true' ? { replayed: true } : {}) };
  }

  const ref = (id: string) => encodeURIComponent(id);

  return {
    accounts: (token: string, dpop: oauth.DPoPHandle) => call(token, dpop, 'GET', '/accounts',
      (b) => (isObject(b) && Array.isArray(b.accounts) && b.accounts.every((a) => isObject(a) && typeof a.id === 'string') ? b.accounts as BankAccount[] : undefined)),
    balance: (token: string, dpop: oauth.DPoPHandle, id: string) => call(token, dpop, 'GET', `/accounts/${ref(id)}/balances`,
      (b) => (isObject(b) && isObject(b.available) && typeof b.available.amount === 'string' ? b.available as unknown as Money : undefined)),
    transactions: (token: string, dpop: oauth.DPoPHandle, id: string, from: string) => call(token, dpop, 'GET', `/accounts/${ref(id)}/transactions?from=${from}`,
      (b) => (isObject(b) && Array.isArray(b.transactions) ? b.transactions as BankTransaction[] : undefined)),
    transfer: (token: string, dpop: oauth.DPoPHandle, body: unknown, idempotencyKey: string) => call(token, dpop, 'POST', '/transfers',
      (b) => (isObject(b) && typeof b.id === 'string' && typeof b.status === 'string' ? b as unknown as BankTransfer : undefined), body, { 'idempotency-key': idempotencyKey }),
  };
}
export type BankClient = ReturnType<typeof createBankClient>;
