import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ENGINES } from '../../test/support/engines.ts';
import type { Storage } from '../storage/db.ts';
import { createKek, generateKekValue } from '../keys/kek.ts';
import {
  base32Decode, base32Encode, createTotpStore, generateTotpSecret, matchTotp, otpauthUri, totpCode, totpQrSvg, totpStep,
} from './totp.ts';

describe('TOTP functions', () => {
  it('RFC 6238 Appendix B, SHA-1 vectors', () => {
    const seed = Buffer.from('12345678901234567890', 'ascii');
    const vectors: [number, string][] = [
      [59, '94287082'], [1111111109, '07081804'], [1111111111, '14050471'],
      [1234567890, '89005924'], [2000000000, '69279037'], [20000000000, '65353130'],
    ];
    for (const [seconds, expected] of vectors) assert.equal(totpCode(seed, totpStep(seconds * 1000), 8), expected, `T=${seconds}`);
    assert.equal(totpCode(seed, totpStep(59_000)), '287082', '6 digits by default: the last six');
  });

  it('base32: RFC 4648 vectors, round trip, tolerant input', () => {
    const vectors: [string, string][] = [
      ['', ''], ['f', 'MY'], ['fo', 'MZXQ'], ['foo', 'MZXW6'], ['foob', 'MZXW6YQ'], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI'],
    ];
    for (const [plain, encoded] of vectors) {
      assert.equal(base32Encode(Buffer.from(plain)), encoded);
      assert.equal(base32Decode(encoded).toString(), plain);
    }
    assert.equal(base32Decode('mzxw 6ytb oi======').toString(), 'foobar', 'lower case, spaces, padding');
    for (let i = 0; i < 50; i++) {
      const secret = generateTotpSecret();
      assert.equal(secret.length, 20);
      assert.deepEqual(base32Decode(base32Encode(secret)), secret);
    }
    assert.throws(() => base32Decode('MZXW1'), /invalid base32/);
  });

  it('accepts the current step and ±1, refuses ±2', () => {
    const secret = Buffer.from('12345678901234567890'); // fixed, so a chance collision cannot make this flaky
    const now = 1_700_000_015_000;
    const step = totpStep(now);
    assert.equal(matchTotp(secret, totpCode(secret, step), now), step);
    assert.equal(matchTotp(secret, totpCode(secret, step - 1), now), step - 1);
    assert.equal(matchTotp(secret, totpCode(secret, step + 1), now), step + 1);
    // A 6-digit code of another step could collide by chance (1 in a million); these do not.
    const far = [step - 2, step + 2].map((s) => totpCode(secret, s)).filter((c) => ![-1, 0, 1].some((d) => totpCode(secret, step + d) === c));
    for (const code of far) assert.equal(matchTotp(secret, code, now), undefined);
    assert.equal(matchTotp(secret, totpCode(secret, step + 2), now, 2), step + 2, 'a wider window reaches further');
  });

  it('refuses malformed codes', () => {
    const secret = generateTotpSecret();
    for (const code of ['', '12345', '1234567', 'abcdef', '12 3456', ' 123456', '12345６']) {
      assert.equal(matchTotp(secret, code, Date.now()), undefined, JSON.stringify(code));
    }
  });

  it('builds the otpauth Key URI', () => {
    const secret = Buffer.from('12345678901234567890');
    const uri = otpauthUri({ issuer: 'Sekisho Dev', accountName: 'alice@example.com', secret });
    assert.equal(uri, 'otpauth://totp/Sekisho%20Dev:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Sekisho%20Dev&algorithm=SHA1&digits=6&period=30');
    const parsed = new URL(uri);
    assert.equal(parsed.protocol, 'otpauth:');
    assert.equal(parsed.searchParams.get('issuer'), 'Sekisho Dev');
    assert.deepEqual(base32Decode(parsed.searchParams.get('secret') ?? ''), secret);
    assert.match(otpauthUri({ issuer: 'A&B', accountName: 'x?y#z', secret }), /^otpauth:\/\/totp\/A%26B:x%3Fy%23z\?secret=\w+&issuer=A%26B&/);
    assert.throws(() => otpauthUri({ issuer: 'a:b', accountName: 'x', secret }), /must not contain/);
  });

  it('renders the QR code as inline SVG', async () => {
    const svg = await totpQrSvg(otpauthUri({ issuer: 'Sekisho', accountName: 'alice', secret: generateTotpSecret() }));
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.doesNotMatch(svg, /<script/i);
  });
});

for (const engine of ENGINES) {
  describe(`TOTP store on ${engine.name}`, { skip: engine.skip }, () => {
    let storage: Storage & { dispose(): Promise<void> };
    let store: ReturnType<typeof createTotpStore>;
    before(async () => {
      storage = await engine.open();
      store = createTotpStore(storage.db, createKek(generateKekValue()));
    });
    after(() => storage?.dispose());

    const label = { issuer: 'Sekisho', accountName: 'alice' };
    const newAccount = async () => {
      const id = randomUUID();
      await storage.db.insertInto('accounts').values({ id, username: `u-${id}`, claims: '{}' }).execute();
      return id;
    };
    /** An enrolled account, confirmed at `at`, and its secret. */
    const enrolled = async (at: number) => {
      const id = await newAccount();
      const { secretBase32 } = await store.beginEnrollment(id, label);
      const secret = base32Decode(secretBase32);
      assert.equal(await store.confirmEnrollment(id, totpCode(secret, totpStep(at)), at), true);
      return { id, secret };
    };
    const T = 1_700_000_000_000;
    const STEP = totpStep(T);
    const at = (step: number) => step * 30_000 + 1_000;

    it('enrollment: begin returns secret and URI; only the right code confirms', async () => {
      const id = await newAccount();
      const { secretBase32, uri } = await store.beginEnrollment(id, label);
      const secret = base32Decode(secretBase32);
      assert.equal(secret.length, 20);
      assert.equal(uri, otpauthUri({ ...label, secret }));
      assert.equal(await store.isEnrolled(id), false);
      assert.equal(await store.verify(id, totpCode(secret, STEP), T), false, 'unconfirmed credentials do not verify');
      assert.equal(await store.confirmEnrollment(id, totpCode(secret, STEP + 5), T), false, 'wrong code');
      assert.equal(await store.confirmEnrollment(id, 'abcdef', T), false);
      assert.equal(await store.isEnrolled(id), false);
      assert.equal(await store.confirmEnrollment(id, totpCode(secret, STEP), T), true);
      assert.equal(await store.isEnrolled(id), true);
      assert.equal(await store.confirmEnrollment(id, totpCode(secret, STEP + 1), at(STEP + 1)), false, 'already confirmed');
      assert.equal(await store.verify(id, totpCode(secret, STEP), T), false, 'the confirming code is used up');
      assert.equal(await store.verify(id, totpCode(secret, STEP + 1), at(STEP + 1)), true);
    });

    it('restarting enrollment replaces the unconfirmed secret; a confirmed one is kept until removed', async () => {
      const id = await newAccount();
      const first = base32Decode((await store.beginEnrollment(id, label)).secretBase32);
      const second = base32Decode((await store.beginEnrollment(id, label)).secretBase32);
      assert.notDeepEqual(first, second);
      const firstCode = totpCode(first, STEP);
      if (firstCode !== totpCode(second, STEP)) assert.equal(await store.confirmEnrollment(id, firstCode, T), false, 'the old secret is gone');
      assert.equal(await store.confirmEnrollment(id, totpCode(second, STEP), T), true);
      await assert.rejects(store.beginEnrollment(id, label), /already enrolled/);
      assert.equal(await store.verify(id, totpCode(second, STEP + 1), at(STEP + 1)), true, 'still the confirmed secret');
      assert.equal(await store.remove(id), true);
      assert.equal(await store.isEnrolled(id), false);
      assert.equal(await store.verify(id, totpCode(second, STEP + 2), at(STEP + 2)), false);
      assert.equal(await store.remove(id), false);
      await store.beginEnrollment(id, label);
    });

    it('verify: wrong code refused; the same code refused the second time', async () => {
      const { id, secret } = await enrolled(at(STEP));
      const now = at(STEP + 10);
      const code = totpCode(secret, STEP + 10);
      assert.equal(await store.verify(id, code === '000000' ? '111111' : '000000', now), false);
      assert.equal(await store.verify(id, '12345', now), false);
      assert.equal(await store.verify(id, code, now), true);
      assert.equal(await store.verify(id, code, now), false, 'replay');
      assert.equal(await store.verify(id, code, now + 20_000), false, 'replay in the next step, still within the window');
      assert.equal(await store.verify(randomUUID(), code, now), false, 'unknown account');
    });

    it('verify: an older code is refused once a newer one was used', async () => {
      const { id, secret } = await enrolled(at(STEP));
      const now = at(STEP + 20);
      assert.equal(await store.verify(id, totpCode(secret, STEP + 21), now), true, 'next step, within the window');
      const current = totpCode(secret, STEP + 20);
      if (current !== totpCode(secret, STEP + 21)) assert.equal(await store.verify(id, current, now), false);
      assert.equal(await store.verify(id, totpCode(secret, STEP + 19), now), false);
      assert.equal(await store.verify(id, totpCode(secret, STEP + 22), at(STEP + 22)), true, 'a later code still works');
    });

    it('race: 10 concurrent verifications of one code, exactly one succeeds', async () => {
      const { id, secret } = await enrolled(at(STEP));
      const now = at(STEP + 30);
      const code = totpCode(secret, STEP + 30);
      const results = await Promise.all(Array.from({ length: 10 }, () => store.verify(id, code, now)));
      assert.equal(results.filter(Boolean).length, 1);
    });

    it('the seed is stored encrypted, bound to its account', async () => {
      const { id, secret } = await enrolled(at(STEP));
      const row = await storage.db.selectFrom('totp_credentials').selectAll().where('account_id', '=', id).executeTakeFirstOrThrow();
      const text = JSON.stringify(row);
      for (const form of [base32Encode(secret), secret.toString('hex'), secret.toString('base64url'), secret.toString('base64')]) {
        assert.equal(text.toLowerCase().includes(form.toLowerCase()), false, form);
      }
      assert.match(row.secret, /^v1\./);
      // Moved to another account's row, the ciphertext no longer decrypts.
      const other = await newAccount();
      await store.beginEnrollment(other, label);
      await storage.db.updateTable('totp_credentials').set({ secret: row.secret }).where('account_id', '=', other).execute();
      await assert.rejects(store.confirmEnrollment(other, totpCode(secret, STEP), T), /cannot decrypt/);
    });
  });
}
