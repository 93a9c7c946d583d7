import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, hash, randomBytes, randomUUID } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { calculateJwkThumbprint, CompactSign, exportJWK, generateKeyPair } from 'jose';
import { createDpopVerifier, DPOP_ALGS, type DpopNonces, type DpopProofRequest, type DpopProofResult } from './dpop-proof.ts';

const NOW = 1_750_000_000;
const URL_ = 'https://as.example/grants/g1';
const TOKEN = 'access-token-value';
const ATH = hash('sha256', TOKEN, 'base64url');

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
const keys: Record<'ES256' | 'PS256' | 'EdDSA', KeyPair> = {
  ES256: await generateKeyPair('ES256', { extractable: true }),
  PS256: await generateKeyPair('PS256', { extractable: true }),
  EdDSA: await generateKeyPair('Ed25519', { extractable: true }),
};
const jwkOf = async (k: KeyPair) => exportJWK(k.publicKey);
const jktOf = async (k: KeyPair) => calculateJwkThumbprint(await jwkOf(k), 'sha256');

function fakes(options: { requireNonce?: boolean } = {}) {
  const seen = new Map<string, number>();
  const calls: Array<{ jti: string; exp: number }> = [];
  const nonces: DpopNonces = {
    required: () => options.requireNonce ?? false,
    check: (n) => n === 'nonce-current' || n === 'nonce-previous',
    next: () => 'nonce-current',
  };
  const verifier = createDpopVerifier({
    now: () => NOW,
    nonces,
    unique: async (jti, exp) => {
      calls.push({ jti, exp });
      if (seen.has(jti)) return false;
      seen.set(jti, exp);
      return true;
    },
  });
  return { verifier, calls };
}

async function proof(options: {
  key?: KeyPair; alg?: string; header?: Record<string, unknown>; claims?: Record<string, unknown>; omit?: string[];
} = {}): Promise<string> {
  const alg = options.alg ?? 'ES256';
  const key = options.key ?? keys[alg as keyof typeof keys] ?? keys.ES256;
  const header: Record<string, unknown> = { typ: 'dpop+jwt', alg, jwk: await jwkOf(key), ...options.header };
  const claims: Record<string, unknown> = { jti: randomUUID(), htm: 'GET', htu: URL_, iat: NOW, ath: ATH, ...options.claims };
  for (const name of options.omit ?? []) delete claims[name];
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader(header as { alg: string })
    .sign(key.privateKey);
}

/** A JWS with any header and signature bytes, for algorithms jose will not sign with. */
function rawJws(header: unknown, claims: unknown, signature = ''): string {
  const enc = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
  return `${enc(header)}.${enc(claims)}.${signature}`;
}

async function request(proofValue: DpopProofRequest['proof'], overrides: Partial<DpopProofRequest> = {}): Promise<DpopProofRequest> {
  return { proof: proofValue, method: 'GET', urls: [URL_], accessToken: TOKEN, jkt: await jktOf(keys.ES256), ...overrides };
}

function assertRefused(result: DpopProofResult, error: string, description?: RegExp) {
  assert.equal(result.ok, false, 'the proof should have been refused');
  if (result.ok) return;
  assert.equal(result.error.error, error);
  assert.equal(result.error.status, 401);
  if (description) assert.match(result.error.description, description);
  assert.doesNotMatch(result.error.description, /["\\]/, 'descriptions go into a quoted-string');
}

describe('DPoP proof at a protected resource (RFC 9449 §4.3, §7.1)', () => {
  it('accepts proofs made by jose with each FAPI algorithm, returning the key thumbprint', async () => {
    for (const alg of ['ES256', 'PS256', 'EdDSA'] as const) {
      const { verifier } = fakes();
      const result = await verifier.verify(await request(await proof({ alg }), { jkt: await jktOf(keys[alg]) }));
      assert.equal(result.ok, true, alg);
      if (result.ok) assert.equal(result.thumbprint, await jktOf(keys[alg]));
    }
    assert.equal(DPOP_ALGS, 'PS256 ES256 EdDSA');
  });

  it('accepts a proof made by a real client (oauth4webapi DPoP handle), query and fragment ignored', async () => {
    const keyPair = await generateKeyPair('ES256', { extractable: true });
    const handle = oauth.DPoP({}, keyPair);
    let captured: string | null = null;
    await oauth.protectedResourceRequest(TOKEN, 'DELETE', new URL(`${URL_}?x=1#frag`), undefined, undefined, {
      DPoP: handle,
      [oauth.customFetch]: async (_url, init) => {
        captured = new Headers(init.headers).get('dpop');
        return new Response(null, { status: 204 });
      },
    });
    assert.ok(captured);
    const verifier = createDpopVerifier({ unique: async () => true, nonces: { required: () => false, check: () => false, next: () => 'n' } });
    const result = await verifier.verify({ proof: captured, method: 'DELETE', urls: [URL_], accessToken: TOKEN, jkt: await handle.calculateThumbprint() });
    assert.equal(result.ok, true);
    const wrongMethod = await verifier.verify({ proof: captured, method: 'GET', urls: [URL_], accessToken: TOKEN, jkt: await handle.calculateThumbprint() });
    assertRefused(wrongMethod, 'invalid_dpop_proof', /htm/);
  });

  it('refuses a wrong htm', async () => {
    const { verifier } = fakes();
    assertRefused(await verifier.verify(await request(await proof({ claims: { htm: 'DELETE' } }))), 'invalid_dpop_proof', /htm/);
    assertRefused(await verifier.verify(await request(await proof({ claims: { htm: 'get' } }))), 'invalid_dpop_proof', /htm/);
  });

  it('refuses an htu naming another path, host or scheme; normalises case, default port, query and fragment', async () => {
    const { verifier } = fakes();
    for (const htu of ['https://as.example/grants/g2', 'https://as.example/grants/g1/', 'https://other.example/grants/g1', 'http://as.example/grants/g1', 'https://as.example:8443/grants/g1', 'not a url', 'urn:x:y']) {
      assertRefused(await verifier.verify(await request(await proof({ claims: { htu } }))), 'invalid_dpop_proof', /htu/);
    }
    for (const htu of ['https://AS.Example/grants/g1', 'HTTPS://as.example:443/grants/g1', 'https://as.example/grants/g1?a=b', 'https://as.example/grants/g1#x']) {
      assert.equal((await verifier.verify(await request(await proof({ claims: { htu } })))).ok, true, htu);
    }
  });

  it('accepts the mTLS alias URL when the caller lists it', async () => {
    const { verifier } = fakes();
    const htu = 'https://mtls.as.example/grants/g1';
    assertRefused(await verifier.verify(await request(await proof({ claims: { htu } }))), 'invalid_dpop_proof', /htu/);
    assert.equal((await verifier.verify(await request(await proof({ claims: { htu } }), { urls: [URL_, htu] }))).ok, true);
  });

  it('refuses a stale or future iat without a nonce (use_dpop_nonce, so the client can retry with one); 60 s each way is fine', async () => {
    const { verifier } = fakes();
    for (const iat of [NOW - 61, NOW + 61, NOW - 3600, 0]) {
      const result = await verifier.verify(await request(await proof({ claims: { iat } })));
      assertRefused(result, 'use_dpop_nonce', /iat/);
      if (!result.ok) assert.equal(result.error.nonce, 'nonce-current');
    }
    for (const iat of [NOW - 60, NOW + 60, NOW]) assert.equal((await verifier.verify(await request(await proof({ claims: { iat } })))).ok, true, String(iat));
  });

  it('accepts an old iat when the proof carries a valid server nonce', async () => {
    const { verifier } = fakes();
    const result = await verifier.verify(await request(await proof({ claims: { iat: NOW - 240, nonce: 'nonce-previous' } })));
    assert.equal(result.ok, true);
    if (result.ok) assert.equal(result.nonce, 'nonce-current', 'a fresher nonce is offered');
  });

  it('refuses a replayed jti, and remembers jtis for the replay window', async () => {
    const { verifier, calls } = fakes();
    const jws = await proof();
    assert.equal((await verifier.verify(await request(jws))).ok, true);
    assertRefused(await verifier.verify(await request(jws)), 'invalid_dpop_proof', /jti/);
    assert.equal(calls[0]!.exp, NOW + 300);
  });

  it('does not use up the jti of a refused proof', async () => {
    const { verifier, calls } = fakes();
    await verifier.verify(await request(await proof({ claims: { htm: 'POST' } })));
    await verifier.verify(await request(await proof({ claims: { iat: NOW - 500 } })));
    assert.equal(calls.length, 0);
  });

  it('refuses a jti that is not a string of 1 to 256 characters', async () => {
    const { verifier } = fakes();
    for (const jti of ['', 'x'.repeat(257), 42, null, ['a'], { a: 1 }]) {
      assertRefused(await verifier.verify(await request(await proof({ claims: { jti } }))), 'invalid_dpop_proof', /jti/);
    }
    assert.equal((await verifier.verify(await request(await proof({ claims: { jti: 'x'.repeat(256) } })))).ok, true);
    assertRefused(await verifier.verify(await request(await proof({ omit: ['jti'] }))), 'invalid_dpop_proof', /jti/);
  });

  it('refuses a missing or wrong ath', async () => {
    const { verifier } = fakes();
    assertRefused(await verifier.verify(await request(await proof({ omit: ['ath'] }))), 'invalid_dpop_proof', /ath is missing/);
    assertRefused(await verifier.verify(await request(await proof({ claims: { ath: hash('sha256', 'other', 'base64url') } }))), 'invalid_dpop_proof', /ath mismatch/);
    assertRefused(await verifier.verify(await request(await proof(), { accessToken: 'another-token' })), 'invalid_dpop_proof', /ath mismatch/);
    assertRefused(await verifier.verify(await request(await proof({ claims: { ath: 7 } }))), 'invalid_dpop_proof', /ath/);
  });

  it('refuses a jwk with private or symmetric members', async () => {
    const { verifier } = fakes();
    const privateJwk = await exportJWK(keys.ES256.privateKey);
    assertRefused(await verifier.verify(await request(await proof({ header: { jwk: privateJwk } }))), 'invalid_dpop_proof', /public key/);
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']) {
      const jwk = { ...(await jwkOf(keys.ES256)), [member]: 'AAAA' };
      assertRefused(await verifier.verify(await request(await proof({ header: { jwk } }))), 'invalid_dpop_proof', /public key/);
    }
    const rsaPrivate = await exportJWK(keys.PS256.privateKey);
    assertRefused(await verifier.verify(await request(await proof({ alg: 'PS256', header: { jwk: rsaPrivate } }), { jkt: await jktOf(keys.PS256) })), 'invalid_dpop_proof', /public key/);
  });

  it('refuses alg none, HS256, RS256 and any non-FAPI algorithm', async () => {
    const { verifier } = fakes();
    const jwk = await jwkOf(keys.ES256);
    const claims = { jti: 'j', htm: 'GET', htu: URL_, iat: NOW, ath: ATH };
    assertRefused(await verifier.verify(await request(rawJws({ typ: 'dpop+jwt', alg: 'none', jwk }, claims, 'x'))), 'invalid_dpop_proof', /alg/);
    assertRefused(await verifier.verify(await request(`${rawJws({ typ: 'dpop+jwt', alg: 'none', jwk }, claims)}`)), 'invalid_dpop_proof');
    const secret = randomBytes(32);
    const hs = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk: { kty: 'oct', k: secret.toString('base64url') } } as never).sign(secret);
    assertRefused(await verifier.verify(await request(hs)), 'invalid_dpop_proof', /alg/);
    const hsWithPublicJwk = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk } as never).sign(secret);
    assertRefused(await verifier.verify(await request(hsWithPublicJwk)), 'invalid_dpop_proof', /alg/);
    const rs = await generateKeyPair('RS256', { extractable: true });
    assertRefused(await verifier.verify(await request(await proof({ key: rs, alg: 'RS256' }), { jkt: await jktOf(rs) })), 'invalid_dpop_proof', /alg/);
  });

  it('refuses a key that does not fit the alg or FAPI (EC key with PS256, P-384, RSA under 2048 bits)', async () => {
    const { verifier } = fakes();
    const es384 = await generateKeyPair('ES384', { extractable: true });
    assertRefused(await verifier.verify(await request(await proof({ header: { jwk: await jwkOf(es384) } }), { jkt: await jktOf(es384) })), 'invalid_dpop_proof', /fit/);
    assertRefused(await verifier.verify(await request(await proof({ alg: 'PS256', header: { jwk: await jwkOf(keys.ES256) } }))), 'invalid_dpop_proof', /fit/);
    // jose will neither make nor sign with such a key: the small key's jwk on a proof signed by a large one.
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    assertRefused(await verifier.verify(await request(await proof({ alg: 'PS256', header: { jwk: small } }), { jkt: await calculateJwkThumbprint(small as never) })), 'invalid_dpop_proof', /2048/);
    assertRefused(await verifier.verify(await request(await proof({ header: { jwk: { ...(await jwkOf(keys.ES256)), alg: 'ES384' } } }))), 'invalid_dpop_proof', /alg/);
  });

  it('refuses a typ other than dpop+jwt (media-type comparison)', async () => {
    const { verifier } = fakes();
    for (const typ of ['JWT', 'at+jwt', '', 5]) {
      assertRefused(await verifier.verify(await request(await proof({ header: { typ } }))), 'invalid_dpop_proof', /typ/);
    }
    assertRefused(await verifier.verify(await request(await proof({ header: { typ: undefined } }))), 'invalid_dpop_proof', /typ/);
    assert.equal((await verifier.verify(await request(await proof({ header: { typ: 'application/DPoP+JWT' } })))).ok, true);
  });

  it('refuses a proof signed by another key than its jwk, and a key other than the token binding (jkt)', async () => {
    const { verifier } = fakes();
    const other = await generateKeyPair('ES256', { extractable: true });
    assertRefused(await verifier.verify(await request(await proof({ key: other, header: { jwk: await jwkOf(keys.ES256) } }))), 'invalid_dpop_proof', /signature/);
    assertRefused(await verifier.verify(await request(await proof({ key: other }))), 'invalid_dpop_proof', /access token binding/);
    const tampered = (await proof()).split('.');
    tampered[1] = Buffer.from(JSON.stringify({ jti: 'x', htm: 'GET', htu: URL_, iat: NOW, ath: ATH })).toString('base64url');
    assertRefused(await verifier.verify(await request(tampered.join('.'))), 'invalid_dpop_proof', /signature/);
  });

  it('server nonces: required and absent, invalid, valid', async () => {
    const { verifier } = fakes({ requireNonce: true });
    const absent = await verifier.verify(await request(await proof()));
    assertRefused(absent, 'use_dpop_nonce', /nonce/);
    if (!absent.ok) assert.equal(absent.error.nonce, 'nonce-current');
    const invalid = await verifier.verify(await request(await proof({ claims: { nonce: 'forged' } })));
    assertRefused(invalid, 'use_dpop_nonce', /nonce/);
    if (!invalid.ok) assert.equal(invalid.error.nonce, 'nonce-current');
    const valid = await verifier.verify(await request(await proof({ claims: { nonce: 'nonce-current' } })));
    assert.equal(valid.ok, true);
    if (valid.ok) assert.equal(valid.nonce, undefined, 'the client already has the newest nonce');
    assertRefused(await verifier.verify(await request(await proof({ claims: { nonce: 12 } }))), 'invalid_dpop_proof', /nonce/);
    // Not required, but an unrecognised nonce is still refused.
    const { verifier: optional } = fakes();
    assertRefused(await optional.verify(await request(await proof({ claims: { nonce: 'forged' } }))), 'use_dpop_nonce');
  });

  it('requires exactly one DPoP header', async () => {
    const { verifier } = fakes();
    const jws = await proof();
    assertRefused(await verifier.verify(await request(undefined)), 'invalid_dpop_proof', /missing/);
    assertRefused(await verifier.verify(await request([])), 'invalid_dpop_proof', /missing/);
    assertRefused(await verifier.verify(await request('')), 'invalid_dpop_proof', /missing/);
    assertRefused(await verifier.verify(await request([jws, await proof()])), 'invalid_dpop_proof', /exactly one/);
    assertRefused(await verifier.verify(await request(`${jws}, ${await proof()}`)), 'invalid_dpop_proof', /compact/);
    assert.equal((await verifier.verify(await request([jws]))).ok, true);
  });

  it('refuses claims of the wrong types', async () => {
    const { verifier } = fakes();
    const cases: Array<Record<string, unknown>> = [
      { htm: 1 }, { htm: null }, { htu: 1 }, { htu: ['https://as.example/grants/g1'] }, { iat: '1750000000' }, { iat: null }, { iat: true },
    ];
    for (const claims of cases) assertRefused(await verifier.verify(await request(await proof({ claims }))), 'invalid_dpop_proof');
    for (const omit of ['htm', 'htu', 'iat']) assertRefused(await verifier.verify(await request(await proof({ omit: [omit] }))), 'invalid_dpop_proof');
  });

  it('never throws on hostile input (fuzz)', async () => {
    const { verifier } = fakes();
    const good = await proof();
    const jwk = await jwkOf(keys.ES256);
    const signedJunk = async (payload: string) => new CompactSign(new TextEncoder().encode(payload))
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk } as never).sign(keys.ES256.privateKey);
    const inputs: unknown[] = [
      'x'.repeat(100_000), `${'a'.repeat(50_000)}.${'b'.repeat(50_000)}.c`, 'a.b.c', '..', '...', 'e30.e30.e30', 'bnVsbA.bnVsbA.AA',
      rawJws([], {}), rawJws('null', 'null', 'AA'), rawJws({ alg: 'ES256', typ: 'dpop+jwt', jwk: 'str' }, {}, 'AA'),
      rawJws({ alg: 'ES256', typ: 'dpop+jwt', jwk: { kty: 'EC', crv: 'P-256', x: 1, y: [] } }, {}, 'AA'),
      rawJws({ alg: 'ES256', typ: 'dpop+jwt', jwk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' } }, {}, 'AA'),
      rawJws({ alg: 'PS256', typ: 'dpop+jwt', jwk: { kty: 'RSA', n: 'A'.repeat(400), e: 'AQAB' } }, {}, 'AA'),
      rawJws({ alg: 'EdDSA', typ: 'dpop+jwt', jwk: { kty: 'OKP', crv: 'Ed25519', x: '' } }, {}, 'AA'),
      rawJws({ alg: 'ES256', typ: 'dpop+jwt', jwk, crit: ['b64'], b64: false }, {}, 'AA'),
      `${Buffer.from([0xff, 0xfe, 0x7b]).toString('base64url')}.e30.AA`,
      await signedJunk('[]'), await signedJunk('null'), await signedJunk('"str"'), await signedJunk('{"iat":1e400}'),
      await signedJunk(`{"jti":"a","htm":"GET","htu":"${'h'.repeat(9000)}","iat":1,"ath":"x"}`),
      await signedJunk('{"__proto__":{"htm":"GET"},"jti":"a","htu":"x","iat":1,"ath":"x"}'),
      42, null, {}, [1, 2], [null], ['a.b.c', 5],
    ];
    for (let i = 0; i < 300; i++) {
      const chars = [...good];
      for (let n = 0; n < 1 + (i % 5); n++) chars[Math.floor(Math.random() * chars.length)] = String.fromCharCode(32 + Math.floor(Math.random() * 95));
      inputs.push(chars.join(''));
    }
    // The original first: a mutation that still verifies (a non-canonical base64url last character)
    // carries the same jti, so it is refused as a replay.
    assert.equal((await verifier.verify(await request(good))).ok, true);
    for (const input of inputs) {
      const result = await verifier.verify({ ...(await request(undefined)), proof: input as DpopProofRequest['proof'] });
      assert.equal(result.ok, false);
    }
    const weird: Array<Partial<DpopProofRequest>> = [{ method: '' }, { urls: [] }, { urls: ['::'] }, { jkt: '' }, { accessToken: '' }];
    for (const overrides of weird) assert.equal((await verifier.verify(await request(await proof(), overrides))).ok, false);
  });

  it('lets a failing dependency surface instead of passing the proof', async () => {
    const verifier = createDpopVerifier({
      now: () => NOW,
      nonces: { required: () => false, check: () => false, next: () => 'n' },
      unique: async () => { throw new Error('database unavailable'); },
    });
    await assert.rejects(verifier.verify(await request(await proof())), /database unavailable/);
  });
});

