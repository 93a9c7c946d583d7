/**
 * Where the access token comes from: exactly one `Authorization` header with the `Bearer`
 * (RFC 6750 §2.1) or `DPoP` (RFC 9449 §7.1) scheme, compared case-insensitively (RFC 9110
 * §11.1), followed by a token68. A token in the query string (RFC 6750 §2.3) is refused outright
 * (FAPI 2.0 SP 5.3.4, fapi2.md R1), even next to a valid header.
 *
 * Not checked: a token in a form body (RFC 6750 §2.2) — the SDK never reads bodies, so such a
 * request simply has no token.
 */
import { fail } from './errors.ts';

export interface Credentials {
  scheme: 'Bearer' | 'DPoP';
  token: string;
}

// RFC 9110 §11.4 credentials = auth-scheme 1*SP token68; several headers arrive joined by ", ",
// which a token68 cannot contain, so a repeated header fails here too.
const CREDENTIALS = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+) +([A-Za-z0-9\-._~+/]+=*)$/;
/** Far above any real token; bounds the work an attacker can ask for. */
const MAX_TOKEN_LENGTH = 16_384;

/** The scheme and token of a request; fails with ERR_MISSING_TOKEN or ERR_INVALID_REQUEST. */
export function parseAuthorization(headers: Headers, url: URL): Credentials {
  // searchParams decodes, so access%5Ftoken is caught too.
  if (url.search !== '' && url.searchParams.has('access_token')) fail('ERR_INVALID_REQUEST');
  const value = headers.get('authorization');
  if (value === null) fail('ERR_MISSING_TOKEN');
  const match = CREDENTIALS.exec(value);
  if (!match || match[2]!.length > MAX_TOKEN_LENGTH) fail('ERR_INVALID_REQUEST');
  const scheme = match[1]!.toLowerCase();
  if (scheme === 'dpop') return { scheme: 'DPoP', token: match[2]! };
  if (scheme === 'bearer') return { scheme: 'Bearer', token: match[2]! };
  return fail('ERR_INVALID_REQUEST');
}
