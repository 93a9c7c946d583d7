import { delegationState, RELATIONSHIPS, type DelegationInput, type DelegationListing, type Relationship } from '../consent/delegations.ts';

/** `sekisho delegation add`'s flags: those taking a value, and the one that is a switch. */
const VALUE_FLAGS = ['--principal', '--delegate', '--relationship', '--evidence', '--verified-by', '--verified-at', '--scopes', '--types', '--from', '--until'];
const SWITCHES = ['--exclude-sensitive'];
const REQUIRED = ['--principal', '--delegate', '--relationship', '--evidence', '--verified-by'];
// A time with its offset: "2026-04-01" alone would be midnight UTC, 9:00 in Japan, which no one means.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/;

export type AddFlags =
  | { principal: string; delegate: string; input: Omit<DelegationInput, 'principal' | 'delegate'> }
  | { error: string; code: number };

/**
 * Reads `delegation add`'s flags strictly: an unknown flag, a flag given twice or without its
 * value is refused (a mistyped --exclude-sensitive must not quietly leave sensitive data allowed),
 * as is a scope or type this deployment does not know (it would never match anything).
 */
export function parseAddFlags(args: string[], known: { scopes: Set<string>; types: Set<string> }): AddFlags {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const name = args[i]!;
    if (values.has(name) || switches.has(name)) return { error: `${name} is given twice`, code: 64 };
    if (SWITCHES.includes(name)) { switches.add(name); continue; }
    if (!VALUE_FLAGS.includes(name)) return { error: `unknown argument ${name}`, code: 64 };
    const value = args[i + 1];
    if (value === undefined || value.startsWith('--')) return { error: `${name} needs a value`, code: 64 };
    values.set(name, value);
    i++;
  }
  const missing = REQUIRED.filter((f) => !values.has(f));
  if (missing.length) return { error: `missing ${missing.join(', ')}`, code: 64 };
  const relationship = values.get('--relationship')!;
  if (!(RELATIONSHIPS as readonly string[]).includes(relationship)) return { error: `--relationship must be one of ${RELATIONSHIPS.join(', ')}`, code: 64 };

  const dates: Partial<Record<'--verified-at' | '--from' | '--until', Date>> = {};
  for (const name of ['--verified-at', '--from', '--until'] as const) {
    const raw = values.get(name);
    if (raw === undefined) continue;
    const date = new Date(raw);
    if (!ISO_TIME.test(raw) || Number.isNaN(date.getTime()) || !isCalendarTime(raw)) return { error: `${name} must be an ISO 8601 time with its offset, e.g. 2026-04-01T00:00:00+09:00`, code: 64 };
    dates[name] = date;
  }
  const scopes = list(values.get('--scopes'));
  const types = list(values.get('--types'));
  const unknownScopes = scopes?.filter((s) => !known.scopes.has(s)) ?? [];
  if (unknownScopes.length) return { error: `--scopes: this server does not know ${unknownScopes.join(', ')} (known: ${[...known.scopes].join(', ')})`, code: 65 };
  const unknownTypes = types?.filter((t) => !known.types.has(t)) ?? [];
  if (unknownTypes.length) return { error: `--types: this server does not know ${unknownTypes.join(', ')} (known: ${[...known.types].join(', ')})`, code: 65 };

  const now = new Date();
  return {
    principal: values.get('--principal')!,
    delegate: values.get('--delegate')!,
    input: {
      relationship: relationship as Relationship,
      evidence: values.get('--evidence')!,
      verifiedBy: values.get('--verified-by')!,
      verifiedAt: dates['--verified-at'] ?? now,
      constraints: {
        ...(scopes ? { scopes } : {}),
        ...(types ? { authorizationDetailTypes: types } : {}),
        ...(switches.has('--exclude-sensitive') ? { excludeSensitive: true } : {}),
      },
      validFrom: dates['--from'] ?? now,
      validUntil: dates['--until'],
    },
  };
}

// Date accepts 2027-02-30 and 24:00 by rolling over to the next day; an operator who typed one made a mistake.
function isCalendarTime(raw: string): boolean {
  const [, y, m, d, h, min, sec] = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(raw)!.map(Number) as number[];
  const day = new Date(Date.UTC(y!, m! - 1, d!));
  return day.getUTCMonth() === m! - 1 && day.getUTCDate() === d && h! < 24 && min! < 60 && !(sec! >= 60);
}

const list = (raw: string | undefined) => raw?.split(',').map((s) => s.trim()).filter(Boolean);

/** One line of `delegation list`: tab-separated, for reading and for scripts. */
export function delegationRow(d: DelegationListing, now: Date): string {
  const ended = d.status === 'ended' ? `ended ${d.endedAt?.toISOString() ?? ''} by ${d.endedBy ?? '?'}: ${d.endReason ?? ''}` : '';
  return [
    d.id, d.principalUsername, d.delegateUsername, d.relationship, delegationState(d, now), d.validFrom.toISOString(), d.validUntil?.toISOString() ?? '-',
    JSON.stringify(d.constraints), `evidence ${d.evidence}`, `verified by ${d.verifiedBy} ${d.verifiedAt.toISOString()}`, ended,
  ].join('\t').trimEnd();
}
