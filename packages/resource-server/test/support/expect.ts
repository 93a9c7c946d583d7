/** Assertions on refusals: the stable code, the HTTP status, the OAuth error and the challenge. */
import assert from 'node:assert/strict';
import { ResourceServerError, type ErrorCode } from '../../src/index.ts';

export const ALGS = 'algs="PS256 ES256 EdDSA"';

export interface Expected {
  status?: number;
  error?: string | undefined;
  /** The challenge scheme(s) WWW-Authenticate must start with: 'Bearer', 'DPoP' or 'both'. */
  scheme?: 'Bearer' | 'DPoP' | 'both';
}

const DEFAULT_STATUS: Partial<Record<ErrorCode, number>> = { ERR_INVALID_REQUEST: 400, ERR_INSUFFICIENT_SCOPE: 403, ERR_INSUFFICIENT_AUTHORIZATION_DETAILS: 403, ERR_ISSUER_UNAVAILABLE: 503 };

/** Awaits `promise`, which must reject with a ResourceServerError of `code`; returns it. */
export async function refused(promise: Promise<unknown>, code: ErrorCode, expected: Expected = {}): Promise<ResourceServerError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, `expected ${code}, but the request was accepted`);
  assert.ok(caught instanceof ResourceServerError, `expected a ResourceServerError, got ${String(caught)}`);
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code}`);
  assert.equal(caught.status, expected.status ?? DEFAULT_STATUS[code] ?? 401);
  if ('error' in expected) assert.equal(caught.error, expected.error);
  const challenge = caught.headers['www-authenticate'];
  if (caught.status === 503) {
    assert.equal(challenge, undefined);
    assert.match(caught.headers['retry-after'] ?? '', /^\d+$/);
  } else {
    assert.ok(challenge, 'a WWW-Authenticate header');
    if (caught.error) assert.ok(challenge.includes(`error="${caught.error}"`), challenge);
    else assert.ok(!challenge.includes('error='), challenge);
    if (expected.scheme === 'Bearer') assert.match(challenge, /^Bearer(?: |$)/), assert.ok(!challenge.includes('DPoP'), challenge);
    if (expected.scheme === 'DPoP') assert.match(challenge, /^DPoP /), assert.ok(challenge.includes(ALGS), challenge), assert.ok(!challenge.includes('Bearer'), challenge);
    if (expected.scheme === 'both') assert.match(challenge, /^Bearer.*, DPoP .*algs="/);
  }
  return caught;
}
