/**
 * What a person submits on the consent screen, read from its HTML: every tick box ticked (or none),
 * the first option of each single choice, ongoing access for the longest time offered (or once).
 */
export interface ConsentAnswers {
  /** Tick every optional and sensitive item (default) or none of them. */
  items?: 'all' | 'none' | string[];
  duration?: 'once' | 'ongoing';
  /** Days of ongoing access; default the first (longest) offered. */
  days?: number;
  /** Per choice name (`ad.0.accounts`): the option labels or ids to pick; default: all for multiple, the first for single. */
  choices?: Record<string, string[]>;
}

export function consentForm(body: string, answers: ConsentAnswers = {}): Array<[string, string]> {
  const form: Array<[string, string]> = [['csrf', /name="csrf" value="([^"]+)"/.exec(body)![1]!]];
  const shown = /name="shown" value="([^"]+)"/.exec(body)?.[1];
  if (shown) form.push(['shown', shown]);
  const inputs = [...body.matchAll(/<input type="(checkbox|radio)" name="([^"]+)" value="([^"]*)" id="([^"]+)"[^>]*>\s*<label for="[^"]+">([\s\S]*?)<\/label>/g)]
    .map((m) => ({ kind: m[1]!, name: m[2]!, value: unescape(m[3]!), label: m[5]! }));
  const items = inputs.filter((i) => i.name === 'item');
  const wanted = answers.items ?? 'all';
  for (const i of items) if (wanted === 'all' || (Array.isArray(wanted) && wanted.includes(i.value))) form.push(['item', i.value]);
  const groups = new Map<string, typeof inputs>();
  for (const i of inputs.filter((x) => x.name.startsWith('ad.'))) groups.set(i.name, [...(groups.get(i.name) ?? []), i]);
  for (const [name, options] of groups) {
    if (name.endsWith('.include')) { form.push([name, 'yes']); continue; }
    const pick = answers.choices?.[name];
    const chosen = pick ? options.filter((o) => pick.some((p) => o.value === p || o.label.includes(p)))
      : options[0]!.kind === 'checkbox' ? options : options.slice(0, 1);
    for (const o of chosen) form.push([name, o.value]);
  }
  if (inputs.some((i) => i.name === 'duration')) {
    form.push(['duration', answers.duration ?? 'ongoing']);
    const days = answers.days ?? Number(/<option value="(\d+)">/.exec(body)?.[1]);
    if ((answers.duration ?? 'ongoing') === 'ongoing' && days) form.push(['expires_days', String(days)]);
  }
  return form;
}

function unescape(s: string): string {
  return s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');
}
