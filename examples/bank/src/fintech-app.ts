import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { bi } from '@sekisho/example-kit/html';
import { createPageIo, isCrossSite, one, readForm, sendText } from '@sekisho/example-kit/http-io';
import { checkUrl } from '@sekisho/example-kit/loopback';
import { createCookieSessions, type CookieSession as Session } from '@sekisho/example-kit/sessions';
import { createBankClient, type BankClient } from './fintech/bank-client.ts';
import { createConnector, grantedAccounts, type Connection } from './fintech/connection.ts';
import { createFapiClient, FapiError, type Tokens } from './fintech/fapi-client.ts';
import type { Chrome } from './fintech/layout.ts';
import { dashboardPage, homePage, messagePage, transferPage, transferResultPage } from './fintech/pages.ts';
import type { BrowserState, Pending, TransferOutcome } from './fintech/state.ts';
import { STYLE } from './fintech/style.ts';
import { accountInformationDetail, readTransferForm, transferDetail, type TransferInput } from './fintech/transfer-form.ts';
import type { Words } from './bank-data.ts';
import type { PrivateEcJwk } from './registration.ts';
import { BANK_NAME } from './sample-accounts.ts';

/** Options of {@link createFintechApp}. */
export interface FintechAppOptions {
  /** Sekisho's issuer identifier. */
  issuer: string;
  /** The app's client_id at Sekisho. */
  clientId: string;
  /** The app's ES256 private key (with `kid`); its public half is in the registered `jwks`. */
  privateJwk: PrivateEcJwk;
  /** Where browsers reach the app; the redirect URI is {publicUrl}/callback. https makes cookies Secure. */
  publicUrl: string;
  /** The bank API's base URL. */
  bankApiUrl: string;
  /** The bank API's resource identifier at Sekisho. */
  bankAudience: string;
  /** The bank's name on the pages (default 架空銀行 / Kakuu Bank (fictional)). */
  bankName?: Words;
  appName?: string;
  /** transaction_history_days asked for when connecting (default 90). */
  historyDays?: number;
  /** Days of transactions on the dashboard (default 30). */
  recentDays?: number;
  /** Largest transfer the form accepts, in yen (default 1,000,000). */
  maxTransferAmount?: number;
  /** How long a browser's session and connection last without a visit (default 7 days). */
  sessionSeconds?: number;
  /** Events (no tokens, no account numbers); default: JSON lines on stdout. */
  log?: (event: Record<string, unknown>) => void;
}

/** The running app: its request listener, and what to register. */
export interface FintechApp {
  handler: RequestListener;
  /** The URL to register in `redirect_uris`. */
  redirectUri: string;
  /** Aborts requests in flight (close the HTTP server separately). */
  close(): void;
}

const LOCAL_TRANSFER_ID = /^[A-Za-z0-9_-]{16}$/;

/** JSON with object members sorted, so that two values compare equal whatever their member order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : v));
}

/**
 * The fintech app (server-rendered HTML, Japanese with English): a person connects their bank
 * account through Sekisho (FAPI 2.0 Message Signing: PAR with a signed request object, PKCE, DPoP,
 * JARM, private_key_jwt) with an account_information consent, sees balances and recent
 * transactions, sends money with a one-time domestic_transfer consent, and disconnects (the grant
 * is revoked through Grant Management). Tokens and DPoP keys stay in this process's memory.
 */
export function createFintechApp(options: FintechAppOptions): FintechApp {
  const publicUrl = checkUrl('publicUrl', options.publicUrl);
  const issuerOrigin = checkUrl('issuer', options.issuer).origin;
  const redirectUri = new URL('/callback', publicUrl).href;
  const aborter = new AbortController();
  const log = options.log ?? ((event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`));
  const fapi = createFapiClient({
    issuer: options.issuer, clientId: options.clientId, privateJwk: options.privateJwk, redirectUri, bankAudience: options.bankAudience, signal: aborter.signal,
  });
  const bank: BankClient = createBankClient({ bankUrl: options.bankApiUrl, signal: aborter.signal });
  const recentDays = options.recentDays ?? 30;
  const historyDays = options.historyDays ?? 90;
  const maxAmount = options.maxTransferAmount ?? 1_000_000;
  const connector = createConnector({ fapi, bank, recentDays });
  const sessions = createCookieSessions<BrowserState>({ cookie: 'fintech-session', secure: publicUrl.protocol === 'https:', ttlSeconds: options.sessionSeconds ?? 7 * 24 * 3600 });
  // A form may lead to Sekisho: "Connect" and "Send money" are answered with a redirect to its
  // authorization endpoint, so the pages' form-action allows Sekisho's origin (and nothing else).
  const io = createPageIo([issuerOrigin]);
  const appName = options.appName ?? 'かけいぼテスト（架空のアプリ）';
  const bankName = options.bankName ?? BANK_NAME;
  const chrome = (state?: BrowserState): Chrome => ({ appName, connected: state?.connection !== undefined });
  const stateOf = (session: Session<BrowserState>): BrowserState => session.state ?? { transfers: [] };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', publicUrl.origin);
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === '/style.css' && method === 'GET') return sendText(res, 200, 'text/css; charset=utf-8', STYLE, { 'Cache-Control': 'public, max-age=3600' });

    if (method === 'POST') {
      if (isCrossSite(req, publicUrl.origin)) return io.sendHtml(res, 403, messagePage(chrome(), bi('拒否しました', 'Refused'), bi('他のサイトからの送信は受け付けません。', 'Forms from other sites are not accepted.')));
      const form = await readForm(req);
      if (!form) {
        res.setHeader('Connection', 'close');
        return io.sendHtml(res, 400, messagePage(chrome(), bi('不正な送信', 'Bad request'), bi('フォームを読み取れませんでした。', 'The form could not be read.')));
      }
      const session = sessions.read(req);
      if (!sessions.csrfOk(session, one(form, 'csrf'))) {
        return io.sendHtml(res, 403, messagePage(chrome(), bi('フォームの期限切れ', 'The form expired'), bi('ページを読み込み直して、もう一度送信してください。', 'Reload the page and send it again.')));
      }
      if (path === '/connect') return connect(res, session!);
      if (path === '/transfer') return startTransfer(res, session!, form);
      if (path === '/disconnect') return disconnect(res, session!);
      return notFound(res, session);
    }
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('Allow', 'GET, POST');
      return io.sendHtml(res, 405, messagePage(chrome(), bi('使えない操作', 'Method not allowed'), bi('この操作には対応していません。', 'This method is not supported.')));
    }

    if (path === '/callback') return callback(req, res, url);
    const session = sessions.ensure(req, res);
    const state = session.state;
    if (path === '/') return home(res, session);
    if (path === '/transfer') {
      if (!state?.connection) return io.redirect(res, '/');
      return io.sendHtml(res, 200, transferPage(chrome(state), session.csrf, maxAmount));
    }
    const match = /^\/transfers\/([^/]+)$/.exec(path);
    const outcome = match && LOCAL_TRANSFER_ID.test(match[1]!) ? state?.transfers.find((t) => t.id === match[1]) : undefined;
    if (outcome) return io.sendHtml(res, 200, transferResultPage(chrome(state), outcome));
    return notFound(res, session);
  }

  async function home(res: ServerResponse, session: Session<BrowserState>): Promise<void> {
    const state = session.state;
    const notice = state?.notice;
    if (state && notice) { delete state.notice; sessions.save(session, state); }
    if (!state?.connection) return io.sendHtml(res, 200, homePage(chrome(state), session.csrf, bankName, notice));
    const dashboard = await connector.dashboard(state.connection);
    if (!dashboard.ok && dashboard.problem === 'ended') {
      // The person withdrew the consent at the bank (同意の管理), or it expired: forget the tokens.
      delete state.connection;
      sessions.save(session, state);
      log({ event: 'connection.ended' });
      return io.sendHtml(res, 200, homePage(chrome(state), session.csrf, bankName, 'ended'));
    }
    return io.sendHtml(res, 200, dashboardPage(chrome(state), session.csrf, dashboard, state.transfers, recentDays, notice));
  }

  async function connect(res: ServerResponse, session: Session<BrowserState>): Promise<void> {
    return sendToBank(res, session, [accountInformationDetail(options.bankAudience, historyDays)], true, { kind: 'connect' });
  }

  async function startTransfer(res: ServerResponse, session: Session<BrowserState>, form: URLSearchParams): Promise<void> {
    const state = session.state;
    if (!state?.connection) return io.redirect(res, '/');
    const read = readTransferForm(form, maxAmount);
    if (!read.ok) return io.sendHtml(res, 400, transferPage(chrome(state), session.csrf, maxAmount, read.values, read.fields));
    return sendToBank(res, session, [transferDetail(read.value, options.bankAudience)], false, { kind: 'transfer', transfer: read.value, idempotencyKey: randomUUID() });
  }

  /** PAR, then the browser goes to Sekisho; what comes back is matched with what is kept here. */
  async function sendToBank(res: ServerResponse, session: Session<BrowserState>, details: unknown[], ongoing: boolean,
    what: { kind: 'connect' } | { kind: 'transfer'; transfer: TransferInput; idempotencyKey: string }): Promise<void> {
    const state = stateOf(session);
    try {
      const { url, pending } = await fapi.authorize(details, ongoing);
      state.pending = { ...pending, ...what } as Pending;
      sessions.save(session, state);
      log({ event: `${what.kind}.started` });
      return io.redirect(res, url);
    } catch (err) {
      const error = err instanceof FapiError ? err.error : 'unreachable';
      log({ event: `${what.kind}.failed`, error });
      return io.sendHtml(res, 502, messagePage(chrome(state), bi('銀行に接続できませんでした', 'Could not reach the bank'), bi(`もう一度お試しください（${error}）。`, `Please try again (${error}).`)));
    }
  }

  async function callback(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    let session = sessions.read(req);
    const state = session?.state;
    const pending = state?.pending;
    if (!session || !state || !pending) {
      return io.sendHtml(res, 400, messagePage(chrome(state), bi('受け付けられません', 'Not accepted'), bi('この応答を待っていませんでした。もう一度お試しください。', 'This app was not waiting for that answer. Please try again.')));
    }
    // One answer per request sent: whatever happens next, this one is used up.
    delete state.pending;
    sessions.save(session, state);
    if (pending.expiresAt <= Date.now()) return failed(res, session, state, pending, 'expired');

    let tokens: Tokens;
    try {
      tokens = await fapi.finish(url, pending);
    } catch (err) {
      return failed(res, session, state, pending, err instanceof FapiError ? err.error : 'invalid_response');
    }

    if (pending.kind === 'connect') {
      const accounts = grantedAccounts(tokens.authorizationDetails);
      if (accounts.length === 0) return failed(res, session, state, pending, 'no_accounts');
      const previous = state.connection;
      // A second connection replaces the first; its consent is ended at the bank too.
      if (previous?.grantId && previous.grantId !== tokens.grantId) await fapi.revokeGrant(previous.grantId).catch(() => undefined);
      const connection: Connection = {
        tokens, dpop: pending.dpop, accounts, connectedAt: Date.now(),
        ...(tokens.sub ? { sub: tokens.sub } : {}), ...(tokens.grantId ? { grantId: tokens.grantId } : {}),
      };
      state.connection = connection;
      state.notice = 'connected';
      session = sessions.rotate(res, session);
      sessions.save(session, state);
      log({ event: 'connect.finished', accounts: accounts.length });
      return io.redirect(res, '/');
    }

    const outcome = await makeTransfer(state, pending, tokens);
    state.transfers = [outcome, ...state.transfers].slice(0, 10);
    sessions.save(session, state);
    log({ event: 'transfer.finished', status: outcome.status, ...(outcome.problem ? { problem: outcome.problem } : {}) });
    return io.redirect(res, `/transfers/${outcome.id}`);
  }

  async function makeTransfer(state: BrowserState, pending: Extract<Pending, { kind: 'transfer' }>, tokens: Tokens): Promise<TransferOutcome> {
    const base: TransferOutcome = { id: randomBytes(12).toString('base64url'), at: Date.now(), input: pending.transfer, status: 'not_made' };
    // The same person who connected must approve: the ID token's sub names them at the bank.
    if (state.connection?.sub && tokens.sub !== state.connection.sub) return { ...base, problem: 'other_person' };
    const asked = transferDetail(pending.transfer, options.bankAudience);
    const granted = tokens.authorizationDetails.find((d) => d.type === 'domestic_transfer') as Record<string, unknown> | undefined;
    const debtor = granted?.debtor_account as { ref?: unknown; label?: unknown } | undefined;
    // Member order is not meaningful (Sekisho stores details as JSON and may give them back reordered).
    const same = granted !== undefined && canonical([granted.instructed_amount, granted.creditor_name, granted.creditor_account, granted.remittance_information])
      === canonical([asked.instructed_amount, asked.creditor_name, asked.creditor_account, asked.remittance_information]);
    if (!granted || !same || typeof debtor?.ref !== 'string') return { ...base, problem: 'not_as_asked' };
    const debtorLabel = typeof debtor.label === 'string' ? debtor.label : undefined;
    // The body is what the person approved, copied from the granted detail, and the account they picked.
    const body = {
      debtor_account: { ref: debtor.ref },
      instructed_amount: granted.instructed_amount, creditor_name: granted.creditor_name, creditor_account: granted.creditor_account,
      ...(granted.remittance_information !== undefined ? { remittance_information: granted.remittance_information } : {}),
      ...(granted.requested_execution_date !== undefined ? { requested_execution_date: granted.requested_execution_date } : {}),
    };
    let result = await bank.transfer(tokens.accessToken, pending.dpop, body, pending.idempotencyKey);
    // Not heard back: the same Idempotency-Key makes sending it again safe (the money moves once).
    if (!result.ok && result.kind === 'unavailable') result = await bank.transfer(tokens.accessToken, pending.dpop, body, pending.idempotencyKey);
    const withDebtor = { ...base, ...(debtorLabel ? { debtorLabel } : {}) };
    if (result.ok) return { ...withDebtor, status: 'done', bankTransferId: result.value.id, executedAt: result.value.executed_at };
    if (result.kind !== 'problem') return { ...withDebtor, problem: result.kind };
    const name = /:problem:([a-z-]+)$/.exec(result.type)?.[1];
    const problem = name === 'insufficient-funds' ? 'insufficient_funds' : name === 'consent-already-used' ? 'consent_used' : `bank_${result.status}`;
    return { ...withDebtor, problem };
  }

  function failed(res: ServerResponse, session: Session<BrowserState>, state: BrowserState, pending: Pending, error: string): void {
    log({ event: `${pending.kind}.failed`, error });
    if (pending.kind === 'transfer') {
      const outcome: TransferOutcome = { id: randomBytes(12).toString('base64url'), at: Date.now(), input: pending.transfer, status: 'not_made', problem: error };
      state.transfers = [outcome, ...state.transfers].slice(0, 10);
      sessions.save(session, state);
      return io.redirect(res, `/transfers/${outcome.id}`);
    }
    state.notice = error === 'access_denied' ? 'denied' : { error };
    sessions.save(session, state);
    return io.redirect(res, '/');
  }

  async function disconnect(res: ServerResponse, session: Session<BrowserState>): Promise<void> {
    const state = session.state;
    const connection = state?.connection;
    if (!state || !connection) return io.redirect(res, '/');
    if (connection.grantId) {
      try {
        await fapi.revokeGrant(connection.grantId);
      } catch (err) {
        log({ event: 'disconnect.failed', error: err instanceof FapiError ? err.error : 'unreachable' });
        state.notice = 'disconnect_failed';
        sessions.save(session, state);
        return io.redirect(res, '/');
      }
    }
    delete state.connection;
    state.notice = 'disconnected';
    sessions.save(session, state);
    log({ event: 'disconnect.finished' });
    return io.redirect(res, '/');
  }

  function notFound(res: ServerResponse, session?: Session<BrowserState>): void {
    io.sendHtml(res, 404, messagePage(chrome(session?.state), bi('見つかりません', 'Not found'), bi('このページはありません。', 'There is no such page.')));
  }

  return {
    redirectUri,
    handler: (req, res) => {
      handle(req, res).catch((err: unknown) => {
        log({ event: 'bug', message: err instanceof Error ? err.message : String(err) });
        if (!res.headersSent) io.sendHtml(res, 500, messagePage(chrome(), bi('エラー', 'Error'), bi('問題が発生しました。', 'Something went wrong.')));
        else res.destroy();
      });
    },
    close() { aborter.abort(); },
  };
}
