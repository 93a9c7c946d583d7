import type { Lang } from './i18n.ts';

/**
 * Dates as Sekisho's pages show them, in Japan time (Sekisho's people are in Japan, and the
 * server cannot know a browser's zone without a script). The formatters are made once per
 * language: building one costs far more than using it, and a consents page formats thousands.
 */
const TIME_ZONE = 'Asia/Tokyo';
const locale = (lang: Lang) => (lang === 'ja' ? 'ja-JP' : 'en-GB');

const dateTimeFormats = new Map<Lang, Intl.DateTimeFormat>();
const dateFormats = new Map<Lang, Intl.DateTimeFormat>();

/** "22 Nov 2026, 13:31" / "2026年11月22日 13:31". */
export function formatDateTime(lang: Lang, date: Date): string {
  let f = dateTimeFormats.get(lang);
  if (!f) {
    f = new Intl.DateTimeFormat(locale(lang), { timeZone: TIME_ZONE, year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    dateTimeFormats.set(lang, f);
  }
  return f.format(date);
}

/** "29 November 2026" / "2026年11月29日". */
export function formatDate(lang: Lang, date: Date): string {
  let f = dateFormats.get(lang);
  if (!f) {
    f = new Intl.DateTimeFormat(locale(lang), { timeZone: TIME_ZONE, year: 'numeric', month: 'long', day: 'numeric' });
    dateFormats.set(lang, f);
  }
  return f.format(date);
}
