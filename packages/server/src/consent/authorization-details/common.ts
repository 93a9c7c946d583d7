import { z } from 'zod';
import type { Lang } from '../../ui/i18n.ts';
import type { ChoiceGroup, ChoiceOption, LinkedResourceList } from './types.ts';

/**
 * What every authorization_details type shares: the strict check of a detail (zod, with messages
 * that name the member), the RFC 9396 common members, and choosing among linked resources.
 */

export type Validation = { ok: true; detail: Record<string, unknown> } | { ok: false; message: string };

/** A JSON object: not null, not an array, not a Date or a class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Printable ASCII without `"` and `\`: what an OAuth error_description may hold (RFC 6749 §5.2). */
function safe(text: string, max = 300): string {
  const clean = text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max - 3)}...` : clean;
}

const memberName = (key: PropertyKey) => safe(String(key), 40);
const pathOf = (path: readonly PropertyKey[]) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${memberName(p)}`)).join('');

const EXPECTED: Record<string, string> = {
  string: 'a string', number: 'a number', int: 'an integer', array: 'an array', object: 'a JSON object', boolean: 'true or false',
};

/** One issue in plain words, naming the member. */
function describe(issue: z.core.$ZodIssue): string {
  const where = pathOf(issue.path);
  const at = where ? `${where}: ` : '';
  switch (issue.code) {
    case 'unrecognized_keys': {
      const keys = issue.keys.slice(0, 5).map(memberName).join(', ');
      return `${at}unknown member${issue.keys.length > 1 ? 's' : ''} ${keys}${issue.keys.length > 5 ? ', ...' : ''}`;
    }
    default:
      return `${at}${issue.message}`;
  }
}

/** zod's messages for type errors replaced by plain ones ("missing", "must be a string"). */
const errorMap = (issue: z.core.$ZodRawIssue): string | undefined => {
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_value') && issue.input === undefined) return 'missing';
  if (issue.code === 'invalid_type') return `must be ${EXPECTED[issue.expected] ?? issue.expected}`;
  if (issue.code === 'invalid_value') return `must be ${issue.values.map((v) => String(v)).join(' or ')}`;
  return undefined;
};

/**
 * Runs a strict schema over a detail. Never throws: a detail that is not a plain object, or a
 * schema that throws on odd input, is a refusal.
 */
export function check(schema: z.ZodType<Record<string, unknown>>, detail: unknown): Validation {
  if (!isPlainObject(detail)) return { ok: false, message: 'each authorization detail must be a JSON object' };
  try {
    const result = schema.safeParse(detail, { error: errorMap });
    if (result.success) return { ok: true, detail: result.data };
    return { ok: false, message: safe(result.error.issues.slice(0, 3).map(describe).join('; ')) };
  } catch {
    return { ok: false, message: 'not a valid authorization detail' };
  }
}

/** The detail's `type`. */
export const typeMember = (type: string) => z.literal(type);

/** A non-empty array without repeated values, of at most `max` items. */
export function uniqueList<T extends z.ZodType>(item: T, max: number) {
  return z.array(item).min(1, 'must not be empty').max(max, `at most ${max} values`)
    .refine((list) => new Set(list).size === list.length, 'must not repeat a value');
}

/** A non-empty subset of the listed values. */
export function subsetOf(values: readonly [string, ...string[]]) {
  return uniqueList(z.enum(values), values.length);
}

/** No control, format (bidirectional overrides, zero-width), private-use or lone-surrogate characters. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\u2028\u2029]/u;

/** Text a person reads (a payee name, a message): bounded, printable, not blank. */
export function text(max: number) {
  return z.string().min(1, 'must not be empty').max(max, `at most ${max} characters`)
    .refine((s) => !UNPRINTABLE.test(s), 'must not contain control characters')
    .refine((s) => s.trim().length > 0, 'must not be blank');
}

function isHttpsUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return url.protocol === 'https:' && !url.hash && !url.username && !url.password;
}

/** RFC 9396 `locations`: the resource servers the detail is for, as https URLs. */
export const locations = uniqueList(
  z.string().max(2000, 'at most 2000 characters').refine(isHttpsUrl, 'must be an https URL without a fragment or credentials'), 10);

/** The RFC 9396 common members, for types that allow all of them. */
export const commonMembers = {
  locations: locations.optional(),
  actions: uniqueList(z.string().min(1).max(100, 'at most 100 characters'), 20).optional(),
  datatypes: uniqueList(z.string().min(1).max(100, 'at most 100 characters'), 20).optional(),
  identifier: z.string().min(1, 'must not be empty').max(200, 'at most 200 characters').optional(),
  privileges: uniqueList(z.string().min(1).max(100, 'at most 100 characters'), 20).optional(),
};

/** A refusal of a member only the person may set (what they choose on the consent screen). */
export function chosenByPerson(detail: unknown, members: readonly string[]): Validation | undefined {
  if (!isPlainObject(detail)) return undefined;
  const member = members.find((m) => Object.hasOwn(detail, m));
  return member ? { ok: false, message: `${member}: chosen by the person on the consent screen, not sent by the client` } : undefined;
}

/** The person's linked resources of one kind as the options of a group. */
export async function optionsOf(linked: LinkedResourceList, kind: string): Promise<ChoiceOption[]> {
  return (await linked(kind)).map((r) => ({ id: r.id, label: r.label, ref: r.ref }));
}

/**
 * The options picked in each group, or undefined when a selection is invalid: an id not offered,
 * a repeated id, fewer than the group's minimum, more than one where one is allowed.
 */
export function picked(groups: readonly ChoiceGroup[], selected: Record<string, string[]>): Map<string, ChoiceOption[]> | undefined {
  if (!isPlainObject(selected)) return undefined;
  const result = new Map<string, ChoiceOption[]>();
  for (const group of groups) {
    const ids: unknown = Object.hasOwn(selected, group.name) ? selected[group.name] : [];
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) return undefined;
    if (new Set(ids).size !== ids.length || ids.length < group.min || (!group.multiple && ids.length > 1)) return undefined;
    const options = ids.map((id) => group.options.find((o) => o.id === id));
    if (options.some((o) => o === undefined)) return undefined;
    result.set(group.name, options as ChoiceOption[]);
  }
  return result;
}

/** The one group of `name` among those the caller passed back, or undefined. */
export const groupNamed = (groups: readonly ChoiceGroup[], name: string) =>
  Array.isArray(groups) ? groups.find((g) => g?.name === name) : undefined;

/** `{ id, label, ref }` of a chosen resource, as it goes in a granted detail. */
export const chosenRef = (o: ChoiceOption) => ({ id: o.id, label: o.label, ...(o.ref !== undefined ? { ref: o.ref } : {}) });

/** The label of a chosen resource stored in a granted detail, if it is there and well formed. */
export function labelOf(value: unknown): string | undefined {
  return isPlainObject(value) && typeof value.label === 'string' ? value.label : undefined;
}

/** Strings of a stored detail's array member; what is not a string is left out. */
export function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** A list in running text: 「A、B」 or "A, B". */
export const joinWords = (lang: Lang, words: readonly string[]) => words.join(lang === 'ja' ? '、' : ', ');

/** A parenthesised note after a label: 「（…）」 or " (…)"; nothing when empty. */
export const aside = (lang: Lang, note: string) => (note ? (lang === 'ja' ? `（${note}）` : ` (${note})`) : '');

/** The hosts of `locations`, for "where" lines. */
export function hostsOf(value: unknown): string[] {
  return stringsOf(value).map((u) => (URL.canParse(u) ? new URL(u).host : u));
}
