import { it } from 'node:test';
import assert from 'node:assert/strict';
import { pickLang, t, untranslated } from './i18n.ts';
import { html, esc } from './html.ts';

it('picks the language: explicit choice, ui_locales, Accept-Language, then English', () => {
  assert.equal(pickLang({ query: 'ja', acceptLanguage: 'en' }), 'ja');
  assert.equal(pickLang({ cookie: 'en', acceptLanguage: 'ja' }), 'en');
  assert.equal(pickLang({ uiLocales: 'ja-JP en', acceptLanguage: 'en' }), 'ja');
  assert.equal(pickLang({ acceptLanguage: 'fr-FR,ja;q=0.8' }), 'ja');
  assert.equal(pickLang({ acceptLanguage: 'de' }), 'en');
});

it('translates with variables and falls back to English', () => {
  assert.equal(t('ja', 'login.lead', { client: 'A銀行' }), 'A銀行 がログインを求めています。');
  assert.equal(t('en', 'no.such.key'), 'no.such.key');
});

it('escapes every interpolation', () => {
  assert.equal(html`<p title="${'"><script>'}">${'<b>'}</p>`.value, '<p title="&#34;&#62;&#60;script&#62;">&#60;b&#62;</p>');
  assert.equal(esc("it's"), 'it&#39;s');
});

it('has every string in both Japanese and English', () => {
  assert.deepEqual(untranslated(), []);
});
