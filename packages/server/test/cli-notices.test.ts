/** `sekisho client notice …` as an operator uses it: separate processes on one data folder. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClientsRepository, type ClientsRepository } from '../src/storage/clients-repo.ts';
import { noticeHash, type NoticeContent } from '../src/consent/notices.ts';
import { useCliFolder } from './support/cli.ts';

// The documented example (docs/consent-notices.md) is what the operator publishes here.
const DOC = readFileSync(new URL('../../../docs/consent-notices.md', import.meta.url), 'utf8');
const EXAMPLE = JSON.parse(/```json\n([\s\S]*?)\n```/.exec(DOC)![1]!) as NoticeContent;
const cli = useCliFolder('sekisho-cli-notices-');
const run = cli.run;

/** The clients table as `client add` and `client remove` leave it (those commands have their own tests in cli.test.ts). */
async function withClients(fn: (clients: ClientsRepository) => Promise<unknown>): Promise<void> {
  await cli.withStorage((db) => fn(createClientsRepository(db)));
}

describe('sekisho client notice', () => {
  it('publishes versions of a registered client\'s notice; identical content makes none; each new one is audited', async () => {
    await withClients((clients) => clients.insert({ client_id: 'kakeibo-biyori', client_name: 'Kakeibo Biyori', redirect_uris: ['https://kakeibo-biyori.example.jp/callback'] }));

    writeFileSync(join(cli.dir, 'notice.json'), JSON.stringify(EXAMPLE));
    const first = await run(['client', 'notice', 'publish', 'kakeibo-biyori', '--file', join(cli.dir, 'notice.json')]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(JSON.parse(first.stdout), { client_id: 'kakeibo-biyori', version: 1, unchanged: false, notice: 'kakeibo-biyori@1', hash: noticeHash(EXAMPLE) });

    const again = await run(['client', 'notice', 'publish', 'kakeibo-biyori', '--file', '-'], JSON.stringify(Object.fromEntries(Object.entries(EXAMPLE).reverse())));
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual([JSON.parse(again.stdout).version, JSON.parse(again.stdout).unchanged], [1, true], 'the same content in another order');

    const longer = { ...EXAMPLE, retention: { ja: '連携を解除した日から 3 年後に削除します。', en: 'Deleted three years after you disconnect your bank.' } };
    const second = await run(['client', 'notice', 'publish', 'kakeibo-biyori', '--file', '-'], JSON.stringify(longer));
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual([JSON.parse(second.stdout).version, JSON.parse(second.stdout).unchanged], [2, false]);

    const events = (await run(['audit', 'list', '--type', 'consent.notice_published'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(events.map((e) => [e.clientId, e.details.version, e.details.hash, e.details.via]), [
      ['kakeibo-biyori', 2, noticeHash(longer), 'cli'], ['kakeibo-biyori', 1, noticeHash(EXAMPLE), 'cli'],
    ], 'one event per new version, none for the unchanged publish');
  });

  it('refuses an unknown client, an invalid notice (naming the field) and bad arguments', async () => {
    const unknown = await run(['client', 'notice', 'publish', 'nobody', '--file', '-'], JSON.stringify(EXAMPLE));
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^no client nobody$/m);

    const broken = structuredClone(EXAMPLE);
    broken.data[2]!.purposes = ['alert'];
    broken.recipients[0]!.jurisdiction = 'USA';
    const invalid = await run(['client', 'notice', 'publish', 'kakeibo-biyori', '--file', '-'], JSON.stringify({ ...broken, tracking: true }));
    assert.equal(invalid.code, 65);
    assert.match(invalid.stderr, /^invalid notice: data\.2\.purposes\.0: no purpose has the id alert$/m);
    assert.match(invalid.stderr, /^invalid notice: recipients\.0\.jurisdiction: must be an ISO 3166-1 alpha-2/m);
    assert.match(invalid.stderr, /^invalid notice: .*tracking/m);
    assert.equal(invalid.stdout, '');

    assert.equal((await run(['client', 'notice', 'publish', 'kakeibo-biyori', '--file', '-'], '{not json')).code, 65);
    assert.equal((await run(['client', 'notice', 'publish', 'kakeibo-biyori'])).code, 64, 'no --file');
    assert.equal((await run(['client', 'notice', 'publish', '--file', 'x.json'])).code, 64, 'no client_id');
    assert.equal((await run(['client', 'notice', 'withdraw', 'kakeibo-biyori'])).code, 64);
    assert.equal((await run(['client', 'notice', 'show', 'kakeibo-biyori', '--version', 'latest'])).code, 64);
    assert.equal((await run(['client', 'notices'])).code, 64);
    assert.equal((await run(['client', 'notices', 'kakeibo-biyori'])).stdout.trim().split('\n').length, 2, 'nothing was published by the refused attempts');
  });

  it('show prints a version as JSON; notices lists them newest first; both outlive the client', async () => {
    const current = await run(['client', 'notice', 'show', 'kakeibo-biyori']);
    assert.equal(current.code, 0, current.stderr);
    const shown = JSON.parse(current.stdout);
    assert.equal(shown.version, 2);
    assert.match(shown.content.retention.en, /three years/);
    const first = await run(['client', 'notice', 'show', 'kakeibo-biyori', '--version', '1']);
    assert.deepEqual(JSON.parse(first.stdout).content, EXAMPLE);
    assert.equal(JSON.parse(first.stdout).hash, noticeHash(EXAMPLE));
    const missing = await run(['client', 'notice', 'show', 'kakeibo-biyori', '--version', '9']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no notice version 9/);

    const listed = (await run(['client', 'notices', 'kakeibo-biyori'])).stdout.trim().split('\n').map((l) => l.split('\t'));
    assert.deepEqual(listed.map((l) => [l[0], l[2]]), [['2', shown.hash], ['1', noticeHash(EXAMPLE)]]);
    assert.ok(listed.every((l) => !Number.isNaN(Date.parse(l[1]!)) && l[1]!.endsWith('Z')));

    await withClients((clients) => clients.remove('kakeibo-biyori'));
    assert.equal((await run(['client', 'notices', 'kakeibo-biyori'])).stdout.trim().split('\n').length, 2, 'the ledger may name these versions');
    assert.equal((await run(['client', 'notice', 'show', 'kakeibo-biyori', '--version', '1'])).code, 0);
    assert.equal((await run(['client', 'notice', 'publish', 'kakeibo-biyori', '--file', '-'], JSON.stringify(EXAMPLE))).code, 1, 'no new version for a removed client');
    const none = await run(['client', 'notices', 'other-app']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /client other-app has no notice/);
  });

  it('help lists the notice commands', async () => {
    assert.match((await run(['help'])).stdout, /client notice publish <client_id> --file <json\|->[\s\S]*client notices <client_id>/);
  });
});
