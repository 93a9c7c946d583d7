/**
 * HTML built from tagged templates: every interpolated value is escaped unless it is already Html
 * (or an array of Html). The pages have no other way to put text into markup.
 */
export class Html {
  readonly value: string;
  constructor(value: string) { this.value = value; }
  toString(): string { return this.value; }
}

/** `value` as text safe in element content and in quoted attributes: & < > " ' ` become character references. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function render(v: unknown): string {
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === undefined || v === null || v === false) return '';
  return esc(v);
}

/** The tag: html`<p>${text}</p>` escapes `text`; Html values and arrays of them go in as they are; undefined, null and false as nothing. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => { out += render(v) + strings[i + 1]!; });
  return new Html(out);
}

/** Japanese first, the English subtitle after it, marked as English for screen readers. */
export const bi = (ja: string, en: string): Html => html`${ja} <span class="en" lang="en">${en}</span>`;
