import { randomBytes } from 'node:crypto';
import { accountRef, tokyoDate, tokyoTimestamp } from '../bank-data.ts';
import { createIdempotencyStore } from './idempotency.ts';
import type { Ledger } from './ledger.ts';
import type { TransferRequest } from './transfer-request.ts';

/** A transfer the bank made. */
export interface Transfer {
  id: string;
  clientId: string;
  sub?: string;
  /** Which consent paid for it (see `executionKey` in execute()). */
  executionKey: string;
  request: TransferRequest;
  executedAt: string;
}

/** A transfer to make, with who asks and under which consent. */
export interface ExecuteInput {
  clientId: string;
  sub?: string;
  /**
   * One per consent: Sekisho's `grant_id` when the token carries it, else a hash of the access
   * token, which is the same thing for a transfer (a one-time consent issues one access token and
   * no refresh token).
   */
  executionKey: string;
  idempotencyKey: string;
  fingerprint: string;
  request: TransferRequest;
}

/** What came of it: made (or replayed), or why not. */
export type ExecuteResult =
  | { kind: 'created' | 'replayed'; transfer: Transfer }
  | { kind: 'key_reused' }
  | { kind: 'consent_used'; transferId: string }
  | { kind: 'same_account' | 'unknown_debtor' | 'insufficient_funds' | 'future_date' };

/** The bank's transfer ids: `tr_` and 16 random bytes, base64url. */
export const TRANSFER_ID = /^tr_[A-Za-z0-9_-]{22}$/;

/**
 * Executing transfers, once: the same Idempotency-Key with the same body gets the stored answer;
 * with another body, `key_reused`; a consent that already paid for a transfer, `consent_used`,
 * whatever the key. Every check and the payment run without an await between them, so two
 * requests racing in this process cannot both pay.
 */
export function createTransfers(ledger: Ledger, options: { now?: () => Date; idempotencyTtlSeconds?: number } = {}) {
  const now = options.now ?? (() => new Date());
  const transfers = new Map<string, Transfer>();
  const byConsent = new Map<string, string>();
  const answers = createIdempotencyStore<string>({ ttlSeconds: options.idempotencyTtlSeconds ?? 24 * 3600 });

  return {
    get: (id: string): Transfer | undefined => transfers.get(id),

    execute(input: ExecuteInput): ExecuteResult {
      const previous = answers.lookup(input.clientId, input.idempotencyKey, input.fingerprint, now().getTime());
      if (previous.kind === 'mismatch') return { kind: 'key_reused' };
      if (previous.kind === 'replay') return { kind: 'replayed', transfer: transfers.get(previous.answer)! };
      const used = byConsent.get(input.executionKey);
      if (used) return { kind: 'consent_used', transferId: used };

      const r = input.request;
      const at = now();
      const today = tokyoDate(at);
      // This example executes at once; a date in the future would need a scheduler it does not have.
      if (r.requestedExecutionDate !== undefined && r.requestedExecutionDate !== today) return { kind: 'future_date' };
      const creditorRef = accountRef(r.creditorAccount.bank_code, r.creditorAccount.branch_code, r.creditorAccount.account_number);
      if (creditorRef === r.debtorRef) return { kind: 'same_account' };
      const id = `tr_${randomBytes(16).toString('base64url')}`;
      const bookedAt = tokyoTimestamp(at);
      const paid = ledger.pay({ debtorRef: r.debtorRef, amount: r.amount, creditorRef, creditorName: r.creditorName, bookedAt, date: today, transferId: id });
      if (!paid.ok) return { kind: paid.reason };

      const transfer: Transfer = { id, clientId: input.clientId, executionKey: input.executionKey, request: r, executedAt: bookedAt, ...(input.sub ? { sub: input.sub } : {}) };
      transfers.set(id, transfer);
      byConsent.set(input.executionKey, id);
      answers.save(input.clientId, input.idempotencyKey, input.fingerprint, id, at.getTime());
      return { kind: 'created', transfer };
    },
  };
}
export type Transfers = ReturnType<typeof createTransfers>;

/** A transfer as the API shows it. */
export function transferView(t: Transfer) {
  const r = t.request;
  return {
    id: t.id,
    status: 'executed',
    debtor_account: { ref: r.debtorRef },
    instructed_amount: { currency: 'JPY', amount: String(r.amount) },
    creditor_name: r.creditorName,
    creditor_account: r.creditorAccount,
    ...(r.remittanceInformation !== undefined ? { remittance_information: r.remittanceInformation } : {}),
    ...(r.requestedExecutionDate !== undefined ? { requested_execution_date: r.requestedExecutionDate } : {}),
    executed_at: t.executedAt,
  };
}
