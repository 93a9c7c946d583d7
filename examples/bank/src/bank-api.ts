import { createHash } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createResourceServer, ResourceServerError } from '@sekisho/resource-server';
import { toWebRequest } from '@sekisho/resource-server/node';
import { readBody } from '@sekisho/example-kit/http-io';
import { checkUrl } from '@sekisho/example-kit/loopback';
import { tokyoDate, tokyoTimestamp, type BankData } from './bank-data.ts';
import { authOutcome, authProblem, definedHeaders } from './bank-api/auth-errors.ts';
import {
  accountDetails, detailsFor, earliestReadable, grantedRefs, sameTransfer, transferDetails, type Detail,
} from './bank-api/authority.ts';
import { idempotencyKey } from './bank-api/idempotency.ts';
import { createLedger } from './bank-api/ledger.ts';
import { PROBLEM_TYPES, sendJson, sendProblem, type Problem } from './bank-api/responses.ts';
import { defaultFrom, METHOD, period, route, type Period, type Route } from './bank-api/routes.ts';
import { parseTransferRequest, type Parsed } from './bank-api/transfer-request.ts';
import { createTransfers, transferView } from './bank-api/transfers.ts';
import { accountView, balanceView, transactionView } from './bank-api/views.ts';

/** Options of {@link createBankApi}. */
export interface BankApiOptions {
  /** Sekisho's issuer identifier. */
  issuer: string;
  /** This API's resource identifier at Sekisho (RFC 8707 `resource`, the tokens' audience). */
  audience: string;
  /**
   * The API's base URL as clients reach it (default: `audience`): requests are served under its
   * path, and DPoP proofs must name URLs under its origin (`htu`). The Host header is never trusted.
   */
  publicUrl?: string;
  /**
   * Token introspection (RFC 7662) with the API's own client at Sekisho (listed in the resource
   * server's `introspectionClients`), authenticated with private_key_jwt; answers are signed JWTs
   * (RFC 9701).
   */
  introspection: {
    clientId: string;
    privateKey: CryptoKey;
    kid: string;
    /**
     * Seconds an introspection answer is reused for the same token (default 5; never past the
     * token's exp). It is how long a revoked consent may still be honoured: 0 asks every time.
     */
    cacheSeconds?: number;
  };
  /** The accounts (e.g. sampleAccounts()). The API keeps its own copy and changes it. */
  data: BankData;
  /** The clock (tests). */
  now?: () => Date;
  /** One line per request; default: JSON on stdout. Never given a token. */
  log?: (line: AccessLogLine) => void;
  /** For discovery and introspection (e.g. a private CA). */
  fetch?: typeof fetch;
}

/** One line of the bank API's access log (JSON). */
export interface AccessLogLine {
  time: string;
  method: string;
  /** Without the query string. */
  path: string;
  status: number;
  outcome: string;
  client_id?: string;
  sub?: string;
  account?: string;
  transfer?: string;
  /** The answer was an Idempotency-Key replay. */
  replayed?: true;
  /** The SDK's stable error code for a refused token (never the token or a proof). */
  reason?: string;
}

interface Outcome { status: number; outcome: string; account?: string; transfer?: string; replayed?: true; reason?: string }
interface Caller { clientId?: string; sub?: string }

const BODY_LIMIT = 16 * 1024;

/**
 * The example bank's API (JSON over HTTP), protected by @sekisho/resource-server: every request
 * needs a DPoP-bound access token from Sekisho, opaque and introspected, so that a consent the
 * person or the client ends stops access at once (give or take `cacheSeconds`). What a token
 * allows is in its `authorization_details` (account_information, domestic_transfer), for the
 * accounts the person picked, named by `ref`.
 *
 * Order of checks: route (404/405), body size (413), token (401/403/503, the SDK's answer),
 * input (400/415), data (404), the transfer's rules (409/422). Errors are problem+json (RFC 9457).
 */
export function createBankApi(options: BankApiOptions): RequestListener {
  const base = checkUrl('publicUrl', options.publicUrl ?? options.audience);
  checkUrl('audience', options.audience);
  const basePath = base.pathname.replace(/\/$/, '');
  const publicBase = `${base.origin}${basePath}`;
  const now = options.now ?? (() => new Date());
  const ledger = createLedger(options.data);
  const transfers = createTransfers(ledger, { now });
  const log = options.log ?? ((line: AccessLogLine) => process.stdout.write(`${JSON.stringify(line)}\n`));
  const audience = options.audience;
  const rs = createResourceServer({
    issuer: options.issuer,
    audience,
    publicUrl: base.origin,
    introspection: {
      clientId: options.introspection.clientId,
      privateKey: options.introspection.privateKey,
      kid: options.introspection.kid,
      alg: 'ES256',
      jwtResponse: true,
      cacheSeconds: options.introspection.cacheSeconds ?? 5,
    },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });

  /** What the request asks, read before the token is checked (so that the consent can be compared with it), answered after. */
  interface Input { period?: Period; transfer?: Parsed | 'not_json' | 'wrong_type'; today: string }

  function predicate(found: Route, input: Input) {
    return (details: Detail[]): Detail[] => {
      switch (found.kind) {
        case 'accounts': return accountDetails(details, 'list_accounts', audience);
        case 'balances': return found.ref ? detailsFor(details, 'read_balances', found.ref, audience) : accountDetails(details, 'read_balances', audience);
        case 'transactions': {
          if (!found.ref) return accountDetails(details, 'read_transactions', audience);
          const named = detailsFor(details, 'read_transactions', found.ref, audience);
          const from = input.period?.ok ? input.period.from : undefined;
          // A start before what the person allowed is beyond the consent: 403, not a shorter statement.
          return from === undefined ? named : named.filter((d) => (earliestReadable([d], input.today) ?? '') <= from);
        }
        case 'transfers': {
          const granted = transferDetails(details, audience);
          const t = input.transfer;
          return typeof t === 'object' && t.ok ? granted.filter((d) => sameTransfer(d, t.value)) : granted;
        }
        case 'transfer': return [...transferDetails(details, audience), ...accountDetails(details, 'read_transactions', audience)];
      }
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, caller: Caller): Promise<Outcome> {
    const target = req.url ?? '';
    // Origin-form only: an absolute or `//host` target would name another host than the proof's htu.
    if (!target.startsWith('/') || target.startsWith('//')) return problem(res, { status: 400, title: 'Bad request target' });
    const url = new URL(target, base.origin);
    if (url.origin !== base.origin) return problem(res, { status: 400, title: 'Bad request target' });
    const found = url.pathname.startsWith(`${basePath}/`) ? route(url.pathname.slice(basePath.length)) : undefined;
    if (!found) return problem(res, { status: 404, title: 'Not found', detail: 'No such endpoint here.' }, 'not_found');
    if (req.method !== METHOD[found.kind]) {
      return problem(res, { status: 405, title: 'Method not allowed', detail: `Use ${METHOD[found.kind]}.` }, 'bad_request', { Allow: METHOD[found.kind] });
    }

    const input: Input = { today: tokyoDate(now()) };
    if (found.kind === 'transactions') input.period = period(url.searchParams, input.today);
    if (found.kind === 'transfers') {
      const body = await readBody(req, BODY_LIMIT);
      if (body === undefined) {
        res.setHeader('Connection', 'close');
        return problem(res, { status: 413, title: 'Body too large', detail: `At most ${BODY_LIMIT} bytes.` });
      }
      input.transfer = contentType(req) !== 'application/json' ? 'wrong_type' : parseJson(body);
    }

    let access;
    try {
      access = await rs.verify(toWebRequest(req, { publicUrl: base.origin }), { authorizationDetails: predicate(found, input) });
    } catch (err) {
      if (!(err instanceof ResourceServerError)) throw err;
      sendProblem(res, authProblem(err), definedHeaders(err.headers));
      return { status: err.status, outcome: authOutcome(err), reason: err.code };
    }
    caller.clientId = access.claims.client_id;
    if (typeof access.claims.sub === 'string') caller.sub = access.claims.sub;
    const ok = (status: number, body: unknown, headers: Record<string, string> = {}) => sendJson(res, status, body, { ...access.responseHeaders, ...headers });
    const matched = access.matchedDetails as Detail[];

    if (found.kind !== 'accounts' && found.kind !== 'transfers' && found.kind !== 'transfer' && !found.ref) {
      return problem(res, { status: 400, title: 'Bad account id', detail: 'An account id is <bank>-<branch>-<number>, e.g. 0001-001-1234567.' });
    }
    if (url.search && found.kind !== 'transactions') return problem(res, { status: 400, title: 'Bad request', detail: 'This endpoint takes no query parameters.' });

    switch (found.kind) {
      case 'accounts': {
        const refs = grantedRefs(matched, 'list_accounts', audience);
        const accounts = [...refs].flatMap((ref) => { const a = ledger.account(ref); return a ? [accountView(ledger.bank, a)] : []; });
        ok(200, { accounts });
        return { status: 200, outcome: 'ok' };
      }
      case 'balances': {
        const account = ledger.account(found.ref!);
        if (!account) return problem(res, { status: 404, title: 'Unknown account', detail: 'There is no such account here.' }, 'not_found', {}, found.ref);
        ok(200, balanceView(account, tokyoTimestamp(now())));
        return { status: 200, outcome: 'ok', account: found.ref! };
      }
      case 'transactions': {
        const p = input.period!;
        if (!p.ok) return problem(res, { status: 400, title: 'Bad period', detail: p.detail }, 'bad_request', {}, found.ref);
        const from = p.from ?? defaultFrom(earliestReadable(matched, input.today), p.to);
        const statement = ledger.statement(found.ref!, from, p.to);
        if (!statement) return problem(res, { status: 404, title: 'Unknown account', detail: 'There is no such account here.' }, 'not_found', {}, found.ref);
        ok(200, { account_id: found.ref, from, to: p.to, transactions: statement.map(transactionView) });
        return { status: 200, outcome: 'ok', account: found.ref! };
      }
      case 'transfers': return transfer(req, res, input.transfer!, access.claims, ok);
      case 'transfer': {
        const t = found.id ? transfers.get(found.id) : undefined;
        if (!found.id) return problem(res, { status: 400, title: 'Bad transfer id' });
        // Another client's transfer, or one this token has nothing to do with, is as absent as one that never was.
        const mine = t && t.clientId === access.claims.client_id
          && (t.executionKey === executionKey(req, access.claims) || grantedRefs(matched, 'read_transactions', audience).has(t.request.debtorRef));
        if (!t || !mine) return problem(res, { status: 404, title: 'Unknown transfer' }, 'not_found');
        ok(200, transferView(t));
        return { status: 200, outcome: 'ok', transfer: t.id };
      }
    }
  }

  function transfer(req: IncomingMessage, res: ServerResponse, body: NonNullable<Input['transfer']>, claims: Claims,
    ok: (status: number, body: unknown, headers?: Record<string, string>) => void): Outcome {
    if (body === 'wrong_type') return problem(res, { status: 415, title: 'Unsupported media type', detail: 'Send the transfer as application/json.' });
    if (body === 'not_json' || !body.ok) {
      return problem(res, {
        status: 400, type: PROBLEM_TYPES.invalidBody, title: 'Invalid transfer',
        detail: body === 'not_json' ? 'The body is not JSON.' : 'Some members are missing or not valid.',
        ...(body !== 'not_json' ? { extra: { errors: body.errors } } : {}),
      });
    }
    const key = idempotencyKey(req.headersDistinct['idempotency-key']);
    if (!key) {
      return problem(res, { status: 400, title: 'Idempotency-Key required', detail: 'Send one Idempotency-Key header: 16 to 64 of A-Z a-z 0-9 - _ (a UUID will do).' });
    }
    const result = transfers.execute({
      clientId: claims.client_id, ...(typeof claims.sub === 'string' ? { sub: claims.sub } : {}),
      executionKey: executionKey(req, claims), idempotencyKey: key, fingerprint: body.fingerprint, request: body.value,
    });
    const account = body.value.debtorRef;
    switch (result.kind) {
      case 'created':
      case 'replayed': {
        const headers: Record<string, string> = { Location: `${publicBase}/transfers/${result.transfer.id}` };
        if (result.kind === 'replayed') headers['Idempotent-Replayed'] = 'true';
        ok(201, transferView(result.transfer), headers);
        return { status: 201, outcome: 'ok', account, transfer: result.transfer.id, ...(result.kind === 'replayed' ? { replayed: true as const } : {}) };
      }
      case 'key_reused':
        return problem(res, { status: 422, type: PROBLEM_TYPES.idempotencyKeyReused, title: 'Idempotency-Key already used', detail: 'This key was used for a different transfer. Use a new key for a new transfer.' }, 'refused', {}, account);
      case 'consent_used':
        return problem(res, {
          status: 409, type: PROBLEM_TYPES.consentUsed, title: 'Consent already used',
          detail: 'This consent was for one transfer, and it has been made. Ask the person again for another.', extra: { transfer: `${publicBase}/transfers/${result.transferId}` },
        }, 'refused', {}, account);
      case 'insufficient_funds':
        return problem(res, { status: 422, type: PROBLEM_TYPES.insufficientFunds, title: 'Insufficient funds', detail: 'The account to pay from does not hold enough.' }, 'refused', {}, account);
      case 'unknown_debtor':
        return problem(res, { status: 422, type: PROBLEM_TYPES.unknownAccount, title: 'Unknown account', detail: 'The account to pay from is not held at this bank.' }, 'refused', {}, account);
      case 'same_account':
        return problem(res, { status: 422, type: PROBLEM_TYPES.sameAccount, title: 'Same account', detail: 'The payee account is the account to pay from.' }, 'refused', {}, account);
      case 'future_date':
        return problem(res, { status: 422, type: PROBLEM_TYPES.futureDate, title: 'Execution date not supported', detail: 'This bank executes transfers at once: leave requested_execution_date out, or give today (Japan time).' }, 'refused', {}, account);
    }
  }

  return (req, res) => {
    const caller: Caller = {};
    const done = (o: Outcome) => {
      log({
        time: new Date().toISOString(), method: req.method ?? '', path: (req.url ?? '').split('?')[0]!.slice(0, 300), status: o.status, outcome: o.outcome,
        ...(caller.clientId ? { client_id: caller.clientId } : {}), ...(caller.sub ? { sub: caller.sub } : {}),
        ...(o.account ? { account: o.account } : {}), ...(o.transfer ? { transfer: o.transfer } : {}),
        ...(o.replayed ? { replayed: true as const } : {}), ...(o.reason ? { reason: o.reason } : {}),
      });
    };
    handle(req, res, caller).then(done, (err: unknown) => {
      // Only a bug lands here; the cause goes to stderr, the client gets no detail.
      process.stderr.write(`bank-api: ${err instanceof Error ? err.stack : String(err)}\n`);
      if (!res.headersSent) sendProblem(res, { status: 500, title: 'Internal error' });
      else res.destroy();
      done({ status: 500, outcome: 'error' });
    });
  };
}

type Claims = { client_id: string; sub?: unknown; grant_id?: unknown };

/**
 * Which consent a token stands for: Sekisho's `grant_id` when the token carries one, else a hash
 * of the access token itself (a one-time consent issues exactly one access token). Called only
 * after the SDK accepted the request, so the Authorization header is one well-formed `DPoP <token>`.
 */
function executionKey(req: IncomingMessage, claims: Claims): string {
  if (typeof claims.grant_id === 'string' && claims.grant_id) return `grant:${claims.grant_id}`;
  const token = (req.headers.authorization ?? '').replace(/^\S+\s+/, '');
  return `token:${createHash('sha256').update(token).digest('base64url')}`;
}

function problem(res: ServerResponse, p: Problem, outcome = 'bad_request', headers: Record<string, string> = {}, account?: string): Outcome {
  sendProblem(res, p, headers);
  return { status: p.status, outcome, ...(account ? { account } : {}) };
}

function contentType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

function parseJson(body: string): Parsed | 'not_json' {
  let json: unknown;
  try { json = JSON.parse(body); } catch { return 'not_json'; }
  return parseTransferRequest(json);
}
