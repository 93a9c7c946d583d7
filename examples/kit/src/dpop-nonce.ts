import { isDPoPNonceError } from 'oauth4webapi';

/**
 * Runs `call`, and once more when Sekisho answers `use_dpop_nonce` (RFC 9449 §8): oauth4webapi's
 * DPoP handle has kept the nonce from the refusal, so the retry carries it. One retry is enough; a
 * second refusal is thrown.
 */
export async function withDpopNonceRetry<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (isDPoPNonceError(err)) return call();
    throw err;
  }
}
