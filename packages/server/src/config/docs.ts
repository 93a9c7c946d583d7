import { z } from 'zod';
import { configSchema } from './schema.ts';

/**
 * Renders docs/configuration.md from the configuration schema, so the reference can never drift
 * from what the server accepts (a test compares the two).
 */
export function renderConfigDocs(): string {
  const rows: string[] = [];
  walk(configSchema, [], rows);
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from packages/server/src/config/schema.ts by `npm run docs:config`. Do not edit by hand. -->',
    '',
    'Sekisho reads one JSON file named by `SEKISHO_CONFIG` (optional), then environment variables over it.',
    'Every key has an environment variable: `SEKISHO_` + the key in UPPER_SNAKE_CASE, with `__` between',
    'nested keys (`ttl.accessToken` → `SEKISHO_TTL__ACCESS_TOKEN`). Values that parse as JSON (numbers,',
    '`true`/`false`, arrays, objects) are taken as JSON. `DATABASE_URL` is accepted for `databaseUrl`.',
    '',
    'The configuration is validated once at start; an error names the key. In `production` mode Sekisho',
    'refuses to start with an http issuer, without `keyEncryptionKey` or without `mail.smtp`.',
    '',
    '| key | environment variable | type | default | description |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

function walk(schema: z.ZodType, path: string[], rows: string[]): void {
  const { inner, defaultValue, description } = unwrap(schema);
  if (inner instanceof z.ZodObject && path.length === 0) {
    for (const [key, child] of Object.entries(inner.shape)) walk(child as z.ZodType, [key], rows);
    return;
  }
  if (inner instanceof z.ZodObject && !(path.length === 1 && path[0] === 'resourceServers')) {
    if (description) rows.push(row(path, 'object', defaultValue, description));
    for (const [key, child] of Object.entries(inner.shape)) walk(child as z.ZodType, [...path, key], rows);
    return;
  }
  rows.push(row(path, typeName(inner), defaultValue, description ?? ''));
  if (inner instanceof z.ZodArray && unwrap(inner.element as z.ZodType).inner instanceof z.ZodObject) {
    const element = unwrap(inner.element as z.ZodType).inner as z.ZodObject;
    for (const [key, child] of Object.entries(element.shape)) {
      const u = unwrap(child as z.ZodType);
      rows.push(`| \`${path.join('.')}[].${key}\` | (in the JSON array) | ${typeName(u.inner)} | ${fmt(u.defaultValue)} | ${escape(u.description ?? '')} |`);
    }
  }
}

function unwrap(schema: z.ZodType): { inner: z.ZodType; defaultValue: unknown; description: string | undefined } {
  let inner = schema;
  let defaultValue: unknown;
  let description = schema.description;
  for (;;) {
    if (inner instanceof z.ZodDefault) {
      defaultValue = (inner.def as { defaultValue: unknown }).defaultValue;
      inner = inner.def.innerType as z.ZodType;
    } else if (inner instanceof z.ZodOptional) {
      inner = inner.def.innerType as z.ZodType;
    } else break;
    description ??= inner.description;
  }
  return { inner, defaultValue, description };
}

function typeName(s: z.ZodType): string {
  if (s instanceof z.ZodEnum) return (s.options as string[]).map((o) => `\`${o}\``).join(' \\| ');
  if (s instanceof z.ZodArray) return `array of ${typeName(unwrap(s.element as z.ZodType).inner)}`;
  if (s instanceof z.ZodObject) return 'object';
  return s.def.type === 'string' && (s as z.ZodString).format === 'url' ? 'URL' : s.def.type;
}

function envName(path: string[]): string {
  return 'SEKISHO_' + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__');
}

function row(path: string[], type: string, def: unknown, description: string): string {
  const env = path.join('.') === 'databaseUrl' ? '`DATABASE_URL` or `SEKISHO_DATABASE_URL`' : `\`${envName(path)}\``;
  return `| \`${path.join('.')}\` | ${env} | ${type} | ${fmt(def)} | ${escape(description)} |`;
}

function fmt(v: unknown): string {
  if (v === undefined) return '—';
  return `\`${JSON.stringify(v)}\``.replace(/\|/g, '\\|');
}

function escape(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
