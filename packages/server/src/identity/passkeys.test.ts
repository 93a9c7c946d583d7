import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ENGINES } from '../../test/support/engines.ts';
import type { Storage } from '../storage/db.ts';
import { createAccounts } from './accounts.ts';
import { createPasskeys, PasskeyError, relyingPartyFor } from './passkeys.ts';

for (const engine of ENGINES) {
  describe(`passkeys on ${engine.name}`, { skip: engine.skip }, () => {
    let storage: Storage & { dispose(): Promise<void> };
    let passkeys: ReturnType<typeof createPasskeys>;
    before(async () => {
      storage = await engine.open();
      passkeys = createPasskeys(storage.db, relyingPartyFor('https://id.example.jp'));
    });
    after(() => storage?.dispose());

    const newAccount = async () => {
      const id = randomUUID();
      await storage.db.insertInto('accounts').values({ id, username: `u-${id}`, claims: '{}' }).execute();
      return id;
    };
    /** A stored passkey row (the ceremonies themselves are tested in Chromium: test/browser/passkeys.test.ts). */
    const addPasskey = async (accountId: string) => {
      const id = randomUUID();
      await storage.db.insertInto('passkeys').values({ id, account_id: accountId, name: 'k', public_key: 'AA', transports: '[]', device_type: 'singleDevice', backed_up: false }).execute();
      return id;
    };

    it('the RP is the issuer host and origin', () => {
      assert.deepEqual(relyingPartyFor('https://id.example.jp:8443/x'), { id: 'id.example.jp', name: 'Sekisho', origins: ['https://id.example.jp:8443'] });
    });

    it('never removes the last way to sign in; with a password it may, where passwords count', async () => {
      const me = await newAccount();
      const only = await addPasskey(me);
      assert.equal(await passkeys.remove(me, only, true), 'last', 'no password on the account');
      await storage.db.updateTable('accounts').set({ password_hash: 'scrypt$1$1$1$x$y' }).where('id', '=', me).execute();
      assert.equal(await passkeys.remove(me, only, false), 'last', 'a password in a passwordless-only deployment is no way in');
      assert.equal(await passkeys.count(me), 1);
      assert.equal(await passkeys.remove(me, only, true), 'removed');
      assert.equal(await passkeys.remove(me, only, true), 'not-found');
    });

    it('removing the password and the last passkey at once leaves one of them', async () => {
      const accounts = createAccounts(storage.db);
      const me = await newAccount();
      await storage.db.updateTable('accounts').set({ password_hash: 'scrypt$1$1$1$x$y' }).where('id', '=', me).execute();
      const only = await addPasskey(me);
      const [passwordResult, passkeyResult] = await Promise.all([accounts.removePassword(me), passkeys.remove(me, only, true)]);
      const row = await storage.db.selectFrom('accounts').select('password_hash').where('id', '=', me).executeTakeFirstOrThrow();
      const left = (row.password_hash !== null ? 1 : 0) + await passkeys.count(me);
      assert.ok(left >= 1, `${passwordResult} / ${passkeyResult}: the account keeps a way in`);
    });

    it('two concurrent removals of the last two passkeys leave one', async () => {
      const me = await newAccount();
      const [a, b] = [await addPasskey(me), await addPasskey(me)];
      const results = await Promise.all([passkeys.remove(me, a, false), passkeys.remove(me, b, false)]);
      assert.deepEqual(results.sort(), ['last', 'removed']);
      assert.equal(await passkeys.count(me), 1);
    });

    it('removes and renames only the owner\'s passkeys', async () => {
      const me = await newAccount();
      const other = await newAccount();
      const theirs = await addPasskey(other);
      await addPasskey(other);
      assert.equal(await passkeys.remove(me, theirs, true), 'not-found');
      assert.equal(await passkeys.rename(me, theirs, 'mine now'), false);
      assert.equal(await passkeys.rename(other, theirs, '  iPhone  '), true);
      assert.equal((await passkeys.list(other)).find((p) => p.id === theirs)?.name, 'iPhone');
    });

    it('refuses an unknown credential and another person\'s passkey at step-up, before any verification', async () => {
      const me = await newAccount();
      const other = await newAccount();
      const theirs = await addPasskey(other);
      const options = await passkeys.authenticationOptions({ binding: 'interaction:x', accountId: me });
      assert.deepEqual(options.allowCredentials, []);
      await assert.rejects(passkeys.authenticate({ binding: 'interaction:x', response: { id: 'nope' } as never, accountId: me }), (e: unknown) => e instanceof PasskeyError && e.reason === 'unknown-credential');
      await assert.rejects(passkeys.authenticate({ binding: 'interaction:x', response: { id: theirs } as never, accountId: me }), (e: unknown) => e instanceof PasskeyError && e.reason === 'wrong-account');
      await assert.rejects(passkeys.authenticate({ binding: 'interaction:x', response: { id: theirs, response: { userHandle: 7 } } as never }), (e: unknown) => e instanceof PasskeyError && e.reason === 'invalid');
    });

    it('a challenge is refused on another page, and works only once', async () => {
      const me = await newAccount();
      const pk = await addPasskey(me);
      const options = await passkeys.authenticationOptions({ binding: 'interaction:a' });
      const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin: 'https://id.example.jp' })).toString('base64url');
      const response = { id: pk, rawId: pk, type: 'public-key', clientExtensionResults: {}, response: { clientDataJSON, authenticatorData: 'AA', signature: 'AA' } };
      await assert.rejects(passkeys.authenticate({ binding: 'interaction:b', response: response as never }), (e: unknown) => e instanceof PasskeyError && e.reason === 'challenge');
      // Right page: the challenge is consumed (the fake signature then fails), and a second try finds it gone.
      await assert.rejects(passkeys.authenticate({ binding: 'interaction:a', response: response as never }), (e: unknown) => e instanceof PasskeyError && e.reason !== 'challenge');
      await assert.rejects(passkeys.authenticate({ binding: 'interaction:a', response: response as never }), (e: unknown) => e instanceof PasskeyError && e.reason === 'challenge');
    });
  });
}
