import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ENGINES } from '../../test/support/engines.ts';
import type { Storage } from '../storage/db.ts';
import { createRecoveryCodes, normaliseRecoveryCode, RECOVERY_CODE_COUNT } from './recovery-codes.ts';

it('normalises case, spaces and hyphens; refuses what cannot be a code', () => {
  assert.equal(normaliseRecoveryCode(' abcde-fghjk '), 'ABCDEFGHJK');
  assert.equal(normaliseRecoveryCode('ABC DE FGH JK'), 'ABCDEFGHJK');
  for (const bad of ['', 'ABCDE-FGHJ', 'ABCDE-FGHJKM', 'ABCDE-FGHJ0', 'ABCDE-FGHJO', 'ABCDE-FGHJ1', 'ABCDE-FGHJI', 'ABCDE-FGHJL', 'ABCDE_FGHJK']) {
    assert.equal(normaliseRecoveryCode(bad), undefined, bad);
  }
});

for (const engine of ENGINES) {
  describe(`recovery codes on ${engine.name}`, { skip: engine.skip }, () => {
    let storage: Storage & { dispose(): Promise<void> };
    let codes: ReturnType<typeof createRecoveryCodes>;
    before(async () => {
      storage = await engine.open();
      codes = createRecoveryCodes(storage.db);
    });
    after(() => storage?.dispose());

    const newAccount = async () => {
      const id = randomUUID();
      await storage.db.insertInto('accounts').values({ id, username: `u-${id}`, claims: '{}' }).execute();
      return id;
    };

    it('generates 10 distinct, well-formed codes', async () => {
      const id = await newAccount();
      const generated = await codes.generate(id);
      assert.equal(generated.length, RECOVERY_CODE_COUNT);
      assert.equal(new Set(generated).size, RECOVERY_CODE_COUNT);
      for (const code of generated) assert.match(code, /^[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}$/);
      assert.equal(await codes.remaining(id), 10);
    });

    it('a code works once', async () => {
      const id = await newAccount();
      const [code] = await codes.generate(id);
      assert.ok(code);
      assert.equal(await codes.use(id, code), true);
      assert.equal(await codes.use(id, code), false);
      assert.equal(await codes.remaining(id), 9);
    });

    it('normalised variants work: lower case, without hyphen, with spaces', async () => {
      const id = await newAccount();
      const [a, b, c] = await codes.generate(id);
      assert.ok(a && b && c);
      assert.equal(await codes.use(id, a.toLowerCase()), true);
      assert.equal(await codes.use(id, b.replace('-', '')), true);
      assert.equal(await codes.use(id, ` ${c.slice(0, 3)} ${c.slice(3).replace('-', ' - ')} `), true);
      assert.equal(await codes.remaining(id), 7);
    });

    it('refuses a code of another account, and malformed input', async () => {
      const alice = await newAccount();
      const bob = await newAccount();
      const [aliceCode] = await codes.generate(alice);
      await codes.generate(bob);
      assert.ok(aliceCode);
      assert.equal(await codes.use(bob, aliceCode), false);
      assert.equal(await codes.use(bob, ''), false);
      assert.equal(await codes.use(randomUUID(), aliceCode), false);
      assert.equal(await codes.remaining(bob), 10);
      assert.equal(await codes.use(alice, aliceCode), true, 'still unused for its own account');
    });

    it('race: 10 concurrent uses of one code, exactly one succeeds', async () => {
      const id = await newAccount();
      const [code] = await codes.generate(id);
      assert.ok(code);
      const results = await Promise.all(Array.from({ length: 10 }, () => codes.use(id, code)));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await codes.remaining(id), 9);
    });

    it('generating again invalidates the old codes; removeAll removes them all', async () => {
      const id = await newAccount();
      const old = await codes.generate(id);
      await codes.use(id, old[0] ?? '');
      const fresh = await codes.generate(id);
      assert.equal(await codes.remaining(id), 10);
      for (const code of old) assert.equal(await codes.use(id, code), false);
      assert.equal(await codes.use(id, fresh[0] ?? ''), true);
      await codes.removeAll(id);
      assert.equal(await codes.remaining(id), 0);
      assert.equal(await codes.use(id, fresh[1] ?? ''), false);
    });

    it('concurrent generations leave exactly one set', async () => {
      const id = await newAccount();
      const sets = await Promise.all(Array.from({ length: 4 }, () => codes.generate(id)));
      assert.equal(await codes.remaining(id), 10);
      const rows = await storage.db.selectFrom('recovery_codes').select('code_hash').where('account_id', '=', id).execute();
      assert.equal(rows.length, 10);
      const survivors = await Promise.all(sets.map((set) => codes.use(id, set[0] ?? '')));
      assert.equal(survivors.filter(Boolean).length, 1, 'one generation wins whole; none is mixed in');
    });

    it('stores only hashes', async () => {
      const id = await newAccount();
      const generated = await codes.generate(id);
      const rows = await storage.db.selectFrom('recovery_codes').selectAll().where('account_id', '=', id).execute();
      assert.equal(rows.length, 10);
      const text = JSON.stringify(rows).toUpperCase();
      for (const code of generated) {
        assert.equal(text.includes(code), false);
        assert.equal(text.includes(code.replace('-', '')), false);
      }
      for (const row of rows) assert.match(row.code_hash, /^[0-9a-f]{64}$/, 'SHA-256, hex');
    });
  });
}
