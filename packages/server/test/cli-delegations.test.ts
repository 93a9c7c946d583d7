/** `sekisho delegation add | list | end` as an operator uses them: separate processes on one data folder. */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAccounts } from '../src/identity/accounts.ts';
import { createDelegations } from '../src/consent/delegations.ts';
import { useCliFolder } from './support/cli.ts';

const cli = useCliFolder('sekisho-cli-delegations-');
const run = cli.run;
const ids: Record<string, string> = {};

before(async () => {
  await cli.withStorage(async (db) => {
    for (const [username, name] of [['sakura', '山田 さくら'], ['hanako', '山田 花子'], ['ichiro', '佐藤 一郎']] as const) {
      ids[username] = (await createAccounts(db).create({ username, password: 'a long enough password', claims: { name } })).id;
    }
  });
});

const audit = (type: string) => run(['audit', 'list', '--type', type]).then((r) => r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)));

describe('sekisho delegation add / list / end', () => {
  it('registers a parent for a child with constraints, lists it, ends it; each change is audited without the evidence', async () => {
    const added = await run(['delegation', 'add', '--principal', 'sakura', '--delegate', 'hanako', '--relationship', 'parent',
      '--evidence', 'KOSEKI-2026-00123', '--verified-by', 'Suzuki (branch 001)', '--verified-at', '2026-01-10T10:00:00+09:00',
      '--scopes', 'openid,profile', '--types', 'fhir_record_access', '--exclude-sensitive', '--from', '2026-01-10T00:00:00+09:00', '--until', '2099-01-10T00:00:00+09:00']);
    assert.equal(added.code, 0, added.stderr);
    const d = JSON.parse(added.stdout);
    assert.match(d.id, /^dlg_/);
    assert.deepEqual({ ...d, id: undefined, createdAt: undefined }, {
      id: undefined, createdAt: undefined, principal: 'sakura', delegate: 'hanako', relationship: 'parent', evidence: 'KOSEKI-2026-00123',
      verifiedBy: 'Suzuki (branch 001)', verifiedAt: '2026-01-10T01:00:00.000Z', constraints: { scopes: ['openid', 'profile'], authorizationDetailTypes: ['fhir_record_access'], excludeSensitive: true },
      validFrom: '2026-01-09T15:00:00.000Z', validUntil: '2099-01-09T15:00:00.000Z', status: 'active', endedAt: null, endedBy: null, endReason: null,
    });
    const active = await cli.withStorage((db) => createDelegations(db).activeForDelegate(ids.hanako!));
    assert.deepEqual(active.map((x) => [x.id, x.principal]), [[d.id, ids.sakura]]);

    const listed = await run(['delegation', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    const row = listed.stdout.trim().split('\n').map((l) => l.split('\t')).find((r) => r[0] === d.id)!;
    assert.deepEqual(row.slice(0, 7), [d.id, 'sakura', 'hanako', 'parent', 'active', '2026-01-09T15:00:00.000Z', '2099-01-09T15:00:00.000Z']);
    assert.match(row.join('\t'), /KOSEKI-2026-00123/);
    const forHanako = await run(['delegation', 'list', '--account', 'hanako']);
    assert.match(forHanako.stdout, new RegExp(`^${d.id}\t`, 'm'));
    const forIchiro = await run(['delegation', 'list', '--account', 'ichiro']);
    assert.equal(forIchiro.code, 0);
    assert.match(forIchiro.stderr, /ichiro has no delegations/);

    const ended = await run(['delegation', 'end', d.id, '--reason', 'the child came of age']);
    assert.equal(ended.code, 0, ended.stderr);
    assert.equal(ended.stdout.trim(), `ended ${d.id}`);
    assert.deepEqual(await cli.withStorage((db) => createDelegations(db).activeForDelegate(ids.hanako!)), []);
    const again = await run(['delegation', 'end', d.id, '--reason', 'twice']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /has already ended/);
    assert.match((await run(['delegation', 'list', '--account', 'sakura'])).stdout, /\tended\t.*ended .* by operator: the child came of age/);

    const registered = await audit('delegation.registered');
    assert.deepEqual(registered.map((e) => [e.subject, e.details.id, e.details.delegate, e.details.relationship, e.details.via]), [[ids.sakura, d.id, ids.hanako, 'parent', 'cli']]);
    assert.ok(!JSON.stringify(registered).includes('KOSEKI'), 'the evidence reference stays out of the audit log');
    assert.deepEqual((await audit('delegation.ended')).map((e) => [e.subject, e.details.id, e.details.by, e.details.reason]), [[ids.sakura, d.id, 'operator', 'the child came of age']]);
  });

  it('without scopes or types the delegate can only sign in, and the operator is told', async () => {
    const r = await run(['delegation', 'add', '--principal', 'hanako', '--delegate', 'ichiro', '--relationship', 'caregiver', '--evidence', 'CARE-7', '--verified-by', 'Tanaka']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).constraints, {});
    assert.match(r.stderr, /can only sign in for the principal/);
  });

  it('refusals name the field and exit non-zero', async () => {
    const base = ['--principal', 'sakura', '--delegate', 'ichiro', '--relationship', 'appointed_proxy', '--evidence', 'POA-1', '--verified-by', 'Suzuki'];
    const refused = async (args: string[], code: number, message: RegExp) => {
      const r = await run(['delegation', ...args]);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    };
    // Refused while reading the arguments, before the data folder is opened: these may run side by side.
    await Promise.all([
      refused([], 64, /delegation add --principal/),
      refused(['add', '--principal', 'sakura'], 64, /missing --delegate, --relationship, --evidence, --verified-by/),
      refused(['add', ...base.slice(0, 4), '--relationship', 'friend', ...base.slice(6)], 64, /--relationship must be one of parent, legal_guardian, appointed_proxy, caregiver/),
      refused(['add', ...base, '--exclude-sensitve'], 64, /unknown argument --exclude-sensitve/),
      refused(['add', ...base, '--scopes'], 64, /--scopes needs a value/),
      refused(['add', ...base, '--evidence', 'again'], 64, /--evidence is given twice/),
      refused(['add', ...base, '--until', '2027-01-01'], 64, /--until must be an ISO 8601 time with its offset/),
      refused(['add', ...base, '--from', '2027-02-30T00:00:00+09:00'], 64, /--from must be an ISO 8601 time/),
      refused(['add', ...base, '--scopes', 'openid,emial'], 65, /--scopes: this server does not know emial/),
      refused(['end'], 64, /delegation end needs an id and --reason/),
      refused(['end', 'dlg_x'], 64, /needs an id and --reason/),
      refused(['list', '--account'], 64, /--account needs a username/),
      refused(['add', ...base, '--types', 'bank_transfer'], 65, /--types: this server does not know bank_transfer \(known: account_information, domestic_transfer, fhir_record_access/),
    ]);
    await refused(['add', ...base.slice(0, 2), '--delegate', 'nobody', ...base.slice(4)], 1, /--delegate: no account nobody/);
    await refused(['add', '--principal', 'nobody', ...base.slice(2)], 1, /--principal: no account nobody/);
    await refused(['add', ...base.slice(0, 2), '--delegate', 'sakura', ...base.slice(4)], 65, /--delegate: must be another account than the principal/);
    await refused(['add', ...base, '--from', '2027-01-01T00:00:00Z', '--until', '2026-01-01T00:00:00Z'], 65, /--until: must be after the start of the delegation/);
    // Every bad field is named at once, one line each.
    const bad = await run(['delegation', 'add', ...base.slice(0, 6), '--evidence', 'x'.repeat(501), '--verified-by', ' ', '--verified-at', '2099-01-01T00:00:00Z']);
    assert.equal(bad.code, 65, bad.stderr);
    assert.deepEqual(bad.stderr.trim().split('\n').sort(), [
      'delegation add: --evidence: at most 500 characters', 'delegation add: --verified-at: must not be in the future', 'delegation add: --verified-by: must not be empty',
    ]);
    assert.equal((await run(['delegation', 'add', ...base])).code, 0);
    await refused(['add', ...base], 1, /--relationship: the delegate already holds this delegation/);
    await refused(['end', 'dlg_nothing', '--reason', 'x'], 1, /no delegation dlg_nothing/);
    const id = (await run(['delegation', 'list', '--account', 'ichiro'])).stdout.split('\n').map((l) => l.split('\t')).find((r) => r[3] === 'appointed_proxy')![0]!;
    await refused(['end', id, '--reason', ' '], 65, /--reason: must not be empty/);
    await refused(['list', '--account', 'nobody'], 1, /--account: no account nobody/);
  });

  it('the help lists the commands', async () => {
    const help = await run(['help']);
    assert.match(help.stdout, /delegation add --principal <username> --delegate <username> --relationship parent\|legal_guardian\|appointed_proxy\|caregiver/);
    assert.match(help.stdout, /delegation list \[--account <username>\]/);
    assert.match(help.stdout, /delegation end <id> --reason <text>/);
  });
});
