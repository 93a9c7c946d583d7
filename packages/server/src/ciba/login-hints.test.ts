import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ENGINES } from '../../test/support/engines.ts';
import type { Storage } from '../storage/db.ts';
import type { Config } from '../config/schema.ts';
import { createLoginHints } from './login-hints.ts';

/** Each configured login_hint source, in order, and the rule that an ambiguous hint names nobody. */
for (const engine of ENGINES) {
  describe(`CIBA login hints on ${engine.name}`, { skip: engine.skip }, () => {
    let storage: Storage & { dispose(): Promise<void> };
    before(async () => { storage = await engine.open(); });
    after(() => storage?.dispose());

    const account = async (fields: { username?: string; email?: string; verified?: boolean; phone?: string } = {}) => {
      const id = randomUUID();
      await storage.db.insertInto('accounts').values({
        id, username: fields.username ?? `u-${id}`, email: fields.email ?? null, email_verified_at: fields.verified ? new Date() : null,
        claims: JSON.stringify(fields.phone ? { phone_number: fields.phone, phone_number_verified: true } : {}),
      }).execute();
      return id;
    };
    const hints = (loginHint: string[]) => createLoginHints(storage.db, { issuer: 'https://as.example.jp', ciba: { loginHint, loginHintTokenIssuers: [] } } as unknown as Config);

    it('tries the sources in the configured order; only the configured ones', async () => {
      const byName = await account({ username: `hanako-${randomUUID().slice(0, 6)}` });
      const name = (await storage.db.selectFrom('accounts').select('username').where('id', '=', byName).executeTakeFirstOrThrow()).username;
      assert.equal(await hints(['username']).loginHint(name), byName);
      assert.equal(await hints(['email']).loginHint(name), undefined);
    });

    it('an e-mail address counts only when verified', async () => {
      const email = `taro-${randomUUID().slice(0, 6)}@example.jp`;
      const unverified = await account({ email });
      assert.equal(await hints(['email']).loginHint(email), undefined);
      await storage.db.updateTable('accounts').set({ email_verified_at: new Date() }).where('id', '=', unverified).execute();
      assert.equal(await hints(['email']).loginHint(email.toUpperCase()), unverified);
    });

    it('a phone number or a linked resource (a patient number) names the person; a hint two people share names nobody', async () => {
      const phone = `+81-90-${randomUUID().slice(0, 8)}`;
      const a = await account({ phone });
      assert.equal(await hints(['phone_number']).loginHint(phone), a);
      await account({ phone });
      assert.equal(await hints(['phone_number']).loginHint(phone), undefined, 'ambiguous');

      const patient = await account();
      const number = `P-${randomUUID().slice(0, 6)}`;
      await storage.db.insertInto('linked_resources').values({ id: randomUUID(), account_id: patient, kind: 'patient_number', ref: number, label: '診察券' }).execute();
      assert.equal(await hints(['username', 'linked:patient_number']).loginHint(` ${number} `), patient);
      assert.equal(await hints(['linked:bank_account']).loginHint(number), undefined, 'another kind');
    });

    it('a phone number names the person only when verified', async () => {
      const phone = `+81-80-${randomUUID().slice(0, 8)}`;
      const id = randomUUID();
      await storage.db.insertInto('accounts').values({ id, username: `u-${id}`, claims: JSON.stringify({ phone_number: phone }) }).execute();
      assert.equal(await hints(['phone_number']).loginHint(phone), undefined);
    });

    it('an empty or over-long hint names nobody', async () => {
      assert.equal(await hints(['username']).loginHint('   '), undefined);
      assert.equal(await hints(['username']).loginHint('x'.repeat(300)), undefined);
    });
  });
}
