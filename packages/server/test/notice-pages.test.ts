/** The public notice pages, /notices/<client_id>[/<version>], served by their middleware in a small koa app. */
import { createAuthorizationDetailTypes } from '../src/consent/authorization-details/registry.ts';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import Koa from 'koa';
import { ENGINES } from './support/engines.ts';
import { createCatalogue } from '../src/consent/catalogue.ts';
import { createConsentNotices, type NoticeContent } from '../src/consent/notices.ts';
import { securityHeaders } from '../src/http/security-headers.ts';
import { noticeHref, noticeRoutes } from '../src/ui/notice-routes.ts';

const DOC = readFileSync(new URL('../../../docs/consent-notices.md', import.meta.url), 'utf8');
const EXAMPLE = JSON.parse(/```json\n([\s\S]*?)\n```/.exec(DOC)![1]!) as NoticeContent;
const engine = ENGINES[0]!; // the pages do not depend on the engine; the notices module's own tests run on both

describe('notice pages', () => {
  let storage: Awaited<ReturnType<typeof engine.open>>;
  let server: Server;
  let base: string;
  const get = (path: string, init: RequestInit = {}) => fetch(base + path, { redirect: 'manual', ...init });
  const page = async (path: string, lang = 'ja') => {
    const res = await get(path, { headers: { 'accept-language': lang } });
    return { status: res.status, body: await res.text(), res };
  };

  before(async () => {
    storage = await engine.open();
    const notices = createConsentNotices(storage.db, { cacheSeconds: 60 });
    const catalogue = createCatalogue([{
      identifier: 'https://api.bank.example/', scopes: ['accounts'],
      scopeLabels: { accounts: { short: { ja: '口座の残高と入出金明細の参照', en: 'See your account balances and transactions' }, long: { ja: '残高と明細', en: 'Balances and transactions' }, sensitive: true } },
    }]);
    await notices.publish('kakeibo-biyori', EXAMPLE);
    await notices.publish('kakeibo-biyori', { ...EXAMPLE, recipients: [], keepsData: false, purposes: [...EXAMPLE.purposes.slice(0, 2), { id: 'statistics', text: { ja: '<script>alert(1)</script>', en: '<b>stats</b>' } }] });
    await notices.publish('app/with@odd chars'.replace(' ', '-'), EXAMPLE);
    await notices.publish('bank-app', { ...EXAMPLE, data: [{ item: 'authorization_details:account_information', purposes: [EXAMPLE.purposes[0]!.id], optional: false }] });
    const app = new Koa();
    app.use(securityHeaders({ https: false }));
    app.use(noticeRoutes({ notices, operator: '関所銀行', catalogue, detailTypes: createAuthorizationDetailTypes([]) }));
    app.use((ctx) => { ctx.body = 'passed on'; });
    server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await storage?.dispose();
  });

  it('names an authorization_details type in words', async () => {
    const { status, body } = await page('/notices/bank-app/1');
    assert.equal(status, 200);
    assert.ok(body.includes('<span class="item-label">口座情報の参照</span> <code>authorization_details:account_information</code>'), body.slice(body.indexOf('notice-data'), body.indexOf('notice-data') + 600));
  });

  it('shows a version in Japanese: who, purposes, data and what for, recipients and country, retention, law, version, policy', async () => {
    const { status, body, res } = await page('/notices/kakeibo-biyori/1');
    assert.equal(status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/html/);
    assert.match(body, /<html lang="ja">/);
    assert.match(body, /<h1>かけいぼ日和 における情報の取扱い<\/h1>/);
    assert.match(body, /第 1 版 · 公開日 <time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">/);
    for (const expected of [
      '<dd>株式会社ひより家計研究所</dd>', '電子決済等代行業 関東財務局長（電代業）第1号',
      '<a href="mailto:privacy@kakeibo-biyori.example.jp">privacy@kakeibo-biyori.example.jp</a>',
      '株式会社ひより家計研究所 は 関所銀行 とは別の事業者（第三者）です。',
      '口座の残高と入出金明細を家計簿に自動で取り込み、収支を表示するため',
      '<span class="item-label">口座の残高と入出金明細の参照</span> <code>scope:accounts</code>',
      '<span class="item-label">メールアドレス</span> <code>claim:email</code>\n  <span class="badge">任意（提供しないこともできます）</span>',
      'Example Analytics, Inc.', '所在国：アメリカ合衆国（US）', 'かけいぼ日和 は受け取った情報を保存します。',
      '連携を解除した日、または最後にご利用になった日から 1 年後に削除します。', 'かけいぼ日和 は、日本（JP） の法令に基づいて',
      '<a href="https://kakeibo-biyori.example.jp/privacy" rel="noreferrer">', 'href="/notices/kakeibo-biyori/1?lang=en"',
    ]) assert.ok(body.includes(expected), `${expected} in the page`);
    assert.equal((body.match(/<span class="badge">必須<\/span>/g) ?? []).length, 2);
    // Headings for each part, one main landmark; the logo of another origin is not loaded.
    assert.deepEqual([...body.matchAll(/<h2 id="(notice-[a-z]+)">/g)].map((m) => m[1]), ['notice-who', 'notice-purposes', 'notice-data', 'notice-recipients', 'notice-retention', 'notice-law']);
    assert.equal((body.match(/<main/g) ?? []).length, 1);
    assert.doesNotMatch(body, /<img|logo\.svg/);
    assert.match(res.headers.get('content-security-policy')!, /img-src 'self' data:;/);
  });

  it('speaks English when asked, remembers the choice, and marks the Japanese registration number as Japanese', async () => {
    const res = await get('/notices/kakeibo-biyori/1?lang=en', { headers: { 'accept-language': 'ja' } });
    const body = await res.text();
    assert.match(body, /<html lang="en">/);
    assert.match(body, /<h1>How Kakeibo Biyori uses your data<\/h1>/);
    assert.ok(body.includes('Hiyori Household Finance Lab Inc. is a third party, not 関所銀行.'));
    assert.ok(body.includes('<span lang="ja">電子決済等代行業 関東財務局長（電代業）第1号</span>'));
    assert.ok(body.includes('Country: United States (US)'));
    assert.ok(body.includes('<span class="badge">Optional: you can leave it out</span>'));
    assert.ok(body.includes('href="/notices/kakeibo-biyori/1?lang=ja"'));
    const cookie = res.headers.get('set-cookie')!;
    assert.match(cookie, /^lang=en;/);
    const again = await (await get('/notices/kakeibo-biyori/1', { headers: { cookie: 'lang=en', 'accept-language': 'ja' } })).text();
    assert.match(again, /<html lang="en">/);
  });

  it('without a version shows the current one; an earlier version says so and links to the current one', async () => {
    const current = await page('/notices/kakeibo-biyori');
    assert.equal(current.status, 200);
    assert.match(current.body, /第 2 版/);
    assert.ok(current.body.includes('かけいぼ日和 は、お客さまの情報をほかの事業者に提供しません。'), 'no recipients');
    assert.ok(current.body.includes('かけいぼ日和 は受け取った情報を保存せず'));
    assert.ok(current.body.includes('&#60;script&#62;alert(1)&#60;/script&#62;'), 'the notice\'s text is escaped');
    assert.doesNotMatch(current.body, /<script>/);
    assert.ok(current.body.includes('href="/notices/kakeibo-biyori?lang=en"'));
    const older = await page('/notices/kakeibo-biyori/1');
    assert.match(older.body, /<p class="notice" role="status">これは以前の版です（お客さまが同意した版の場合があります）。現在の版は第 2 版です。 <a href="\/notices\/kakeibo-biyori">現在の版を見る<\/a>/);
    const byNumber = await page('/notices/kakeibo-biyori/2');
    assert.equal(byNumber.status, 200);
    assert.doesNotMatch(byNumber.body, /以前の版/, 'the current version, asked for by number, is not called an earlier one');
  });

  it('finds a client_id with characters a path needs encoded', async () => {
    assert.equal(noticeHref('app/with@odd-chars', 1), '/notices/app%2Fwith%40odd-chars/1');
    const { status, body } = await page(noticeHref('app/with@odd-chars', 1));
    assert.equal(status, 200);
    assert.ok(body.includes('href="/notices/app%2Fwith%40odd-chars/1?lang=en"'));
  });

  it('answers anything unknown or malformed under /notices with the not-found page, never an error', async () => {
    for (const path of [
      '/notices', '/notices/', '/notices/nobody', '/notices/nobody/1', '/notices/kakeibo-biyori/3', '/notices/kakeibo-biyori/0',
      '/notices/kakeibo-biyori/01', '/notices/kakeibo-biyori/1.5', '/notices/kakeibo-biyori/99999999999', '/notices/kakeibo-biyori/latest',
      '/notices/kakeibo-biyori/1/extra', '/notices/kakeibo-biyori/', '/notices/%E0%A4%A', '/notices/a%20b', '/notices/%00',
      `/notices/${'a'.repeat(800)}`, `/notices/${'b'.repeat(256)}/1`, '/notices/..%2F..%2Fetc/1', "/notices/x'%3Cscript%3E",
    ]) {
      const { status, body } = await page(path);
      assert.equal(status, 404, path);
      assert.match(body, /<h1>お知らせが見つかりません<\/h1>/, path);
    }
    assert.match((await page('/notices/nobody', 'en')).body, /<html lang="en">[\s\S]*<h1>Notice not found<\/h1>/);
  });

  it('serves GET and HEAD only, and leaves other paths to the next middleware', async () => {
    const head = await get('/notices/kakeibo-biyori/1', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    const post = await get('/notices/kakeibo-biyori/1', { method: 'POST', body: 'x=1' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    for (const path of ['/noticesx', '/notice/kakeibo-biyori', '/']) assert.equal(await (await get(path)).text(), 'passed on', path);
  });
});
