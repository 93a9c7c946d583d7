import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { ENGINES } from '../../test/support/engines.ts';
import type { Storage } from '../storage/db.ts';
import { createOidcAdapterFactory } from '../storage/oidc-adapter.ts';
import { createAuditLog } from '../audit/audit-log.ts';
import { createLogger } from '../shared/logger.ts';
import { createAccountDeletion, ERASED_WITH_ACCOUNT } from './account-deletion.ts';
import { createIdentityAssurance } from './identity-assurance.ts';
import { createLoginHistory } from './login-history.ts';
import { accountKey, ipKey } from './throttle-policy.ts';

/** Tables with an account_id that deletion clears without a cascade (short-lived challenges). */
const CLEARED_EXPLICITLY = ['webauthn_challenges', 'email_challenges'];

for (const engine of ENGINES) {
  describe(`account deletion on ${engine.name}`, { skip: engine.skip }, () => {
    let storage: Storage & { dispose(): Promise<void> };
    let deletion: ReturnType<typeof createAccountDeletion>;
    before(async () => {
      storage = await engine.open();
      deletion = createAccountDeletion(storage.db);
    });
    after(() => storage?.dispose());

    /**
     * An account with everything Sekisho can hold about a person: credentials, history, identity
     * verification, mail, throttle state, and protocol records written through the oidc-provider
     * adapter exactly as the provider writes them.
     */
    async function populatedAccount() {
      const db = storage.db;
      const id = randomUUID();
      const email = `p-${id.slice(0, 8)}@example.jp`;
      await db.insertInto('accounts').values({ id, username: `u-${id}`, email, claims: JSON.stringify({ email: email.toUpperCase(), name: '山田 太郎' }) }).execute();
      await db.insertInto('passkeys').values({ id: `pk-${id}`, account_id: id, name: 'iPhone', public_key: 'AA', transports: '[]', device_type: 'multiDevice', backed_up: true }).execute();
      await db.insertInto('totp_credentials').values({ account_id: id, secret: 'sealed' }).execute();
      await db.insertInto('recovery_codes').values({ account_id: id, code_hash: `h-${id}` }).execute();
      await createLoginHistory(db).record({ accountId: id, ip: '192.0.2.1', userAgent: 'Safari', deviceId: 'd1', method: 'passkey', result: 'success' });
      await db.insertInto('session_details').values({ session_uid: `uid-${id}`, account_id: id, method: 'passkey' }).execute();
      const soon = new Date(Date.now() + 300_000);
      await db.insertInto('webauthn_challenges').values({ id: `ch-${id}`, purpose: 'registration', account_id: id, binding: 'account', expires_at: soon }).execute();
      await db.insertInto('email_challenges').values([
        { id: `ec-${id}`, purpose: 'email-change', email: `new-${email}`, account_id: id, code_hash: 'x', expires_at: soon },
        { id: `ec2-${id}`, purpose: 'recovery', email, account_id: null, code_hash: 'x', expires_at: soon },
      ]).execute();
      await db.insertInto('throttle').values({ key: accountKey(id), failures: 2, expires_at: soon }).execute();
      await db.insertInto('mail_outbox').values({ recipient: email, subject: 'new sign-in', body: 'Hello 山田 太郎', transport: 'mailbox' }).execute();
      await createIdentityAssurance(db).record({
        accountId: id, level: 'ial2', trustFramework: 'jp_aml', method: 'vcrypt', verifier: 'Online KYC',
        verifiedAt: new Date(), evidence: [{ type: 'document', document_details: { type: 'jp_individual_number_card' } }],
        verifiedClaims: { family_name: '山田', given_name: '太郎' },
      });
      await createAuditLog(db, createLogger('error')).record({ type: 'account.created', outcome: 'success', subject: id });

      const adapter = createOidcAdapterFactory(db, { onConsumeConflict: async () => { throw new Error('conflict'); } });
      const grantId = `grant-${id}`;
      const save = (model: string, recordId: string, payload: Record<string, unknown>) => adapter(model).upsert(recordId, payload, 3600);
      await save('Session', `sess-${id}`, { accountId: id, uid: `uid-${id}`, loginTs: 1, authorizations: { app: { sid: 's', grantId } }, kind: 'Session' });
      await save('Grant', grantId, { accountId: id, clientId: 'app', openid: { scope: 'openid' }, kind: 'Grant', jti: grantId });
      for (const model of ['AccessToken', 'RefreshToken', 'AuthorizationCode']) {
        await save(model, `${model}-${id}`, { accountId: id, grantId, clientId: 'app', kind: model });
      }
      await save('DeviceCode', `dc-${id}`, { accountId: id, clientId: 'tv', userCode: `UC-${id}`, kind: 'DeviceCode' });
      // Issued under the grant, whatever it says about the account.
      await save('BackchannelAuthenticationRequest', `ciba-${id}`, { grantId, clientId: 'bank', kind: 'BackchannelAuthenticationRequest' });
      await save('Interaction', `int-s-${id}`, { session: { accountId: id, uid: `uid-${id}` }, kind: 'Interaction', uid: `i1-${id}` });
      await save('Interaction', `int-r-${id}`, { result: { login: { accountId: id } }, kind: 'Interaction', uid: `i2-${id}` });
      return { id, email };
    }

    /** How many rows of each kind name the account (by id, e-mail, or through its records). */
    async function footprint(id: string, email: string) {
      const db = storage.db;
      const n = async (q: { executeTakeFirstOrThrow(): Promise<{ n: string | number | bigint }> }) => Number((await q.executeTakeFirstOrThrow()).n);
      const count = sql<string>`count(*)`.as('n');
      const byAccount = async (table: 'passkeys' | 'totp_credentials' | 'recovery_codes' | 'login_history' | 'session_details' | 'identity_verifications' | 'webauthn_challenges' | 'email_challenges') =>
        n(db.selectFrom(table).select(count).where('account_id', '=', id));
      return {
        accounts: await n(db.selectFrom('accounts').select(count).where('id', '=', id)),
        passkeys: await byAccount('passkeys'),
        totp: await byAccount('totp_credentials'),
        recoveryCodes: await byAccount('recovery_codes'),
        loginHistory: await byAccount('login_history'),
        sessionDetails: await byAccount('session_details'),
        verifications: await byAccount('identity_verifications'),
        webauthnChallenges: await byAccount('webauthn_challenges'),
        emailChallenges: await n(db.selectFrom('email_challenges').select(count).where((eb) => eb.or([eb('account_id', '=', id), eb('email', '=', email)]))),
        throttle: await n(db.selectFrom('throttle').select(count).where('key', '=', accountKey(id))),
        mail: await n(db.selectFrom('mail_outbox').select(count).where('recipient', '=', email)),
        protocol: await n(db.selectFrom('oidc_models').select(count).where((eb) => eb.or([
          eb('id', 'like', `%${id}`), eb(sql<string>`payload::text`, 'like', `%${id}%`),
        ]))),
      };
    }

    it('erases the account, its credentials, history, verifications, mail and every protocol record; another account is untouched', async () => {
      const me = await populatedAccount();
      const other = await populatedAccount();
      const clientCredentials = `cc-${randomUUID()}`;
      await createOidcAdapterFactory(storage.db, { onConsumeConflict: async () => { throw new Error('conflict'); } })('ClientCredentials')
        .upsert(clientCredentials, { clientId: 'batch', kind: 'ClientCredentials' }, 3600);
      await storage.db.insertInto('throttle').values({ key: ipKey('192.0.2.1'), failures: 1, expires_at: new Date(Date.now() + 60_000) }).execute();
      const otherBefore = await footprint(other.id, other.email);
      assert.ok(Object.values(await footprint(me.id, me.email)).every((v) => v > 0), 'the fixture holds every kind of row');

      const result = await deletion.deleteAccount(me.id, 'admin');
      assert.ok(result);
      assert.equal(result.accountId, me.id);
      assert.ok(result.deletedAt instanceof Date);
      assert.deepEqual(result.counts, { sessions: 1, grants: 1, tokens: 5, interactions: 2, passkeys: 1, identityVerifications: 1 });

      const after = await footprint(me.id, me.email);
      assert.deepEqual(Object.entries(after).filter(([, v]) => v !== 0), [], 'nothing of the account is left');
      assert.deepEqual(await footprint(other.id, other.email), otherBefore);
      assert.ok(await storage.db.selectFrom('oidc_models').select('id').where('id', '=', clientCredentials).executeTakeFirst(), 'records of no account stay');
      assert.ok(await storage.db.selectFrom('throttle').select('key').where('key', '=', ipKey('192.0.2.1')).executeTakeFirst(), 'address throttling stays');
    });

    it('keeps the audit trail and records the deletion without personal data', async () => {
      const me = await populatedAccount();
      await deletion.deleteAccount(me.id, 'self');
      const audit = await storage.db.selectFrom('audit_events').select('type').where('subject', '=', me.id).execute();
      assert.deepEqual(audit.map((a) => a.type), ['account.created']);
      const tombstone = await storage.db.selectFrom('deleted_accounts').selectAll().where('id', '=', me.id).executeTakeFirstOrThrow();
      assert.deepEqual(Object.keys(tombstone).sort(), ['deleted_at', 'id', 'reason']);
      assert.equal(tombstone.reason, 'self');
      assert.deepEqual(await deletion.wasDeleted(me.id), { deletedAt: tombstone.deleted_at, reason: 'self' });
      assert.equal(await deletion.wasDeleted(randomUUID()), undefined);
    });

    it('deleting twice, or concurrently, deletes once', async () => {
      const me = await populatedAccount();
      assert.ok(await deletion.deleteAccount(me.id, 'admin'));
      assert.equal(await deletion.deleteAccount(me.id, 'admin'), undefined);
      assert.equal(await deletion.deleteAccount(randomUUID(), 'self'), undefined);
      const again = await populatedAccount();
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => deletion.deleteAccount(again.id, i % 2 ? 'self' : 'admin')));
      assert.equal(results.filter((r) => r !== undefined).length, 1);
      assert.equal(results.find((r) => r !== undefined)?.counts.sessions, 1);
    });

    it('every table naming an account is erased with it on purpose (a consent table must not cascade)', async () => {
      // A new table that references accounts, or has an account_id, must be added here knowingly:
      // to ERASED_WITH_ACCOUNT when it is personal data, and never when it holds consent records
      // the law requires to be kept (those name the subject by id, without a cascading key).
      const cascades = await sql<{ table_name: string; delete_rule: string }>`
        SELECT c.conrelid::regclass::text AS table_name, c.confdeltype AS delete_rule
        FROM pg_constraint c WHERE c.contype = 'f' AND c.confrelid = 'accounts'::regclass`.execute(storage.db);
      // A table with two keys to accounts (delegations: principal and delegate) is listed once.
      assert.deepEqual([...new Set(cascades.rows.map((r) => r.table_name))].sort(), [...ERASED_WITH_ACCOUNT].sort());
      assert.ok(cascades.rows.every((r) => r.delete_rule === 'c'), 'each cascades');
      const withAccountId = await sql<{ table_name: string }>`
        SELECT table_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND column_name = 'account_id'`.execute(storage.db);
      // Tables that name the account in other columns (ciba_requests.subject, delegations) cascade by those.
      const namedOtherwise = new Set(['ciba_requests', 'delegations']);
      assert.deepEqual(withAccountId.rows.map((r) => r.table_name).sort(), [...ERASED_WITH_ACCOUNT.filter((t) => !namedOtherwise.has(t)), ...CLEARED_EXPLICITLY].sort());
    });
  });
}
