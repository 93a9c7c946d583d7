import { ACCOUNT_REF, accountRef, type Account, type BankData, type Transaction } from '../bank-data.ts';

/** Money to move from one account (here) to another (here or elsewhere). */
export interface Payment {
  debtorRef: string;
  amount: number;
  /** The payee's account (a ref); credited when the bank holds it. */
  creditorRef: string;
  /** The payee's name, as the payer's statement shows it. */
  creditorName: string;
  /** ISO 8601 with +09:00, and the Japan date of it. */
  bookedAt: string;
  date: string;
  transferId: string;
}

/** The debit booked, or why nothing moved. */
export type PaymentResult = { ok: true; debit: Transaction } | { ok: false; reason: 'unknown_debtor' | 'insufficient_funds' };

/**
 * The bank's accounts in memory: lookups, a statement for a period, and moving money. Checked at
 * start (refs in the bank's format, made of their parts, no account twice) so that a mistake in the
 * data stops the API at start, not on a request. One process, no persistence: the example's
 * balances start again from the sample data on every start.
 */
export function createLedger(data: BankData) {
  const accounts = new Map<string, Account>();
  for (const a of data.accounts) {
    if (!ACCOUNT_REF.test(a.ref) || a.ref !== accountRef(a.bankCode, a.branchCode, a.accountNumber)) throw new TypeError(`bank data: account ref ${JSON.stringify(a.ref)} is not bank-branch-number`);
    if (a.bankCode !== data.bank.code) throw new TypeError(`bank data: ${a.ref} is not at bank ${data.bank.code}`);
    if (accounts.has(a.ref)) throw new TypeError(`bank data: ${a.ref} twice`);
    if (!Number.isSafeInteger(a.balance) || a.balance < 0) throw new TypeError(`bank data: ${a.ref} has a bad balance`);
    accounts.set(a.ref, structuredClone(a));
  }

  return {
    bank: data.bank,
    account: (ref: string): Account | undefined => accounts.get(ref),

    /** The account's transactions booked from `from` to `to` (YYYY-MM-DD, both included), newest first. */
    statement(ref: string, from: string, to: string): Transaction[] | undefined {
      const account = accounts.get(ref);
      if (!account) return undefined;
      return account.transactions.filter((t) => t.date >= from && t.date <= to).reverse();
    },

    /**
     * Debits the payer and, when the payee banks here too, credits the payee: both or neither
     * (this runs without an await, so no other request sees half of it).
     */
    pay(p: Payment): PaymentResult {
      const debtor = accounts.get(p.debtorRef);
      if (!debtor) return { ok: false, reason: 'unknown_debtor' };
      if (debtor.balance < p.amount) return { ok: false, reason: 'insufficient_funds' };
      debtor.balance -= p.amount;
      const debit: Transaction = {
        id: `t-${p.transferId}-d`, bookedAt: p.bookedAt, date: p.date, description: `振込 ${p.creditorName}`.slice(0, 48),
        amount: -p.amount, balanceAfter: debtor.balance,
      };
      debtor.transactions.push(debit);
      const creditor = p.creditorRef !== p.debtorRef ? accounts.get(p.creditorRef) : undefined;
      if (creditor) {
        creditor.balance += p.amount;
        creditor.transactions.push({
          id: `t-${p.transferId}-c`, bookedAt: p.bookedAt, date: p.date, description: `振込 ${debtor.holderName}`,
          amount: p.amount, balanceAfter: creditor.balance,
        });
      }
      return { ok: true, debit };
    },
  };
}
export type Ledger = ReturnType<typeof createLedger>;
