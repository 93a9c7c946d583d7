import type { ServerResponse } from 'node:http';

/** The JWS algorithms FAPI 2.0 allows; said in the DPoP challenge (RFC 9449 §7.1 `algs`). */
export const FAPI_ALGS = ['ES256', 'PS256', 'EdDSA'];

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

/** RFC 9457 problem details. `detail` is always our own fixed text, never a library's message. */
export function sendProblem(res: ServerResponse, status: number, title: string, detail?: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { type: 'about:blank', title, status, ...(detail ? { detail } : {}) }, 'application/problem+json', headers);
}

/**
 * The `WWW-Authenticate` value of a DPoP resource (RFC 9449 §7.1, RFC 6750 §3). Without an error
 * when the request carried no token at all (RFC 6750 §3.1). Descriptions are our fixed ASCII texts,
 * so they need no escaping beyond what is checked here.
 */
export function dpopChallenge(error?: 'invalid_token' | 'invalid_dpop_proof' | 'insufficient_scope', description?: string): string {
  const parts = [];
  if (error) parts.push(`error="${error}"`);
  if (description) {
    if (!/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/.test(description)) throw new TypeError('error_description must be plain ASCII without quotes or backslashes');
    parts.push(`error_description="${description}"`);
  }
  parts.push(`algs="${FAPI_ALGS.join(' ')}"`);
  return `DPoP ${parts.join(', ')}`;
}
