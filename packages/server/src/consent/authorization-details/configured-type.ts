import { z } from 'zod';
import { authorizationDetailTypeConfigSchema, type AuthorizationDetailTypeConfig } from '../../config/schema.ts';
import { html } from '../../ui/html.ts';
import type { Lang } from '../../ui/i18n.ts';
import type { Bilingual } from '../catalogue.ts';
import type { AuthorizationDetailType } from './types.ts';
import { aside, check, commonMembers, hostsOf, joinWords, picked, text, typeMember, uniqueList } from './common.ts';

/**
 * A deployment's own authorization_details type, from `consent.authorizationDetailTypes`: its
 * members declared in the configuration (plus RFC 9396's common ones), checked as strictly as the
 * built-in types and shown on the consent screen as a list of label: value. Nothing to choose.
 */
export type ConfiguredTypeConfig = AuthorizationDetailTypeConfig;

type FieldConfig = z.output<typeof authorizationDetailTypeConfigSchema>['fields'][string];

const DEFAULT_MAX_LENGTH = 200;
const MAX_STRINGS = 50;

function fieldSchema(field: FieldConfig): z.ZodType {
  const values = field.enum as [string, ...string[]] | undefined;
  const one = values ? z.enum(values) : text(field.maxLength ?? DEFAULT_MAX_LENGTH);
  const schema = field.kind === 'integer'
    ? z.number().int('must be a whole number').refine(Number.isSafeInteger, 'must be a whole number of at most 15 digits')
    : field.kind === 'strings' ? uniqueList(one, MAX_STRINGS) : one;
  return field.required ? schema : schema.optional();
}

const COMMON_WORDS: Record<string, Bilingual> = {
  actions: { ja: '操作', en: 'Actions' },
  datatypes: { ja: 'データの種類', en: 'Kinds of data' },
  identifier: { ja: '対象', en: 'Resource' },
  privileges: { ja: '権限', en: 'Privileges' },
  locations: { ja: '利用先', en: 'Used with' },
};

function valueWords(lang: Lang, name: string, value: unknown): string {
  if (name === 'locations') return joinWords(lang, hostsOf(value));
  if (Array.isArray(value)) return joinWords(lang, value.map(String));
  return String(value);
}

/** Builds the type. Throws an Error naming the type and the key when the configuration is invalid. */
export function createConfiguredType(input: ConfiguredTypeConfig): AuthorizationDetailType {
  const parsed = authorizationDetailTypeConfigSchema.safeParse(input);
  if (!parsed.success) {
    const name = typeof input?.type === 'string' ? input.type : '(no type)';
    throw new Error(`consent.authorizationDetailTypes ${name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'type'}: ${i.message}`).join('; ')}`);
  }
  const config = parsed.data;
  const fields = Object.entries(config.fields);
  const schema = z.object({
    type: typeMember(config.type),
    ...commonMembers,
    ...Object.fromEntries(fields.map(([name, field]) => [name, fieldSchema(field)])),
  }).strict() as unknown as z.ZodType<Record<string, unknown>>;
  const labels: Array<[string, Bilingual]> = [...fields.map(([name, field]): [string, Bilingual] => [name, field.label]), ...Object.entries(COMMON_WORDS)];
  const label = { short: config.short, long: config.long, sensitive: config.sensitive };

  return {
    type: config.type,
    label,
    oneTime: config.oneTime,
    validate: (detail) => check(schema, detail),
    choices: () => [],
    render(lang, detail) {
      const present = labels.filter(([name]) => Object.hasOwn(detail, name) && detail[name] !== undefined);
      if (!present.length) return '';
      return html`<dl class="facts">${present.map(([name, words]) => html`
<dt>${words[lang]}</dt><dd>${valueWords(lang, name, detail[name])}</dd>`)}
</dl>`.value;
    },
    summary(lang, granted) {
      return `${label.short[lang]}${aside(lang, typeof granted.identifier === 'string' ? granted.identifier : '')}`;
    },
    grant(detail, selected, groups) {
      return picked(groups, selected) ? { ...detail } : undefined;
    },
  };
}
