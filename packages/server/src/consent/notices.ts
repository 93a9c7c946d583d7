import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../storage/schema.ts';
import { ttlMemo } from '../shared/ttl-memo.ts';
import { canonicalJson } from './canonical-json.ts';

// Control characters (jsonb refuses NUL; the others garble a page) and bidirectional overrides,
// which can make a company name read as another one.
const UNSAFE_TEXT = /[\u0000-\u0009\u000b-\u001f\u007f\u202a-\u202e\u2066-\u2069]/;
// ISO 3166-1 alpha-2, the 249 officially assigned codes (not EU, UK, XK or other reserved ones).
const ISO_3166_ALPHA2 = new Set(('AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT '
  + 'BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO '
  + 'FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG '
  + 'KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX '
  + 'MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH '
  + 'SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN '
  + 'VU WF WS YE YT ZA ZM ZW').split(' '));

const text = (max: number) => z.string().max(max)
  .refine((s) => s.trim() !== '', 'must not be empty')
  .refine((s) => !UNSAFE_TEXT.test(s), 'must not contain control or text-direction characters');
const bilingual = (max: number) => z.object({ ja: text(max), en: text(max) }).strict();
const country = z.string().refine((c) => ISO_3166_ALPHA2.has(c), 'must be an ISO 3166-1 alpha-2 country code in capitals, e.g. JP');
const httpsUri = z.string().max(500).refine((value) => {
  try {
    const u = new URL(value);
    return u.protocol === 'https:' && !u.username && !u.password;
  } catch { return false; }
}, 'must be an https URL');
const CONTACT_FORMS = [
  /^[A-Za-z0-9.!#$%&'*+=?^_`{|}~-]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,}$/, // e-mail address
  /^\+?[0-9][0-9 ()-]{5,24}$/, // phone number: +81 3-1234-5678, 0120-123-456
];
const contact = text(200).refine((c) => CONTACT_FORMS.some((re) => re.test(c)) || httpsUri.safeParse(c).success,
  'must be an e-mail address, a phone number or an https URL');
const PURPOSE_ID = /^[a-z0-9_-]{1,40}$/;
// What a client asks for, in the protocol's terms: scope:accounts, claim:email, authorization_details:payment_initiation.
const ITEM = /^(scope|claim|authorization_details):[\x21-\x7e]{1,100}$/;

/**
 * A client's notice (ISO/IEC 29184 privacy notice): who it is, why it wants the data, what data
 * for which purpose, who else receives it, how long it is kept, under which law. Strict: an
 * unknown member is refused, so nothing the person is not shown can hide in a notice.
 */
export const NoticeContent = z.object({
  serviceName: bilingual(100),
  legalName: bilingual(200),
  registrationNumber: text(200).optional(),
  contact,
  logoUri: httpsUri.optional(),
  purposes: z.array(z.object({ id: z.string().regex(PURPOSE_ID, 'must be 1–40 of a-z 0-9 _ -'), text: bilingual(500) }).strict()).min(1).max(30),
  data: z.array(z.object({
    item: z.string().regex(ITEM, 'must be scope:<name>, claim:<name> or authorization_details:<type>'),
    purposes: z.array(z.string()).min(1).max(30),
    optional: z.boolean(),
  }).strict()).min(1).max(100),
  recipients: z.array(z.object({ name: bilingual(200), jurisdiction: country, purpose: bilingual(500) }).strict()).max(50),
  retention: bilingual(500),
  keepsData: z.boolean(),
  jurisdiction: country,
  policyUri: httpsUri.optional(),
}).strict().superRefine((notice, ctx) => {
  const ids = new Set<string>();
  notice.purposes.forEach((p, i) => {
    if (ids.has(p.id)) ctx.addIssue({ code: 'custom', path: ['purposes', i, 'id'], message: `purpose ${p.id} is listed twice` });
    ids.add(p.id);
  });
  const items = new Set<string>();
  notice.data.forEach((d, i) => {
    if (items.has(d.item)) ctx.addIssue({ code: 'custom', path: ['data', i, 'item'], message: `${d.item} is listed twice` });
    items.add(d.item);
    d.purposes.forEach((id, j) => {
      if (!ids.has(id)) ctx.addIssue({ code: 'custom', path: ['data', i, 'purposes', j], message: `no purpose has the id ${id}` });
    });
    if (new Set(d.purposes).size !== d.purposes.length) ctx.addIssue({ code: 'custom', path: ['data', i, 'purposes'], message: 'a purpose is listed twice' });
  });
});
export type NoticeContent = z.infer<typeof NoticeContent>;
export type NoticePurpose = NoticeContent['purposes'][number];

/** A notice that does not pass the schema; `issues` name each offending field by its path. */
export class InvalidNoticeError extends Error {
  readonly code = 'invalid_notice';
  readonly issues: Array<{ path: string; message: string }>;
  constructor(issues: Array<{ path: string; message: string }>) {
    super(issues.map((i) => `${i.path || '(notice)'}: ${i.message}`).join('; '));
    this.issues = issues;
  }
}

/** Validates a notice; throws InvalidNoticeError naming the fields. */
export function parseNoticeContent(input: unknown): NoticeContent {
  const parsed = NoticeContent.safeParse(input);
  if (!parsed.success) throw new InvalidNoticeError(parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })));
  return parsed.data;
}

/** The SHA-256 of a notice's canonical JSON: the same content hashes the same whatever its key order. */
export function noticeHash(content: NoticeContent): string {
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

/** How the ledger's notice_version column names a version: `<client_id>@<version>`. */
export function noticeRef(clientId: string, version: number): string {
  return `${clientId}@${version}`;
}

/** The reverse of noticeRef (a client_id may itself hold an @: the last one separates). */
export function parseNoticeRef(ref: string): { clientId: string; version: number } | undefined {
  const at = ref.lastIndexOf('@');
  const clientId = ref.slice(0, at);
  const version = ref.slice(at + 1);
  return at > 0 && isClientId(clientId) && VERSION.test(version) ? { clientId, version: Number(version) } : undefined;
}

/** The items a person may leave out (the consent screen offers them unticked, apart from the rest). */
export function optionalItems(content: NoticeContent): Set<string> {
  return new Set(content.data.filter((d) => d.optional).map((d) => d.item));
}

/** Why an item is asked for: its purposes, in the notice's words; empty when the notice does not list it. */
export function purposesFor(content: NoticeContent, item: string): NoticePurpose[] {
  const ids = content.data.find((d) => d.item === item)?.purposes ?? [];
  return ids.flatMap((id) => content.purposes.filter((p) => p.id === id));
}

export interface NoticeVersion { version: number; content: NoticeContent; hash: string; publishedAt: Date }
export type NoticeSummary = Omit<NoticeVersion, 'content'>;

// client_ids are 1–255 printable ASCII characters (client-policy.ts); versions fit an int4.
const isClientId = (id: string) => /^[\x21-\x7e]{1,255}$/.test(id);
const VERSION = /^[1-9][0-9]{0,8}$/;
// Publishing takes this advisory lock (with the client_id's hash), so two publishes for one client take turns.
const NOTICE_LOCK = 727_274_010;

/**
 * The versions of each client's notice. A version is immutable (the table refuses UPDATE and
 * DELETE); publishing content identical to the current version makes none. `currentVersion`
 * runs on every authorization request, so it is remembered for `cacheSeconds` (also when a
 * client has no notice); another server process sees a new version within that time.
 */
export function createConsentNotices(db: Kysely<Database>, options: { cacheSeconds: number }) {
  const latest = (clientId: string) => db.selectFrom('consent_notices').select(['version', 'content', 'content_hash', 'published_at'])
    .where('client_id', '=', clientId).orderBy('version', 'desc').limit(1).executeTakeFirst();
  // Wrapped so "no notice" is remembered too: most requests come from clients that have none yet.
  const cached = () => ttlMemo(async (clientId: string) => ({ version: (await latest(clientId))?.version }), options.cacheSeconds * 1000);
  let memo = cached();
  const toVersion = (r: { version: number; content: Record<string, unknown>; content_hash: string; published_at: Date }): NoticeVersion =>
    ({ version: r.version, content: r.content as NoticeContent, hash: r.content_hash, publishedAt: r.published_at });

  return {
    /** Validates and stores a new version, unless the content equals the current one. Throws InvalidNoticeError. */
    async publish(clientId: string, input: unknown): Promise<{ version: number; hash: string; unchanged: boolean }> {
      if (!isClientId(clientId)) throw new InvalidNoticeError([{ path: 'client_id', message: 'must be 1–255 printable ASCII characters' }]);
      const content = parseNoticeContent(input);
      const hash = noticeHash(content);
      const result = await db.transaction().execute(async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(${NOTICE_LOCK}, hashtext(${clientId}))`.execute(trx);
        const last = await trx.selectFrom('consent_notices').select(['version', 'content_hash'])
          .where('client_id', '=', clientId).orderBy('version', 'desc').limit(1).executeTakeFirst();
        if (last?.content_hash === hash) return { version: last.version, hash, unchanged: true };
        const version = (last?.version ?? 0) + 1;
        await trx.insertInto('consent_notices').values({ client_id: clientId, version, content: JSON.stringify(content), content_hash: hash }).execute();
        return { version, hash, unchanged: false };
      });
      // This process sees its own new version at once; the others within cacheSeconds.
      if (!result.unchanged) memo = cached();
      return result;
    },

    async current(clientId: string): Promise<NoticeVersion | undefined> {
      if (!isClientId(clientId)) return undefined;
      const row = await latest(clientId);
      return row && toVersion(row);
    },

    async get(clientId: string, version: number): Promise<NoticeVersion | undefined> {
      if (!isClientId(clientId) || !Number.isInteger(version) || !VERSION.test(String(version))) return undefined;
      const row = await db.selectFrom('consent_notices').select(['version', 'content', 'content_hash', 'published_at'])
        .where('client_id', '=', clientId).where('version', '=', version).executeTakeFirst();
      return row && toVersion(row);
    },

    /** Every version, newest first, without the content. */
    async list(clientId: string): Promise<NoticeSummary[]> {
      if (!isClientId(clientId)) return [];
      const rows = await db.selectFrom('consent_notices').select(['version', 'content_hash', 'published_at'])
        .where('client_id', '=', clientId).orderBy('version', 'desc').execute();
      return rows.map((r) => ({ version: r.version, hash: r.content_hash, publishedAt: r.published_at }));
    },

    /** The current version's number (remembered for cacheSeconds), or undefined when the client has no notice. */
    async currentVersion(clientId: string): Promise<number | undefined> {
      if (!isClientId(clientId)) return undefined;
      return (await memo(clientId))?.version;
    },
  };
}
export type ConsentNotices = ReturnType<typeof createConsentNotices>;
