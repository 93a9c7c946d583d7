import type { NoticeContent, NoticeVersion } from '../consent/notices.ts';
import { purposesFor } from '../consent/notices.ts';
import { html, page } from './html.ts';
import { t, type Lang } from './i18n.ts';
import { when } from './account/shell.ts';

export interface NoticeView {
  notice: NoticeVersion;
  /** The client's current version (the page says so when it shows an earlier one). */
  current: number;
  /** The organisation running this server: the notice says the client is not it. */
  operator: string;
  /** What an item (`scope:accounts`) is, in words; its protocol name when unknown. */
  itemLabel: (item: string) => string;
  currentHref: string;
  langSwitchHref: string;
}

/** A country by name in the page's language, with its code (the code alone when ICU has no name). */
function country(lang: Lang, code: string): string {
  const name = new Intl.DisplayNames([lang], { type: 'region', fallback: 'none' }).of(code);
  return name ? (lang === 'ja' ? `${name}（${code}）` : `${name} (${code})`) : code;
}

/** The contact as a link: mailto: for an address, tel: for a number, the URL itself otherwise. */
function contactLink(contact: string) {
  const href = contact.startsWith('https://') ? contact
    : contact.includes('@') ? `mailto:${contact}` : `tel:${contact.replace(/[ ()-]/g, '')}`;
  return html`<a href="${href}">${contact}</a>`;
}

// Registration numbers are mostly in Japanese: marked so on the English page for screen readers.
const inJapanese = (lang: Lang, text: string) => (lang === 'en' && /[^\x00-\x7f]/.test(text) ? html`<span lang="ja">${text}</span>` : text);

function dataItems(lang: Lang, content: NoticeContent, label: (item: string) => string) {
  return content.data.map((d) => {
    const name = label(d.item);
    const technical = d.item.slice(d.item.indexOf(':') + 1);
    return html`<li><span class="item-label">${name}</span>${name !== technical ? html` <code>${d.item}</code>` : ''}
  <span class="badge">${t(lang, d.optional ? 'notice.data.optional' : 'notice.data.required')}</span>
  <br><span class="muted">${t(lang, 'notice.data.for')}</span><ul class="parts">${purposesFor(content, d.item).map((p) => html`<li>${p.text[lang]}</li>`)}</ul></li>`;
  });
}

/**
 * A client's notice (ISO/IEC 29184): who it is, why, what data for which purpose, who else
 * receives it, how long it is kept, under which law; the version and when it was published.
 * The logo is not loaded: these pages load nothing from another origin.
 */
export function noticePage(lang: Lang, v: NoticeView): string {
  const c = v.notice.content;
  const service = c.serviceName[lang];
  const legal = c.legalName[lang];
  return page(lang, t(lang, 'notice.title', { service }), html`
<p class="muted">${t(lang, 'notice.version', { version: String(v.notice.version) })} · ${t(lang, 'notice.published')} ${when(lang, v.notice.publishedAt)}</p>
${v.notice.version !== v.current ? html`<p class="notice" role="status">${t(lang, 'notice.older', { version: String(v.current) })} <a href="${v.currentHref}">${t(lang, 'notice.older.link')}</a></p>` : ''}
<section aria-labelledby="notice-who">
<h2 id="notice-who">${t(lang, 'notice.who')}</h2>
<dl class="facts">
  <dt>${t(lang, 'notice.service')}</dt><dd>${service}</dd>
  <dt>${t(lang, 'notice.legal-name')}</dt><dd>${legal}</dd>
  ${c.registrationNumber ? html`<dt>${t(lang, 'notice.registration')}</dt><dd>${inJapanese(lang, c.registrationNumber)}</dd>` : ''}
  <dt>${t(lang, 'notice.contact')}</dt><dd>${contactLink(c.contact)}</dd>
</dl>
<p>${t(lang, 'notice.third-party', { legal, operator: v.operator })}</p>
</section>
<section aria-labelledby="notice-purposes">
<h2 id="notice-purposes">${t(lang, 'notice.purposes')}</h2>
<ul class="items">${c.purposes.map((p) => html`<li>${p.text[lang]}</li>`)}</ul>
</section>
<section aria-labelledby="notice-data">
<h2 id="notice-data">${t(lang, 'notice.data')}</h2>
<ul class="items asked">${dataItems(lang, c, v.itemLabel)}</ul>
</section>
<section aria-labelledby="notice-recipients">
<h2 id="notice-recipients">${t(lang, 'notice.recipients')}</h2>
${c.recipients.length ? html`<ul class="items asked">${c.recipients.map((r) => html`<li><span class="item-label">${r.name[lang]}</span>
  <br><span class="muted">${t(lang, 'notice.recipient.country', { country: country(lang, r.jurisdiction) })}</span>
  <br>${r.purpose[lang]}</li>`)}</ul>` : html`<p>${t(lang, 'notice.recipients.none', { service })}</p>`}
</section>
<section aria-labelledby="notice-retention">
<h2 id="notice-retention">${t(lang, 'notice.retention')}</h2>
<p>${t(lang, c.keepsData ? 'notice.keeps' : 'notice.keeps-not', { service })}</p>
<p>${c.retention[lang]}</p>
</section>
<section aria-labelledby="notice-law">
<h2 id="notice-law">${t(lang, 'notice.jurisdiction')}</h2>
<p>${t(lang, 'notice.jurisdiction.text', { service, country: country(lang, c.jurisdiction) })}</p>
</section>
${c.policyUri ? html`<p class="links"><a href="${c.policyUri}" rel="noreferrer">${t(lang, 'notice.policy', { service })}</a></p>` : ''}
<p class="muted">${t(lang, 'notice.versions')}</p>`, { langSwitchHref: v.langSwitchHref, wide: true });
}

/** The page for an unknown client or version (served with 404). */
export function noticeNotFoundPage(lang: Lang, langSwitchHref: string): string {
  return page(lang, t(lang, 'notice.not-found.title'), html`<p>${t(lang, 'notice.not-found')}</p>`, { langSwitchHref });
}
