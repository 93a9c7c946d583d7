/**
 * Strict reading of a JSON body, member by member: every member is listed, anything else is
 * refused, and each refusal names the path. Two kinds of refusal, as FHIR's RESTful API uses them:
 * 400 when the JSON is not the resource it claims to be (shape, types, unknown members, a malformed
 * date or reference), 422 when it is well formed but breaks this server's rules (a code not on the
 * list, a value out of range, a date in the future).
 */

export class InputError extends Error {
  readonly status: 400 | 422;
  constructor(status: 400 | 422, message: string) {
    super(message);
    this.status = status;
  }
}

export type Json = Record<string, unknown>;

/** Member names are echoed in messages only when they look like member names (never arbitrary input). */
const MEMBER_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,40}$/;
/** No control, format (bidirectional overrides, zero-width), private-use or lone-surrogate characters. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\u2028\u2029]/u;

export const malformed = (path: string, what: string): never => { throw new InputError(400, `${path}: ${what}`); };
export const refused = (path: string, what: string): never => { throw new InputError(422, `${path}: ${what}`); };

/** A JSON object with only `allowed` members and every `required` one. */
export function object(value: unknown, path: string, allowed: readonly string[], required: readonly string[] = []): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return malformed(path, 'must be a JSON object');
  const o = value as Json;
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) return malformed(path, MEMBER_NAME.test(key) ? `unknown member ${key}` : 'an unknown member');
  }
  for (const key of required) if (o[key] === undefined) malformed(`${path}.${key}`, 'missing');
  return o;
}

/** An array of `min` to `max` items. */
export function array(value: unknown, path: string, min: number, max: number): unknown[] {
  if (!Array.isArray(value)) return malformed(path, 'must be an array');
  if (value.length < min || value.length > max) return malformed(path, min === max ? `must hold exactly ${min}` : `must hold ${min} to ${max}`);
  return value;
}

/** A non-blank, printable string of at most `max` characters. */
export function text(value: unknown, path: string, max: number): string {
  if (typeof value !== 'string') return malformed(path, 'must be a string');
  if (!value.trim() || value.length > max) return malformed(path, `must be 1 to ${max} characters`);
  if (UNPRINTABLE.test(value)) return malformed(path, 'must not contain control characters');
  return value;
}

/** A finite number. */
export function number(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return malformed(path, 'must be a number');
  return value;
}

/** `value` must be exactly `expected` (a fixed system, unit or code). */
export function exactly(value: unknown, path: string, expected: string, status: 400 | 422 = 422): string {
  if (value !== expected) throw new InputError(status, `${path}: must be ${expected}`);
  return expected;
}

// FHIR R4 date and dateTime: a dateTime with a time carries seconds and a zone.
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(\.\d{1,9})?(Z|[+-](?:0\d|1[0-4]):[0-5]\d)$/;
const EARLIEST = Date.UTC(1900, 0, 1);
/** A clock a little ahead of ours is tolerated: a reading taken "now" on a phone is not refused. */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

function realDate(y: string, m: string, d: string): boolean {
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  return date.getUTCFullYear() === Number(y) && date.getUTCMonth() === Number(m) - 1 && date.getUTCDate() === Number(d);
}

/**
 * A FHIR date (`2026-03-01`) or, when `allowDate` is false, only a dateTime with time and zone
 * (`2026-03-01T08:30:00+09:00`); not before 1900, not in the future.
 */
export function when(value: unknown, path: string, now: number, allowDate: boolean): string {
  if (typeof value !== 'string') return malformed(path, 'must be a string');
  const full = DATE_TIME.exec(value);
  const dateOnly = allowDate ? DATE.exec(value) : null;
  const parts = full ?? dateOnly;
  if (!parts || !realDate(parts[1]!, parts[2]!, parts[3]!)) {
    return malformed(path, allowDate ? 'must be a FHIR date (YYYY-MM-DD) or dateTime with seconds and a zone' : 'must be a FHIR dateTime with seconds and a zone (YYYY-MM-DDThh:mm:ss+09:00)');
  }
  const at = Date.parse(full ? value : `${value}T00:00:00Z`);
  if (at < EARLIEST) refused(path, 'must not be before 1900');
  // A date alone is in the future only from the next day on, wherever the patient is.
  const latest = now + FUTURE_TOLERANCE_MS + (full ? 0 : 14 * 3600_000);
  if (at > latest) refused(path, 'must not be in the future');
  return value;
}
