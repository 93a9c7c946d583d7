/**
 * base64url(SHA-256(token)) of the tokens seen lately. The same hash is DPoP's `ath` (RFC 9449
 * §4.2) and the introspection cache key, and a client presents one token with many requests, so
 * it is computed once per token rather than once per request (a WebCrypto digest is a trip to
 * libuv's thread pool). Bounded; the oldest entry goes first.
 */
import { sha256Base64url } from './encoding.ts';

export interface TokenHashes {
  hash(token: string): Promise<string>;
}

export function createTokenHashes(size = 1000): TokenHashes {
  const hashes = new Map<string, Promise<string>>();
  return {
    hash(token) {
      let hash = hashes.get(token);
      if (!hash) {
        hash = sha256Base64url(token);
        if (hashes.size >= size) hashes.delete(hashes.keys().next().value!);
        hashes.set(token, hash);
      }
      return hash;
    },
  };
}
