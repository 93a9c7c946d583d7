import type { ServerResponse } from 'node:http';

/** Money data: never cached, never sniffed, never framed or rendered as a page. */
const COMMON_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
};

/** A JSON answer with the API's common headers (no-store, nosniff, a CSP that renders nothing). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, contentType = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...COMMON_HEADERS, ...headers, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The bank's own problem types (RFC 9457 §3.1.1: `tag:` URIs, since nothing is published at
 * them). A client switches on `type`; `title` and `detail` are for people and may change.
 */
export const PROBLEM_TYPES = {
  insufficientFunds: 'tag:bank.example,2026:problem:insufficient-funds',
  idempotencyKeyReused: 'tag:bank.example,2026:problem:idempotency-key-reused',
  consentUsed: 'tag:bank.example,2026:problem:consent-already-used',
  invalidBody: 'tag:bank.example,2026:problem:invalid-body',
  unknownAccount: 'tag:bank.example,2026:problem:unknown-account',
  sameAccount: 'tag:bank.example,2026:problem:same-account',
  futureDate: 'tag:bank.example,2026:problem:execution-date-not-supported',
} as const;

/** An RFC 9457 problem to answer with. */
export interface Problem {
  status: number;
  title: string;
  /** Our own fixed words, never a library's message or the client's input. */
  detail?: string;
  type?: string;
  /** Extension members (RFC 9457 §3.2), e.g. `errors` with JSON pointers. */
  extra?: Record<string, unknown>;
}

/** RFC 9457 problem details, `application/problem+json`. */
export function sendProblem(res: ServerResponse, p: Problem, headers: Record<string, string> = {}): void {
  sendJson(res, p.status, { type: p.type ?? 'about:blank', title: p.title, status: p.status, ...(p.detail ? { detail: p.detail } : {}), ...p.extra }, headers, 'application/problem+json');
}
