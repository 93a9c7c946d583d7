import { readFileSync } from 'node:fs';
import { configSchema, type Config } from './schema.ts';

/** A configuration problem, always naming the key at fault. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const ENV_PREFIX = 'SEKISHO_';

/** `SEKISHO_TTL__ACCESS_TOKEN=60` → `{ ttl: { accessToken: 60 } }`; values are JSON when they parse as JSON. */
export function configFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || raw === '') continue;
    let path: string[];
    if (name === 'DATABASE_URL') path = ['databaseUrl'];
    else if (name.startsWith(ENV_PREFIX) && name !== 'SEKISHO_CONFIG') {
      path = name.slice(ENV_PREFIX.length).split('__').map(camelCase);
    } else continue;
    let target = out;
    for (const key of path.slice(0, -1)) {
      target = (target[key] ??= {}) as Record<string, unknown>;
    }
    target[path.at(-1)!] = parseValue(raw);
  }
  return out;
}

function camelCase(snake: string): string {
  return snake.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function parseValue(raw: string): unknown {
  if (/^(true|false|-?\d+(\.\d+)?|\[.*\]|\{.*\})$/s.test(raw.trim())) {
    try { return JSON.parse(raw); } catch { /* fall through: keep the string, validation names the key */ }
  }
  return raw;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates raw input (file merged with environment) and applies the production rules. */
export function parseConfig(raw: Record<string, unknown>): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const config = result.data;
  const issuer = new URL(config.issuer);
  if (issuer.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(issuer.hostname)) {
    throw new ConfigError('invalid configuration:\n  issuer: http is allowed only for a loopback host (localhost, 127.0.0.1, [::1]); use https');
  }
  const problems = productionProblems(config);
  if (problems.length) {
    throw new ConfigError(`refusing to start in production mode:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
  return config;
}

export function productionProblems(config: Config): string[] {
  if (config.mode !== 'production') return [];
  const problems: string[] = [];
  const issuer = new URL(config.issuer);
  if (issuer.protocol !== 'https:') problems.push('issuer: must be an https URL in production');
  if (issuer.search || issuer.hash) problems.push('issuer: must not have a query or fragment');
  if (!config.keyEncryptionKey) problems.push('keyEncryptionKey: required in production (32 random bytes, base64url)');
  if (!config.mail.smtp) {
    problems.push('mail.smtp: required in production (the development mailbox keeps codes in the database and delivers nothing)');
  }
  if (config.mail.smtp && !config.mail.smtp.rejectUnauthorized) {
    problems.push('mail.smtp.rejectUnauthorized: must be true in production (the SMTP server\'s certificate must be verified)');
  }
  if (config.mtls.trustedProxies.length && !config.trustProxy) {
    problems.push('trustProxy: must be true when mtls.trustedProxies is set');
  }
  return problems;
}

/** Loads SEKISHO_CONFIG (a JSON file) if named, then the environment over it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Record<string, unknown> = {}): Config {
  let fromFile: Record<string, unknown> = {};
  const file = env.SEKISHO_CONFIG;
  if (file) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`SEKISHO_CONFIG: cannot read ${file}: ${(err as Error).message}`);
    }
  }
  return parseConfig(deepMerge(deepMerge(fromFile, configFromEnv(env)), overrides));
}
