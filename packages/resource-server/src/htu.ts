/**
 * The URL a DPoP proof is for (RFC 9449 §4.3 step 9, §4.2): compared without query and fragment,
 * after RFC 3986 §6.2.2 normalisation — scheme and host case-insensitive, default ports dropped,
 * dot-segments resolved, percent-encodings upper-cased and unreserved characters decoded.
 */

/** The normalised form of an absolute http(s) URL, or undefined when it is none. */
export function normalizeHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  // WHATWG URL has already lower-cased scheme and host, dropped default ports and resolved dots.
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') return undefined;
  return `${url.protocol}//${url.host}${normalizePercentEncoding(url.pathname)}`;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** RFC 3986 §6.2.2.1–2: `%7e` → `~`, `%2f` → `%2F`. */
function normalizePercentEncoding(path: string): string {
  if (!path.includes('%')) return path;
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

/**
 * The URL the request was made to, as a proof must name it: the request's own URL, or with
 * `publicUrl` (an API behind a proxy) that URL's origin and the request's path. Both are already
 * parsed (so scheme, host, port and dots are normalised); only percent-encoding is left.
 */
export function expectedHtu(requestUrl: URL, publicUrl: URL | undefined): string | undefined {
  const origin = publicUrl ? publicUrl.origin : `${requestUrl.protocol}//${requestUrl.host}`;
  if (!origin.startsWith('https://') && !origin.startsWith('http://')) return undefined;
  return `${origin}${normalizePercentEncoding(requestUrl.pathname)}`;
}
