import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { ENGINES } from '../../test/support/engines.ts';
import {
  createConsentNotices, InvalidNoticeError, noticeHash, noticeRef, optionalItems, parseNoticeContent, parseNoticeRef, purposesFor,
  type ConsentNotices, type NoticeContent,
} from './notices.ts';

// The example in the operator documentation is the fixture: the docs cannot drift from the schema.
const DOC = readFileSync(new URL('../../../../docs/consent-notices.md', import.meta.url), 'utf8');
const EXAMPLE = JSON.parse(/```json\n([\s\S]*?)\n```/.exec(DOC)![1]!) as NoticeContent;
const copy = (): NoticeContent => structuredClone(EXAMPLE);

/** The issues a notice is refused with, as "path: message". */
function refused(input: unknown): string[] {
  try { parseNoticeContent(input); } catch (err) {
    assert.ok(err instanceof InvalidNoticeError);
    assert.equal(err.code, 'invalid_notice');
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('the notice was accepted');
}

describe('notice content', () => {
  it('accepts the documented example, and a notice without the optional members and with nobody else receiving the data', () => {
    assert.deepEqual(parseNoticeContent(EXAMPLE), EXAMPLE);
    const { registrationNumber: _r, logoUri: _l, policyUri: _p, ...minimal } = copy();
    assert.deepEqual(parseNoticeContent({ ...minimal, recipients: [] }).recipients, []);
  });

  it('refuses unknown members at every level, naming them', () => {
    assert.match(refused({ ...copy(), tracking: true }).join(), /tracking|Unrecognized key/);
    const nested = copy();
    (nested.purposes[0] as Record<string, unknown>).hidden = 'x';
    assert.match(refused(nested)[0]!, /^purposes\.0: .*hidden/);
    const text = copy();
    (text.serviceName as Record<string, unknown>).fr = 'x';
    assert.match(refused(text)[0]!, /^serviceName: .*fr/);
  });

  it('names the field of each problem', () => {
    const n = copy();
    n.purposes.push({ id: 'household-book', text: { ja: '重複', en: 'Duplicate' } });
    n.data[2]!.purposes = ['alert'];
    n.data.push({ item: 'scope:accounts', purposes: ['alerts'], optional: false });
    n.recipients[0]!.jurisdiction = 'EU';
    n.jurisdiction = 'jp';
    n.logoUri = 'http://kakeibo-biyori.example.jp/logo.svg';
    n.retention.en = '   ';
    n.legalName.ja = '株式会社\u202Eひより';
    const issues = refused(n);
    for (const expected of [
      /^purposes\.3\.id: purpose household-book is listed twice$/, /^data\.2\.purposes\.0: no purpose has the id alert$/,
      /^data\.3\.item: scope:accounts is listed twice$/, /^recipients\.0\.jurisdiction: must be an ISO 3166-1 alpha-2/,
      /^jurisdiction: must be an ISO 3166-1/, /^logoUri: must be an https URL$/, /^retention\.en: must not be empty$/,
      /^legalName\.ja: must not contain control or text-direction characters$/,
    ]) assert.ok(issues.some((i) => expected.test(i)), `${expected} in ${issues.join(' | ')}`);
  });

  it('checks purpose ids, items, contact and lengths', () => {
    const bad = (change: (n: NoticeContent) => void) => { const n = copy(); change(n); return refused(n)[0]!; };
    assert.match(bad((n) => { n.purposes[0]!.id = 'Household Book'; }), /^purposes\.0\.id: must be 1–40 of a-z 0-9 _ -$/);
    assert.match(bad((n) => { n.data[0]!.item = 'openid'; }), /^data\.0\.item: must be scope:<name>/);
    assert.match(bad((n) => { n.data[0]!.purposes = []; }), /^data\.0\.purposes: /);
    assert.match(bad((n) => { n.purposes = []; }), /^purposes: /);
    assert.match(bad((n) => { (n.data[0] as Record<string, unknown>).optional = undefined; }), /^data\.0\.optional: /);
    assert.match(bad((n) => { n.contact = 'call us'; }), /^contact: must be an e-mail address, a phone number or an https URL$/);
    assert.match(bad((n) => { n.contact = 'https://privacy@evil.example/'; }), /^contact: /, 'a URL that hides its host behind a user name');
    assert.match(bad((n) => { n.contact = 'http://kakeibo-biyori.example.jp/contact'; }), /^contact: /);
    assert.match(bad((n) => { n.contact = 'x'.repeat(190) + '@example.jp'; }), /^contact: /);
    assert.match(bad((n) => { n.serviceName.ja = 'あ'.repeat(101); }), /^serviceName\.ja: /);
    assert.match(bad((n) => { n.policyUri = 'https://user:pw@example.jp/'; }), /^policyUri: must be an https URL$/);
    for (const contact of ['https://kakeibo-biyori.example.jp/contact', '0120-123-456', '+81 3-1234-5678', 'privacy@example.co.jp']) {
      assert.equal(parseNoticeContent({ ...copy(), contact }).contact, contact);
    }
    assert.equal(parseNoticeContent({ ...copy(), data: [{ item: 'authorization_details:payment_initiation', purposes: ['alerts'], optional: false }] }).data.length, 1);
  });

  it('hashes canonical JSON, names versions as the ledger does, and answers what is optional and why', () => {
    const reordered = Object.fromEntries(Object.entries(copy()).reverse()) as NoticeContent;
    assert.equal(noticeHash(reordered), noticeHash(EXAMPLE));
    assert.match(noticeHash(EXAMPLE), /^[0-9a-f]{64}$/);
    assert.equal(noticeRef('kakeibo-biyori', 3), 'kakeibo-biyori@3');
    assert.deepEqual(parseNoticeRef('app@corp@12'), { clientId: 'app@corp', version: 12 });
    assert.equal(parseNoticeRef('kakeibo-biyori'), undefined);
    assert.equal(parseNoticeRef('kakeibo-biyori@0'), undefined);
    assert.deepEqual(optionalItems(EXAMPLE), new Set(['claim:email']));
    assert.deepEqual(purposesFor(EXAMPLE, 'scope:accounts').map((p) => p.id), ['household-book', 'statistics']);
    assert.deepEqual(purposesFor(EXAMPLE, 'claim:phone_number'), []);
  });
});

for (const engine of ENGINES) {
  describe(`consent notices on ${engine.name}`, { skip: engine.skip }, () => {
    let storage: Awaited<ReturnType<typeof engine.open>>;
    let notices: ConsentNotices;
    before(async () => {
      storage = await engine.open();
      notices = createConsentNotices(storage.db, { cacheSeconds: 60 });
    });
    after(() => storage?.dispose());

    it('publishes numbered versions; identical content (in any member order) makes none; reads back what was published', async () => {
      assert.equal(await notices.current('kakeibo-biyori'), undefined);
      const first = await notices.publish('kakeibo-biyori', EXAMPLE);
      assert.deepEqual(first, { version: 1, hash: noticeHash(EXAMPLE), unchanged: false });
      assert.deepEqual(await notices.publish('kakeibo-biyori', Object.fromEntries(Object.entries(copy()).reverse())), { ...first, unchanged: true });
      const changed = copy();
      changed.recipients = [];
      const second = await notices.publish('kakeibo-biyori', changed);
      assert.deepEqual([second.version, second.unchanged], [2, false]);

      const current = await notices.current('kakeibo-biyori');
      assert.deepEqual(current?.content, changed);
      assert.equal(current?.hash, second.hash);
      assert.equal(noticeHash(current!.content), second.hash, 'the stored content hashes as published');
      assert.ok(current!.publishedAt instanceof Date);
      assert.deepEqual((await notices.get('kakeibo-biyori', 1))?.content, EXAMPLE);
      assert.deepEqual((await notices.list('kakeibo-biyori')).map((v) => [v.version, v.hash]), [[2, second.hash], [1, first.hash]]);
      assert.equal(await notices.get('kakeibo-biyori', 3), undefined);
      assert.equal(await notices.get('kakeibo-biyori', 0), undefined);
      assert.equal(await notices.get('kakeibo-biyori', 1.5), undefined);
      assert.equal(await notices.get('kakeibo-biyori', 2 ** 31), undefined);
      assert.equal(await notices.current('no such client'), undefined, 'a space is not in a client_id');
      assert.deepEqual(await notices.list('other-app'), []);
    });

    it('refuses an invalid notice or client_id before storing anything', async () => {
      await assert.rejects(notices.publish('clinic', { ...copy(), purposes: [] }), (err: unknown) => err instanceof InvalidNoticeError && err.issues[0]!.path === 'purposes');
      await assert.rejects(notices.publish('', copy()), (err: unknown) => err instanceof InvalidNoticeError && err.issues[0]!.path === 'client_id');
      assert.deepEqual(await notices.list('clinic'), []);
    });

    it('is immutable in the database itself: UPDATE, DELETE and TRUNCATE fail', async () => {
      await assert.rejects(sql`UPDATE consent_notices SET content_hash = 'x'`.execute(storage.db), /immutable/);
      await assert.rejects(sql`DELETE FROM consent_notices`.execute(storage.db), /immutable/);
      await assert.rejects(sql`TRUNCATE consent_notices`.execute(storage.db), /immutable/);
      await assert.rejects(sql`INSERT INTO consent_notices (client_id, version, content, content_hash) VALUES ('kakeibo-biyori', 2, '{}', 'x')`.execute(storage.db), /duplicate key|consent_notices_pkey/);
      assert.equal((await notices.list('kakeibo-biyori')).length, 2);
    });

    it('publishes at once for one client: each new content gets its own version, identical ones one between them', async () => {
      const variants = Array.from({ length: 10 }, (_, i) => ({ ...copy(), contact: `privacy+${i}@kakeibo-biyori.example.jp` }));
      const results = await Promise.all(variants.map((v) => notices.publish('busy-app', v)));
      assert.deepEqual(results.map((r) => r.version).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.ok(results.every((r) => !r.unchanged));

      const same = { ...copy(), contact: 'privacy@busy.example.jp' };
      const twins = await Promise.all(Array.from({ length: 6 }, () => notices.publish('busy-app', same)));
      assert.deepEqual([...new Set(twins.map((r) => r.version))], [11]);
      assert.equal(twins.filter((r) => !r.unchanged).length, 1);
      assert.equal((await notices.list('busy-app')).length, 11);
    });

    it('currentVersion is remembered for cacheSeconds (a miss too); a publish in this process is seen at once', async () => {
      const otherServer = createConsentNotices(storage.db, { cacheSeconds: 60 });
      assert.equal(await notices.currentVersion('cached-app'), undefined);
      await otherServer.publish('cached-app', copy());
      assert.equal(await notices.currentVersion('cached-app'), undefined, 'remembered: no query per authorization request');
      assert.equal(await otherServer.currentVersion('cached-app'), 1, 'the publishing process sees it at once');
      await notices.publish('cached-app', { ...copy(), keepsData: false });
      assert.equal(await notices.currentVersion('cached-app'), 2);
      assert.equal(await otherServer.currentVersion('cached-app'), 1, 'another process: within cacheSeconds');
      assert.equal(await createConsentNotices(storage.db, { cacheSeconds: 0 }).currentVersion('cached-app'), 2, '0 turns the cache off');
      assert.equal(await notices.currentVersion('x'.repeat(256)), undefined);
    });
  });
}
