/**
 * `sekisho user devices | device-remove` as the help desk uses them for a person who lost their
 * only phone: separate processes on one data folder.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAccounts } from '../src/identity/accounts.ts';
import { createAuthenticationDevices } from '../src/ciba/devices.ts';
import { useCliFolder } from './support/cli.ts';

const cli = useCliFolder('sekisho-cli-devices-');
const run = cli.run;

type Bound = { id: string; secret: string };
let lost: Bound;
let tablet: Bound;
let theirs: Bound;

before(async () => {
  // The phones were linked in the device app; here the test links them directly.
  [lost, tablet, theirs] = await cli.withStorage(async (db) => {
    const accounts = createAccounts(db);
    const hanako = await accounts.create({ username: 'hanako', password: 'a long enough password' });
    const taro = await accounts.create({ username: 'taro', password: 'a long enough password' });
    await accounts.create({ username: 'jiro', password: 'a long enough password' });
    const devices = createAuthenticationDevices(db);
    const bound = async (accountId: string, name: string) => {
      const { device, secret } = await devices.bind(accountId, name);
      return { id: device.id, secret };
    };
    const phone = await bound(hanako.id, 'Pixel 8');
    await devices.setPushSubscription(phone.id, { endpoint: 'https://push.example/1', keys: { p256dh: 'p', auth: 'a' } });
    return [phone, await bound(hanako.id, 'iPad'), await bound(taro.id, 'Taro’s phone')];
  });
});

const authenticates = (secret: string) => cli.withStorage(async (db) => (await createAuthenticationDevices(db).authenticate(secret)) !== undefined);
const listed = async (username: string) => {
  const r = await run(['user', 'devices', username]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
};

describe('sekisho user devices / device-remove', () => {
  it('lists the devices as JSON lines, removes the lost phone (it authenticates no more), lists it as removed; audited with via cli', async () => {
    const before = await listed('hanako');
    assert.deepEqual(before.map((d) => [d.id, d.name, d.notifications, d.removedAt]).sort(), [[lost.id, 'Pixel 8', true, null], [tablet.id, 'iPad', false, null]].sort());
    for (const d of before) {
      assert.match(String(d.linkedAt), /^\d{4}-\d\d-\d\dT/);
      assert.match(String(d.lastUsedAt), /^\d{4}-\d\d-\d\dT/);
    }

    const removed = await run(['user', 'device-remove', 'hanako', lost.id]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.stdout.trim(), `removed ${lost.id}`);
    assert.equal(await authenticates(lost.secret), false);
    assert.equal(await authenticates(tablet.secret), true, 'the other device still works');

    const after = await listed('hanako');
    assert.deepEqual(after.map((d) => d.id), [tablet.id, lost.id], 'active first, removed ones included');
    assert.match(String(after[1]!.removedAt), /^\d{4}-\d\d-\d\dT/);
    assert.equal(after[1]!.notifications, false, 'its push subscription went with it');

    const audit = await run(['audit', 'list', '--type', 'device.removed']);
    const events = audit.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.deepEqual(events.map((e) => e.details), [{ device: lost.id, via: 'cli' }]);
    assert.ok(!audit.stdout.includes(lost.secret));
  });

  it('refusals name the problem and exit non-zero; nothing of another person is touched', async () => {
    const refused = async (args: string[], code: number, message: RegExp) => {
      const r = await run(['user', ...args]);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    };
    await refused(['devices'], 64, /user devices needs a username/);
    await refused(['devices', 'nobody'], 1, /no account nobody/);
    await refused(['device-remove', 'hanako'], 64, /needs a username and a device id/);
    await refused(['device-remove', 'nobody', lost.id], 1, /no account nobody/);
    await refused(['device-remove', 'hanako', 'dev_nothing'], 1, /hanako has no device dev_nothing/);
    await refused(['device-remove', 'hanako', lost.id], 1, new RegExp(`hanako's device ${lost.id} was already removed \\(\\d{4}-`));
    await refused(['device-remove', 'hanako', theirs.id], 1, new RegExp(`hanako has no device ${theirs.id}`));
    assert.equal(await authenticates(theirs.secret), true);

    const none = await run(['user', 'devices', 'jiro']);
    assert.equal(none.code, 0);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /jiro has no approval devices/);
  });

  it('the help lists the commands', async () => {
    const help = await run(['help']);
    assert.match(help.stdout, /user devices <username>/);
    assert.match(help.stdout, /user device-remove <username> <device-id>/);
  });
});
