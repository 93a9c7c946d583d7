import { z } from 'zod';

/**
 * The shapes an identity verification is recorded in: evidence and verified claims as the OpenID
 * Identity Assurance Schema Definition 1.0 defines them, so that what is stored is exactly what
 * `verified_claims` can release. Strict: an unknown member is refused, never stored; sizes are
 * bounded. Attachments (photocopies of documents) are deliberately not accepted: Sekisho records
 * that a document was checked, not the document.
 */

/** Identifiers of trust frameworks, methods and types: a short token or a collision-resistant URI. */
export const identifierSchema = z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, 'a token or URI without spaces');

/** ISO 8601 `YYYY-MM-DDThh:mm[:ss]TZD` (UTC or an offset). */
export const dateTimeSchema = z.string().max(40)
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/, 'an ISO 8601 date and time with a zone')
  .refine((s) => !Number.isNaN(Date.parse(s)), 'not a real date and time');

/** ISO 8601 `YYYY-MM-DD`. */
export const dateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD')
  .refine((s) => new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'not a real date');

const text = (max = 200) => z.string().trim().min(1).max(max);

/**
 * Check methods (OpenID eKYC-IDA predefined values): how evidence was checked. Other values
 * (a scheme's own, ideally URIs) are accepted; these are the ones Sekisho knows the meaning of.
 */
export const CHECK_METHODS = {
  vpip: 'document checked physically, in person',
  vpiruv: 'document checked physically, remote unattended',
  vri: 'document checked remotely, supervised (video)',
  vdig: 'digital document checked for integrity',
  vcrypt: 'document verified cryptographically (e.g. the chip of an ID card)',
  data: 'data checked against an authoritative source',
  kbv: 'knowledge-based verification',
  pvp: 'person compared with the document photo, in person',
  pvr: 'person compared with the document photo, remotely',
  bvp: 'biometric comparison, in person',
  bvr: 'biometric comparison, remote',
} as const;

/** Identity verification methods of earlier drafts (the document evidence's `method`). */
export const VERIFICATION_METHODS = {
  pipp: 'physical in-person proofing',
  sripp: 'supervised remote in-person proofing',
  eid: 'online verification of an electronic ID card',
  uripp: 'unsupervised remote in-person proofing',
} as const;

/**
 * Methods in which a trained person saw the person (or, supervised, saw them remotely): what
 * IAL3 requires (NIST SP 800-63A: in-person or supervised remote proofing).
 */
export const IN_PERSON_METHODS: ReadonlySet<string> = new Set(['pipp', 'sripp', 'vpip', 'vri', 'pvp', 'bvp']);

const address = {
  formatted: text(500).optional(),
  street_address: text(300).optional(),
  locality: text(100).optional(),
  region: text(100).optional(),
  postal_code: text(20).optional(),
  country: text(100).optional(),
};

const checkDetailSchema = z.object({
  check_method: identifierSchema,
  organization: text().optional(),
  check_id: text().optional(),
  time: dateTimeSchema.optional(),
}).strict();
const checkDetails = z.array(checkDetailSchema).min(1).max(10).optional();

const documentEvidence = z.object({
  type: z.literal('document'),
  method: identifierSchema.optional(),
  time: dateTimeSchema.optional(),
  check_details: checkDetails,
  document_details: z.object({
    type: identifierSchema,
    document_number: text(100).optional(),
    personal_number: text(100).optional(),
    serial_number: text(100).optional(),
    date_of_issuance: dateSchema.optional(),
    date_of_expiry: dateSchema.optional(),
    issuer: z.object({ name: text().optional(), ...address, country_code: z.string().regex(/^[A-Z]{2,3}$/).optional(), jurisdiction: text().optional() }).strict().optional(),
  }).strict().optional(),
}).strict();

const electronicRecordEvidence = z.object({
  type: z.literal('electronic_record'),
  time: dateTimeSchema.optional(),
  check_details: checkDetails,
  record: z.object({
    type: identifierSchema,
    created_at: dateTimeSchema.optional(),
    date_of_expiry: dateSchema.optional(),
    source: z.object({ name: text().optional(), ...address, country_code: z.string().regex(/^[A-Z]{2,3}$/).optional() }).strict().optional(),
  }).strict().optional(),
}).strict();

const vouchEvidence = z.object({
  type: z.literal('vouch'),
  time: dateTimeSchema.optional(),
  check_details: checkDetails,
  attestation: z.object({
    type: identifierSchema,
    reference_number: text(100).optional(),
    date_of_issuance: dateSchema.optional(),
    date_of_expiry: dateSchema.optional(),
    voucher: z.object({ name: text().optional(), occupation: text().optional(), organization: text().optional(), ...address }).strict().optional(),
  }).strict().optional(),
}).strict();

const electronicSignatureEvidence = z.object({
  type: z.literal('electronic_signature'),
  signature_type: identifierSchema,
  issuer: text(),
  serial_number: text(100),
  created_at: dateTimeSchema.optional(),
}).strict();

export const evidenceSchema = z.discriminatedUnion('type', [documentEvidence, electronicRecordEvidence, vouchEvidence, electronicSignatureEvidence]);
export type Evidence = z.infer<typeof evidenceSchema>;

const MAX_JSON = 16_384;
const bounded = (max: number) => (v: unknown) => JSON.stringify(v).length <= max;

export const evidenceListSchema = z.array(evidenceSchema).max(10).refine(bounded(MAX_JSON), `at most ${MAX_JSON} bytes of evidence`);

/**
 * Claims a verification can vouch for: the OIDC Core person claims a document proves and the
 * OpenID Connect for Identity Assurance claims. Not e-mail or phone: those have their own
 * `*_verified` claims and are not identity proofing.
 */
const CLAIM_SCHEMAS = {
  name: text(),
  given_name: text(100),
  family_name: text(100),
  middle_name: text(100),
  birthdate: dateSchema,
  gender: text(50),
  address: z.object(address).strict().refine((a) => Object.keys(a).length > 0, 'an empty address'),
  place_of_birth: z.object({ country: text(100).optional(), region: text(100).optional(), locality: text(100).optional() }).strict()
    .refine((p) => Object.keys(p).length > 0, 'an empty place of birth'),
  nationalities: z.array(z.string().regex(/^[A-Z]{2,3}$/, 'ISO 3166 / ICAO country codes')).min(1).max(10),
  birth_family_name: text(100),
  birth_given_name: text(100),
  birth_middle_name: text(100),
  salutation: text(50),
  title: text(50),
  also_known_as: text(),
} as const satisfies Record<string, z.ZodType>;

export const VERIFIABLE_CLAIMS = Object.keys(CLAIM_SCHEMAS) as Array<keyof typeof CLAIM_SCHEMAS>;

/** `family_name#ja-Kana-JP`: a claim name with an optional BCP 47 language tag (OIDC Core 5.2). */
const CLAIM_NAME = /^([a-z_]+)(?:#([A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,4}))?$/;

export type VerifiedClaims = Record<string, unknown>;

export const verifiedClaimsSchema = z.record(z.string().max(80), z.unknown())
  .transform((claims, ctx): VerifiedClaims => {
    const names = Object.keys(claims);
    if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'at least one verified claim' });
    if (names.length > 30) ctx.addIssue({ code: 'custom', message: 'at most 30 verified claims' });
    const out: VerifiedClaims = {};
    for (const name of names) {
      const base = CLAIM_NAME.exec(name)?.[1];
      const schema = base !== undefined && Object.hasOwn(CLAIM_SCHEMAS, base) ? (CLAIM_SCHEMAS as Record<string, z.ZodType>)[base] : undefined;
      if (!schema) {
        ctx.addIssue({ code: 'custom', path: [name], message: `not a claim a verification can prove (${VERIFIABLE_CLAIMS.join(', ')}; optionally #language-tag)` });
        continue;
      }
      const parsed = schema.safeParse(claims[name]);
      if (parsed.success) out[name] = parsed.data;
      for (const issue of parsed.error?.issues ?? []) ctx.addIssue({ code: 'custom', path: [name, ...issue.path], message: issue.message });
    }
    return out;
  })
  .refine(bounded(8192), 'at most 8192 bytes of verified claims');
