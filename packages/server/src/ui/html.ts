import { t, type Lang } from './i18n.ts';

/** Escapes text for HTML content and attribute values. Every interpolation goes through it. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A piece of markup that is already safe (built from `html` or `esc`). */
export class Html {
  readonly value: string;
  constructor(value: string) { this.value = value; }
  toString(): string { return this.value; }
}

/** Tagged template: interpolated values are escaped unless they are Html (or arrays of Html). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new Html(out);
}

function render(v: unknown): string {
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === undefined || v === null || v === false) return '';
  return esc(v);
}

/** The page shell: language switch, one main landmark, the stylesheet (CSP allows 'self' only). */
/** `wide` and `nav` are for the account pages: a wider card and their section navigation. */
export function page(lang: Lang, title: string, body: Html, options: { langSwitchHref?: string; wide?: boolean; nav?: Html; head?: Html } = {}): string {
  const other = lang === 'ja' ? 'en' : 'ja';
  const switchHref = options.langSwitchHref ?? `?lang=${other}`;
  return '<!doctype html>\n' + html`<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · ${t(lang, 'app.name')}</title>
<link rel="stylesheet" href="/assets/app.css">
${options.head ?? ''}
</head>
<body>
<header class="top${options.wide ? ' wide' : ''}"><span class="brand">${t(lang, 'app.name')}</span><a class="lang" href="${switchHref}" hreflang="${other}" lang="${other}">${t(lang, 'lang.switch')}</a></header>
<main class="card${options.wide ? ' wide' : ''}">
${options.nav ?? ''}
<h1>${title}</h1>
${body}
</main>
</body>
</html>`.value;
}
