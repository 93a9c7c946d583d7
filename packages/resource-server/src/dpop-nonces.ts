/**
 * Stateless DPoP server nonces (RFC 9449 §9): the nonce for time window w is
 * base64url(HMAC-SHA-256(secret, "dpop-nonce:" + w)), and a proof may carry the nonce of the
 * current or the previous window. Every instance given the same secret issues and accepts the
 * same nonces, with nothing shared but the secret (fapi2.md DP3).
 */
import { encodeBase64url, utf8 } from './encoding.ts';
import type { DpopNonces } from './types.ts';

export type { DpopNonces } from './types.ts';

/** Options of {@link createDpopNonces}. */
export interface DpopNoncesOptions {
  /** At least 32 bytes (a string is taken as its UTF-8 bytes); the same on every instance. */
  secret: string | Uint8Array;
  /** Length of a window, seconds (default 60): a nonce lives between one and two windows. */
  lifetimeSeconds?: number;
  now?: () => number;
}

/**
 * Creates RFC 9449 §9 nonces for an API. Pass the result as `dpop.nonces` to require them.
 *
 * Not checked: a nonce says only "issued by one of us recently"; it is not single-use (the
 * replay store does that for each proof).
 */
export function createDpopNonces(options: DpopNoncesOptions): DpopNonces {
  const secret = typeof options.secret === 'string' ? utf8(options.secret) : new Uint8Array(options.secret);
  if (secret.byteLength < 32) throw new TypeError('createDpopNonces: the secret must be at least 32 bytes');
  const lifetimeMs = (options.lifetimeSeconds ?? 60) * 1000;
  if (!(lifetimeMs >= 1000)) throw new TypeError('createDpopNonces: lifetimeSeconds must be at least 1');
  const now = options.now ?? Date.now;
  const key = crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  // Nonces of the last few windows, so the HMAC runs once per window rather than once per request.
  const byWindow = new Map<number, Promise<string>>();

  function nonceFor(window: number): Promise<string> {
    let nonce = byWindow.get(window);
    if (!nonce) {
      nonce = key.then(async (k) => encodeBase64url(await crypto.subtle.sign('HMAC', k, utf8(`dpop-nonce:${window}`))));
      byWindow.set(window, nonce);
      for (const w of byWindow.keys()) if (w < window - 2) byWindow.delete(w);
    }
    return nonce;
  }

  return {
    current: () => nonceFor(Math.floor(now() / lifetimeMs)),
    async isValid(nonce) {
      const window = Math.floor(now() / lifetimeMs);
      return nonce === await nonceFor(window) || nonce === await nonceFor(window - 1);
    },
  };
}
