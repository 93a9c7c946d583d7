/** `sekisho user link | links | unlink` as an operator uses them: separate processes on one data folder. */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAccounts } from '../src/identity/accounts.ts';
import { useCliFolder } from './support/cli.ts';

const cli = useCliFolder('sekisho-cli-links-');
const run = cli.run;

before(async () => {
  // The account exists already (created at sign-up or by `user add`); here the test makes it.
  await cli.withStorage((db) => createAccounts(db).create({ username: 'hanako', password: 'a long enough password' }));
});

describe('sekisho user link / links / unlink', () => {
  it('links a bank account and a patient record, lists them, unlinks one; each change is audited without the ref', async () => {
    const bank = await run(['user', 'link', 'hanako', '--kind', 'bank_account', '--ref', '0001-001-1234567', '--label', '普通 ****4567 (Main)']);
    assert.equal(bank.code, 0, bank.stderr);
    const account = JSON.parse(bank.stdout);
    assert.deepEqual({ ...account, id: undefined }, { id: undefined, kind: 'bank_account', ref: '0001-001-1234567', label: '普通 ****4567 (Main)' });
    assert.match(account.id, /^[0-9a-f-]{36}$/);
    const patient = await run(['user', 'link', 'hanako', '--kind', 'fhir_patient', '--ref', 'Patient/8f2c', '--label', '山田 花子']);
    assert.equal(patient.code, 0, patient.stderr);

    const listed = await run(['user', 'links', 'hanako']);
    assert.equal(listed.code, 0, listed.stderr);
    const rows = listed.stdout.trim().split('\n').map((l) => l.split('\t'));
    assert.deepEqual(rows.map((r) => r.slice(0, 4)), [
      [account.id, 'bank_account', '0001-001-1234567', '普通 ****4567 (Main)'],
      [JSON.parse(patient.stdout).id, 'fhir_patient', 'Patient/8f2c', '山田 花子'],
    ]);
    const banks = await run(['user', 'links', 'hanako', '--kind', 'bank_account']);
    assert.equal(banks.stdout.trim().split('\n').length, 1);

    const unlinked = await run(['user', 'unlink', 'hanako', account.id]);
    assert.equal(unlinked.code, 0, unlinked.stderr);
    assert.equal(unlinked.stdout.trim(), `unlinked ${account.id}`);
    const none = await run(['user', 'links', 'hanako', '--kind', 'bank_account']);
    assert.equal(none.code, 0);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /hanako has no linked bank_account/);

    const audit = (type: string) => run(['audit', 'list', '--type', type]).then((r) => r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)));
    const linkedEvents = await audit('account.resource_linked');
    assert.equal(linkedEvents.length, 2);
    assert.deepEqual(linkedEvents.map((e) => e.details.kind).sort(), ['bank_account', 'fhir_patient']);
    assert.ok(!JSON.stringify(linkedEvents).includes('1234567'), 'the account number stays out of the audit log');
    assert.deepEqual((await audit('account.resource_unlinked')).map((e) => e.details.id), [account.id]);
  });

  it('refusals name the problem and exit non-zero', async () => {
    const refused = async (args: string[], code: number, message: RegExp) => {
      const r = await run(['user', ...args]);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    };
    await refused(['link'], 64, /user link needs a username/);
    await refused(['link', 'hanako', '--kind', 'bank_account', '--ref', '1'], 64, /needs --kind, --ref and --label/);
    await refused(['link', 'hanako', '--kind', 'bank_acount', '--ref', '1', '--label', 'x'], 64, /--kind must be one of bank_account, fhir_patient/);
    await refused(['link', 'nobody', '--kind', 'bank_account', '--ref', '1', '--label', 'x'], 1, /no account nobody/);
    await refused(['link', 'hanako', '--kind', 'bank_account', '--ref', '1', '--label', 'x'.repeat(101)], 65, /label: at most 100 characters/);
    await refused(['link', 'hanako', '--kind', 'bank_account', '--ref', ' ', '--label', 'x'], 65, /ref: must not be empty/);
    assert.equal((await run(['user', 'link', 'hanako', '--kind', 'bank_account', '--ref', '0005-100-7654321', '--label', '当座 ****4321'])).code, 0);
    await refused(['link', 'hanako', '--kind', 'bank_account', '--ref', '0005-100-7654321', '--label', 'again'], 1, /already has bank_account 0005-100-7654321 linked/);
    await refused(['links', 'nobody'], 1, /no account nobody/);
    await refused(['unlink', 'hanako'], 64, /needs a username and an id/);
    await refused(['unlink', 'hanako', '00000000-0000-0000-0000-000000000000'], 1, /hanako has no linked resource 00000000/);
    // Another person's resource is not this person's to unlink.
    await cli.withStorage((db) => createAccounts(db).create({ username: 'taro', password: 'a long enough password' }));
    const theirs = JSON.parse((await run(['user', 'link', 'taro', '--kind', 'bank_account', '--ref', '9', '--label', 'Taro'])).stdout).id;
    await refused(['unlink', 'hanako', theirs], 1, /hanako has no linked resource/);
    assert.match((await run(['user', 'links', 'taro'])).stdout, new RegExp(`^${theirs}\t`));
  });

  it('the help lists the commands', async () => {
    const help = await run(['help']);
    assert.match(help.stdout, /user link <username> --kind bank_account\|fhir_patient --ref <ref> --label <label>/);
    assert.match(help.stdout, /user links <username>/);
    assert.match(help.stdout, /user unlink <username> <id>/);
  });
});
