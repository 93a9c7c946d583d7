/** The sekisho command as an operator uses it: separate processes on one data folder. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { sql } from 'kysely';
import { createConsentLedger } from '../src/consent/ledger.ts';
import { parseConfig } from '../src/config/load.ts';
import { createLogger } from '../src/shared/logger.ts';
import { createMailer } from '../src/mail/mailer.ts';
import { signupCode, passkeyAdded } from '../src/mail/messages.ts';
import { useCliFolder } from './support/cli.ts';

const cli = useCliFolder('sekisho-cli-');
const run = cli.run;

describe('sekisho CLI', () => {
  it('migrate applies once, then reports up to date', async () => {
    const first = await run(['migrate']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /applied: 0001_core/);
    const second = await run(['migrate']);
    assert.match(second.stdout, /up to date/);
  });

  it('client add / list / show / remove with FAPI metadata checks that name the field', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    const metadata = {
      client_id: 'fintech-app', client_name: 'Fintech App', token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] },
      redirect_uris: ['https://fintech.example.jp/callback'], dpop_bound_access_tokens: true,
    };
    writeFileSync(join(cli.dir, 'client.json'), JSON.stringify(metadata));
    const added = await run(['client', 'add', '--file', join(cli.dir, 'client.json')]);
    assert.equal(added.code, 0, added.stderr);
    assert.equal(JSON.parse(added.stdout).client_id, 'fintech-app');

    const duplicate = await run(['client', 'add', '--file', '-'], JSON.stringify(metadata));
    assert.equal(duplicate.code, 65);
    assert.match(duplicate.stderr, /client_id: fintech-app is already registered/);

    const rs256 = await run(['client', 'add', '--file', '-'], JSON.stringify({ ...metadata, client_id: 'x', id_token_signed_response_alg: 'RS256' }));
    assert.equal(rs256.code, 65);
    assert.match(rs256.stderr, /^invalid_client_metadata: id_token_signed_response_alg/);
    const httpRedirect = await run(['client', 'add', '--file', '-'], JSON.stringify({ ...metadata, client_id: 'y', redirect_uris: ['http://fintech.example.jp/cb'] }));
    assert.match(httpRedirect.stderr, /^invalid_redirect_uri: redirect_uris/);
    const secret = await run(['client', 'add', '--file', '-'], JSON.stringify({ ...metadata, client_id: 'z', token_endpoint_auth_method: 'client_secret_basic' }));
    assert.match(secret.stderr, /^invalid_client_metadata: token_endpoint_auth_method/);
    const garbage = await run(['client', 'add', '--file', '-'], '{not json');
    assert.equal(garbage.code, 65);

    const list = await run(['client', 'list']);
    assert.match(list.stdout, /^fintech-app\tprivate_key_jwt\tsecurity-profile\tFintech App$/m);
    assert.doesNotMatch(list.stdout, /^[xyz]\t/m);
    const show = await run(['client', 'show', 'fintech-app']);
    assert.equal(JSON.parse(show.stdout).redirect_uris[0], 'https://fintech.example.jp/callback');
    const removed = await run(['client', 'remove', 'fintech-app']);
    assert.equal(removed.code, 0);
    assert.equal((await run(['client', 'remove', 'fintech-app'])).code, 1);
    assert.equal((await run(['client', 'list'])).stdout, '');
  });

  it('user add reads the password from standard input and refuses a weak one', async () => {
    const ok = await run(['user', 'add', '--username', 'hanako', '--claims', '{"email":"hanako@example.jp","name":"山田 花子"}'], 'correct horse battery staple\n');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).username, 'hanako');
    const taken = await run(['user', 'add', '--username', 'hanako'], 'another long password\n');
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /taken/);
    const weak = await run(['user', 'add', '--username', 'taro'], 'short\n');
    assert.equal(weak.code, 65);
    const badClaims = await run(['user', 'add', '--username', 'jiro', '--claims', '{"email":"not-an-email"}'], 'long enough password\n');
    assert.match(badClaims.stderr, /--claims: email/);
  });

  it('user verify / verifications / unverify record identity assurance, each in the audit log', async () => {
    const added = await run(['user', 'add', '--username', 'ichiro', '--claims', '{"given_name":"一郎","family_name":"鈴木","birthdate":"1980-01-01","email":"ichiro@example.jp"}'], 'a long enough password\n');
    assert.equal(added.code, 0, added.stderr);
    const accountId = JSON.parse(added.stdout).id;
    const verify = (...args: string[]) => run(['user', 'verify', 'ichiro', '--trust-framework', 'jp_aml', '--verifier', 'Branch 012, Tanaka', ...args]);

    const online = await verify('--level', 'ial2', '--method', 'vcrypt', '--document-type', 'jp_individual_number_card');
    assert.equal(online.code, 0, online.stderr);
    const ial2 = JSON.parse(online.stdout);
    assert.equal(ial2.level, 'ial2');
    assert.deepEqual(ial2.claims.sort(), ['birthdate', 'family_name', 'given_name'], 'the account\'s own claims, not its e-mail address');
    const branch = await verify('--level', 'ial3', '--method', 'vpip', '--verified-at', '2025-03-01T10:00:00+09:00',
      '--claims', '{"given_name":"一郎","family_name":"鈴木","family_name#ja-Kana-JP":"スズキ","nationalities":["JP"]}');
    assert.equal(branch.code, 0, branch.stderr);
    const ial3 = JSON.parse(branch.stdout);
    assert.equal(ial3.verifiedAt, '2025-03-01T01:00:00.000Z');

    const remoteIal3 = await verify('--level', 'ial3', '--method', 'vcrypt');
    assert.equal(remoteIal3.code, 65);
    assert.match(remoteIal3.stderr, /method: ial3 needs in-person/);
    assert.match((await verify('--level', 'ial2', '--method', 'vcrypt', '--claims', '{"email":"ichiro@example.jp"}')).stderr, /verifiedClaims\.email: not a claim/);
    assert.equal((await verify('--level', 'ial2', '--method', 'vcrypt', '--claims', '{given_name}')).code, 65);
    assert.equal((await verify('--level', 'ial2')).code, 64);
    assert.equal((await run(['user', 'verify', 'nobody', '--level', 'ial2', '--trust-framework', 'jp_aml', '--method', 'vcrypt', '--verifier', 'x'])).code, 1);

    const listed = (await run(['user', 'verifications', 'ichiro'])).stdout.trim().split('\n').map((l) => l.split('\t'));
    assert.deepEqual(listed.map((l) => [l[0], l[1], l[2], l[3], l[5]]), [[ial3.id, 'ial3', 'jp_aml', 'vpip', 'in force'], [ial2.id, 'ial2', 'jp_aml', 'vcrypt', 'in force']]);
    assert.equal(listed[0]?.[6], 'Branch 012, Tanaka');

    const revoked = await run(['user', 'unverify', 'ichiro', ial3.id, '--reason', 'forged document']);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /is now ial2$/m);
    assert.equal((await run(['user', 'unverify', 'ichiro', ial3.id])).code, 1);
    assert.match((await run(['user', 'verifications', 'ichiro'])).stdout, new RegExp(`^${ial3.id}\tial3\t.*\trevoked \\d{4}-`, 'm'));

    const audit = (type: string) => run(['audit', 'list', '--type', type]).then((r) => r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)));
    const verified = await audit('identity.verified');
    assert.deepEqual(verified.map((e) => [e.subject, e.details.verification, e.details.level]), [[accountId, ial3.id, 'ial3'], [accountId, ial2.id, 'ial2']]);
    const withdrawn = await audit('identity.verification_revoked');
    assert.deepEqual(withdrawn.map((e) => [e.subject, e.details.verification, e.details.reason]), [[accountId, ial3.id, 'forged document']]);
  });

  it('user delete erases the account, frees its name and leaves an audit event saying what was removed', async () => {
    const added = await run(['user', 'add', '--username', 'saburo', '--claims', '{"family_name":"佐藤"}'], 'a long enough password\n');
    assert.equal(added.code, 0, added.stderr);
    const accountId = JSON.parse(added.stdout).id;
    assert.equal((await run(['user', 'verify', 'saburo', '--level', 'ial2', '--trust-framework', 'jp_aml', '--method', 'vcrypt', '--verifier', 'Online KYC'])).code, 0);

    const deleted = await run(['user', 'delete', 'saburo']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(JSON.parse(deleted.stdout), { id: accountId, deleted: { sessions: 0, grants: 0, tokens: 0, interactions: 0, passkeys: 0, identityVerifications: 1 } });
    const again = await run(['user', 'delete', 'saburo']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no account saburo/);
    assert.equal((await run(['user', 'verifications', 'saburo'])).code, 1);
    assert.equal((await run(['user', 'delete'])).code, 64);

    const events = (await run(['audit', 'list', '--type', 'account.deleted'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(events.map((e) => [e.subject, e.details.by, e.details.counts.identityVerifications]), [[accountId, 'admin', 1]]);
    // The earlier events about the account stay: they name it only by its id.
    assert.ok((await run(['audit', 'list', '--type', 'identity.verified'])).stdout.includes(accountId));
    assert.equal((await run(['user', 'add', '--username', 'saburo'], 'a long enough password\n')).code, 0, 'the name is free again');
  });

  it('assisted recovery: set-email and set-password (from stdin) end the sessions and tell the old address', async () => {
    // Its own data folder: the mail it sends must not show up in the mailbox test.
    const own = { SEKISHO_DATA_DIR: join(cli.dir, 'data-assisted') };
    const added = await run(['user', 'add', '--username', 'shiro'], 'the first password\n', own);
    assert.equal(added.code, 0, added.stderr);
    assert.equal((await run(['user', 'set-email', 'shiro', 'not-an-address'], '', own)).code, 65);
    const first = await run(['user', 'set-email', 'shiro', 'Shiro@Example.jp'], '', own);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(JSON.parse(first.stdout).sessionsEnded, 0);
    assert.equal((await run(['user', 'set-password', 'shiro'], 'short\n', own)).code, 65, 'too short');
    const reset = await run(['user', 'set-password', 'shiro'], 'a brand new passphrase\n', own);
    assert.equal(reset.code, 0, reset.stderr);
    await cli.withStorage(async (db) => {
      const row = await db.selectFrom('accounts').select(['email']).where('username', '=', 'shiro').executeTakeFirstOrThrow();
      assert.equal(row.email, 'shiro@example.jp', 'stored lower-case and usable for e-mail recovery');
      const mail = await db.selectFrom('mail_outbox').select(['recipient', 'subject']).where('recipient', '=', 'shiro@example.jp').execute();
      assert.equal(mail.length, 1, 'the password reset is told to the address on record');
    }, own.SEKISHO_DATA_DIR);
    const events = (await run(['audit', 'list', '--type', 'password.changed'], '', own)).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(events.at(-1).details.via, 'cli');
    assert.equal((await run(['user', 'set-password', 'nobody'], 'a brand new passphrase\n', own)).code, 1);
  });

  it('consent verify finds a tampered ledger record; consent receipt prints a signed receipt', async () => {
    // Any command that starts the app makes the schema and the signing keys.
    assert.equal((await run(['user', 'add', '--username', 'goro'], 'a long enough password\n')).code, 0);
    const id = await cli.withStorage(async (db) => {
      const ledger = createConsentLedger(db, { retentionDays: 1096 });
      const parts = { scopes: ['openid', 'accounts'], claims: [], resources: {}, authorizationDetails: [] };
      let last = '';
      for (const subject of ['a', 'b', 'c']) {
        last = (await ledger.append({ subject, clientId: 'app', action: 'create', decision: 'approved', channel: 'web', requested: parts, granted: parts, context: {} })).id;
      }
      return last;
    });
    const ok = await run(['consent', 'verify']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).records, 3);
    const receipt = await run(['consent', 'receipt', id]);
    assert.equal(receipt.code, 0, receipt.stderr);
    assert.equal(decodeProtectedHeader(receipt.stdout.trim()).typ, 'consent-receipt+jwt');
    assert.equal((await run(['consent', 'receipt', '00000000-0000-0000-0000-000000000000'])).code, 1);

    await cli.withStorage(async (db) => {
      await sql`ALTER TABLE consent_records DISABLE TRIGGER consent_records_append_only`.execute(db);
      await sql`UPDATE consent_records SET decision = 'denied' WHERE subject = 'b'`.execute(db);
    });
    const broken = await run(['consent', 'verify']);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /broken at record \d+ .*its content was changed/);
  });

  it('keys list and rotate: new keys sign, old ones stay published for the overlap', async () => {
    const before = await run(['keys', 'list']);
    const active = before.stdout.trim().split('\n');
    assert.equal(active.length, 3);
    assert.ok(active.every((l) => l.endsWith('\tactive')));
    const rotated = await run(['keys', 'rotate']);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.equal(JSON.parse(rotated.stdout).created.length, 3);
    const afterList = (await run(['keys', 'list'])).stdout.trim().split('\n');
    assert.equal(afterList.filter((l) => l.endsWith('\tactive')).length, 3);
    assert.equal(afterList.filter((l) => l.includes('retired, published until')).length, 3);
    const audit = await run(['audit', 'list', '--type', 'key.rotated']);
    assert.equal(audit.stdout.trim().split('\n').length, 1);
  });

  it('configuration errors name the key and exit 78', async () => {
    const bad = await run(['migrate'], '', { SEKISHO_TTL__AUTHORIZATION_CODE: '600' });
    assert.equal(bad.code, 78);
    assert.match(bad.stderr, /ttl\.authorizationCode/);
    const prod = await run(['migrate'], '', { SEKISHO_MODE: 'production', SEKISHO_KEY_ENCRYPTION_KEY: '' });
    assert.equal(prod.code, 78);
    assert.match(prod.stderr, /issuer: must be an https URL in production/);
    assert.match(prod.stderr, /keyEncryptionKey: required in production/);
    assert.match(prod.stderr, /mail\.smtp: required in production/);
  });

  it('mail list prints the development mailbox newest first, and is refused in production', async () => {
    const empty = await run(['mail', 'list']);
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(empty.stdout, '');
    assert.match(empty.stderr, /mailbox is empty/);

    // The server process would write these; here the test does, on the same data folder.
    await cli.withStorage(async (db) => {
      const mailer = createMailer({ config: parseConfig({}), db, logger: createLogger('error') });
      await mailer.send({ to: 'hanako@example.jp', ...signupCode({ code: '246810', minutes: 10 }) });
      await mailer.send({ to: 'taro@example.jp', ...signupCode({ code: '135790', minutes: 10 }) });
      await mailer.send({ to: 'hanako@example.jp', ...passkeyAdded({ name: 'YubiKey', when: new Date('2025-04-01T00:00:00Z') }) });
    });

    const all = await run(['mail', 'list']);
    assert.equal(all.code, 0, all.stderr);
    const added = all.stdout.indexOf('【Sekisho】パスキーが追加されました');
    assert.ok(added >= 0 && added < all.stdout.indexOf('135790') && all.stdout.indexOf('135790') < all.stdout.indexOf('246810'), 'newest first');
    assert.match(all.stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z {2}To: hanako@example\.jp\nSubject: 【Sekisho】メールアドレスの確認コード \/ Your verification code\n\n.*確認コード: 246810/ms);

    const hanako = await run(['mail', 'list', '--to', 'hanako@example.jp', '--limit', '1']);
    assert.equal(hanako.code, 0, hanako.stderr);
    assert.match(hanako.stdout, /パスキーの名前: YubiKey/);
    assert.doesNotMatch(hanako.stdout, /246810|135790/);
    assert.equal((await run(['mail', 'list', '--limit', 'ten'])).code, 64);

    const production = await run(['mail', 'list'], '', { SEKISHO_MODE: 'production', SEKISHO_ISSUER: 'https://as.example.jp', SEKISHO_MAIL__SMTP__HOST: 'smtp.example.jp' });
    assert.equal(production.code, 1);
    assert.equal(production.stdout, '');
    assert.match(production.stderr, /^mail list: there is no development mailbox in production mode/);
  });

  it('start serves /readyz and shuts down gracefully on SIGTERM', async () => {
    const child = cli.spawn(['start'], { SEKISHO_PORT: '0', SEKISHO_LOG_LEVEL: 'info' });
    let output = '';
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line: ${output}`)), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        output += d;
        const m = /"msg":"sekisho listening".*"port":(\d+)/.exec(output);
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      });
    });
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 200);
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(output, /"msg":"shutting down","signal":"SIGTERM"/);
  });
});
