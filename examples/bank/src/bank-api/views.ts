import { jpy, type Account, type BankData, type Transaction } from '../bank-data.ts';

/** An account as `GET /accounts` lists it; `id` is the ref, the identifier in the other URLs. */
export function accountView(bank: BankData['bank'], a: Account) {
  return {
    id: a.ref,
    bank_code: a.bankCode,
    bank_name: bank.name,
    branch_code: a.branchCode,
    branch_name: a.branchName,
    account_type: a.accountType,
    account_number: a.accountNumber,
    holder_name: a.holderName,
    nickname: a.nickname,
    currency: 'JPY',
  };
}

/** A balance as `GET /accounts/{id}/balances` shows it. */
export function balanceView(a: Account, asOf: string) {
  return { account_id: a.ref, available: jpy(a.balance), as_of: asOf };
}

/** A statement line as `GET /accounts/{id}/transactions` shows it. */
export function transactionView(t: Transaction) {
  return { id: t.id, booked_at: t.bookedAt, date: t.date, description: t.description, amount: jpy(t.amount), balance_after: jpy(t.balanceAfter) };
}
