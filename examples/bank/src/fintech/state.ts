import type { Connection } from './connection.ts';
import type { PendingAuthorization } from './fapi-client.ts';
import type { TransferInput } from './transfer-form.ts';

/** What the person asked the bank for, while the browser is away at Sekisho. */
export type Pending = PendingAuthorization & (
  | { kind: 'connect' }
  /** The Idempotency-Key is chosen once, before the browser leaves: a retried POST uses the same. */
  | { kind: 'transfer'; transfer: TransferInput; idempotencyKey: string }
);

/** How a transfer ended, as the result page shows it (no token, no key). */
export interface TransferOutcome {
  /** This app's id of the attempt (the result page's URL). */
  id: string;
  at: number;
  input: TransferInput;
  status: 'done' | 'not_made';
  /** Why it was not made: a short code (insufficient_funds, access_denied, consent_used, other_person…). */
  problem?: string;
  bankTransferId?: string;
  executedAt?: string;
  /** The account paid from, as the person picked it at the bank (Sekisho's label). */
  debtorLabel?: string;
}

/** One-shot messages on the next page. */
export type Notice = 'connected' | 'disconnected' | 'ended' | 'denied' | 'disconnect_failed' | { error: string };

/** Everything the app keeps for one browser. */
export interface BrowserState {
  connection?: Connection;
  pending?: Pending;
  notice?: Notice;
  /** Newest first, at most a few. */
  transfers: TransferOutcome[];
}
