import type { ServerResponse } from 'node:http';
import type { ResourceServerError } from '@sekisho/resource-server';

/** Health data: never cached, never sniffed, never framed or rendered as a page. */
const COMMON_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
};

export function sendJson(res: ServerResponse, status: number, body: unknown, contentType = 'application/fhir+json; charset=utf-8', headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...COMMON_HEADERS, ...headers, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** RFC 9457 problem details. `detail` is always our own text, never a library's message or the request's content. */
export function sendProblem(res: ServerResponse, status: number, title: string, detail?: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { type: 'about:blank', title, status, ...(detail ? { detail } : {}) }, 'application/problem+json', headers);
}

/** Our words for each kind of refusal the SDK reports (its `error`); the SDK's headers carry the RFC 6750 / 9449 challenge. */
const AUTH_WORDS: Record<string, { title: string; detail: string }> = {
  none: { title: 'Access token required', detail: 'Send a DPoP-bound access token.' },
  invalid_request: { title: 'Bad request', detail: 'Send one Authorization header with the DPoP scheme, and the token nowhere else.' },
  invalid_token: { title: 'Invalid token', detail: 'The access token is not valid here: get a new one.' },
  invalid_dpop_proof: { title: 'Invalid DPoP proof', detail: 'The DPoP proof is missing, not valid for this request, or was used before.' },
  use_dpop_nonce: { title: 'DPoP nonce required', detail: 'Retry with the nonce in the DPoP-Nonce header.' },
  insufficient_scope: { title: 'Forbidden', detail: 'The token does not allow this interaction on this record type for this patient.' },
  unavailable: { title: 'Service unavailable', detail: 'The token issuer could not be reached; try again.' },
};

/** The SDK's refusal as the API's answer: its status and headers (WWW-Authenticate, DPoP-Nonce, Retry-After), a problem+json body. */
export function sendAuthError(res: ServerResponse, err: ResourceServerError): void {
  const words = AUTH_WORDS[err.status === 503 ? 'unavailable' : err.error ?? 'none'] ?? AUTH_WORDS.invalid_token!;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(err.headers)) if (typeof value === 'string') headers[name] = value;
  sendProblem(res, err.status, words.title, words.detail, headers);
}
