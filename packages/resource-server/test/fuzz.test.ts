/**
 * Garbage in, ResourceServerError out: random and mutated Authorization headers, tokens and DPoP
 * proofs (seeded, so a failure reproduces) must only ever produce a ResourceServerError with a
 * 4xx status — never another exception, an acceptance, or an echo of the input in a header.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createResourceServer, ResourceServerError } from '../src/index.ts';
import { AUDIENCE, ISSUER, API_URL, accessToken, dpopKey, issuerKey, proof, signRaw } from './support/tokens.ts';

const issuer = await issuerKey();
const key = await dpopKey();
const rs = createResourceServer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [issuer.publicJwk as never] } });
const goodToken = await accessToken(issuer, { cnf: { jkt: key.jkt } });
const goodProof = await proof(key, goodToken);

/** A small seeded PRNG (mulberry32): the same seed makes the same cases. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = 'ABCxyz019-_.~+/=, \t"\'%:{}[]\\é\u0000';
function mutate(rand: () => number, text: string): string {
  const chars = [...text];
  const edits = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * (chars.length + 1));
    const op = rand();
    const c = ALPHABET[Math.floor(rand() * ALPHABET.length)]!;
    if (op < 0.4) chars.splice(at, 1, c);
    else if (op < 0.7) chars.splice(at, 0, c);
    else chars.splice(at, 1);
  }
  return chars.join('');
}

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const WEIRD_JSON: unknown[] = [null, 1, 'x', [], [1], {}, { alg: null }, { alg: 'ES256', typ: 'at+jwt', kid: { a: 1 } }, { alg: 'ES256', typ: 'dpop+jwt', jwk: [] },
  { alg: 'ES256', typ: 'dpop+jwt', jwk: { kty: 'EC', crv: 'P-256', x: 1, y: 2 } }, { alg: 'ES256', typ: 'dpop+jwt', jwk: { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' } },
  { alg: 'PS256', typ: 'dpop+jwt', jwk: { kty: 'RSA', n: 'AQAB', e: 'AQAB' } }, { alg: '__proto__' }, { alg: 'toString', typ: 'at+jwt' }, { __proto__: { alg: 'ES256' } }];

function randomJws(rand: () => number): string {
  const pick = () => WEIRD_JSON[Math.floor(rand() * WEIRD_JSON.length)];
  return `${b64(pick())}.${b64(pick())}.${b64('sig'.repeat(Math.floor(rand() * 30)))}`;
}

async function expectRefusal(request: Request, label: string): Promise<void> {
  let outcome: unknown;
  try {
    await rs.verify(request);
    outcome = 'accepted';
  } catch (error) {
    outcome = error;
  }
  assert.ok(outcome instanceof ResourceServerError, `${label}: ${outcome instanceof Error ? outcome.stack : String(outcome)}`);
  assert.ok([400, 401].includes(outcome.status), `${label}: status ${outcome.status}`);
  const challenge = outcome.headers['www-authenticate'] ?? '';
  assert.match(challenge, /^(Bearer|DPoP)[ ,]|^Bearer$/, `${label}: ${challenge}`);
  assert.ok(!/[\r\n]/.test(challenge));
}

function request(authorization: string | undefined, dpop: string | undefined): Request | undefined {
  const headers = new Headers();
  try {
    if (authorization !== undefined) headers.set('authorization', authorization);
    if (dpop !== undefined) headers.set('dpop', dpop);
  } catch {
    return undefined; // not a valid header value: no HTTP request could carry it
  }
  return new Request(API_URL, { headers });
}

describe('garbage input only ever yields ResourceServerError', () => {
  it('mutated Authorization headers around a valid token and proof', async () => {
    const rand = random(1);
    let tried = 0;
    for (let i = 0; i < 400; i++) {
      const authorization = mutate(rand, `DPoP ${goodToken}`);
      const r = request(authorization, goodProof);
      if (!r) continue;
      // Extra spaces between scheme and token are allowed (RFC 9110 §11.4: 1*SP); those are not garbage.
      if (authorization.replace(/ +/g, ' ').trim() === `DPoP ${goodToken}`) continue;
      tried++;
      await expectRefusal(r, `authorization ${JSON.stringify(authorization.slice(0, 40))}`);
    }
    assert.ok(tried > 300);
  });

  it('mutated DPoP proofs with a valid token', async () => {
    const rand = random(2);
    for (let i = 0; i < 400; i++) {
      const dpop = mutate(rand, goodProof);
      const r = request(`DPoP ${goodToken}`, dpop);
      if (!r || dpop === goodProof) continue;
      await expectRefusal(r, `proof #${i}`);
    }
  });

  it('structurally odd JWS (JSON that is not what it should be), as tokens and as proofs', async () => {
    const rand = random(3);
    for (let i = 0; i < 300; i++) {
      const jws = randomJws(rand);
      await expectRefusal(request(`DPoP ${jws}`, goodProof)!, `token ${jws.slice(0, 60)}`);
      await expectRefusal(request(`DPoP ${goodToken}`, jws)!, `proof ${jws.slice(0, 60)}`);
      await expectRefusal(request(`Bearer ${jws}`, undefined)!, `bearer ${jws.slice(0, 60)}`);
    }
  });

  it('correctly signed tokens and proofs whose members have the wrong types', async () => {
    const odd: unknown[] = [null, 1, '', 'x', [], {}, [1, 2], { a: 1 }, true, -1, 1e308, '9'.repeat(400)];
    const claims = ['iss', 'aud', 'exp', 'iat', 'nbf', 'sub', 'client_id', 'jti', 'scope', 'cnf', 'authorization_details'];
    for (const claim of claims) {
      for (const value of odd) {
        const payload = { iss: ISSUER, aud: AUDIENCE, sub: 's', client_id: 'c', jti: 'j', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 60, cnf: { jkt: key.jkt }, [claim]: value };
        const token = await signRaw({ alg: 'ES256', typ: 'at+jwt', kid: issuer.kid }, payload, issuer.privateKey);
        const r = request(`DPoP ${token}`, await proof(key, token));
        try {
          await rs.verify(r!);
        } catch (error) {
          assert.ok(error instanceof ResourceServerError, `${claim}=${JSON.stringify(value)}: ${String(error)}`);
        }
      }
    }
    for (const member of ['jti', 'htm', 'htu', 'iat', 'ath', 'nonce']) {
      for (const value of odd) {
        const p = await signRaw({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.publicJwk }, { jti: 'j', htm: 'GET', htu: API_URL, iat: Math.floor(Date.now() / 1000), [member]: value }, key.privateKey);
        await expectRefusal(request(`DPoP ${goodToken}`, p)!, `proof ${member}=${JSON.stringify(value)}`);
      }
    }
  });

  it('odd requests: huge headers, other methods, odd URLs, an access_token parameter spelled oddly', async () => {
    await expectRefusal(request(`DPoP ${'a'.repeat(20_000)}`, goodProof)!, 'huge token');
    await expectRefusal(request(`DPoP ${goodToken}`, 'a'.repeat(20_000))!, 'huge proof');
    for (const method of ['POST', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']) {
      await expectRefusal(new Request(API_URL, { method, headers: { authorization: `DPoP ${goodToken}`, dpop: goodProof } }), method);
    }
    for (const url of [`${API_URL}?access_token=x`, `${API_URL}?a=1&access_token=`, 'http://[::1]:8080/accounts', 'https://api.example.com/%zz']) {
      await expectRefusal(new Request(url, { headers: { authorization: `DPoP ${goodToken}`, dpop: goodProof } }), url);
    }
  });
});
