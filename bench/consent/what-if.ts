/**
 * WHAT-IF experiments for the consent benchmark (BENCH_CONSENT_WHATIF), applied in the server
 * process at start, without touching src/. Runs with one are labelled as such in the report and
 * written to .bench-data/consent-what-if.json: they are not Sekisho as shipped.
 *
 *   cached-date-formats   one Intl.DateTimeFormat per (locales, options), reused: what the My
 *                         consents page would cost if its date helpers (`when` in
 *                         ui/account/shell.ts, `day` in ui/account/consents-pages.ts) kept their
 *                         formatters instead of building one per date shown.
 */
export const CONSENT_WHAT_IFS = ['cached-date-formats'] as const;
export type ConsentWhatIf = (typeof CONSENT_WHAT_IFS)[number];

export function consentWhatIfsFromEnv(env: NodeJS.ProcessEnv): ConsentWhatIf[] {
  const wanted = (env.BENCH_CONSENT_WHATIF ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((w) => !(CONSENT_WHAT_IFS as readonly string[]).includes(w));
  if (unknown.length) throw new Error(`BENCH_CONSENT_WHATIF: unknown experiment(s) ${unknown.join(', ')}; known: ${CONSENT_WHAT_IFS.join(', ')}`);
  return wanted as ConsentWhatIf[];
}

export function applyConsentWhatIfs(whatIfs: ConsentWhatIf[]): void {
  if (whatIfs.includes('cached-date-formats')) cacheDateFormats();
}

function cacheDateFormats(): void {
  const Original = Intl.DateTimeFormat;
  const cache = new Map<string, Intl.DateTimeFormat>();
  const formatter = (locales?: Intl.LocalesArgument, options?: Intl.DateTimeFormatOptions) => {
    const key = JSON.stringify([locales ?? null, options ?? null]);
    let f = cache.get(key);
    if (!f) cache.set(key, (f = new Original(locales, options)));
    return f;
  };
  // Called with or without `new`, it hands back the shared instance (a constructor may return an object).
  const Cached = function DateTimeFormat(locales?: Intl.LocalesArgument, options?: Intl.DateTimeFormatOptions) {
    return formatter(locales, options);
  } as unknown as typeof Intl.DateTimeFormat;
  Object.defineProperties(Cached, { prototype: { value: Original.prototype }, supportedLocalesOf: { value: Original.supportedLocalesOf.bind(Original) } });
  (Intl as { DateTimeFormat: typeof Intl.DateTimeFormat }).DateTimeFormat = Cached;

  // toLocaleDateString with explicit date fields formats exactly as a DateTimeFormat with those options.
  const originalDate = Date.prototype.toLocaleDateString;
  Date.prototype.toLocaleDateString = function toLocaleDateString(this: Date, locales?: Intl.LocalesArgument, options?: Intl.DateTimeFormatOptions) {
    if (options && (options.year || options.month || options.day) && !options.hour && !options.minute && !options.timeStyle) return formatter(locales, options).format(this);
    return originalDate.call(this, locales, options);
  };
}
