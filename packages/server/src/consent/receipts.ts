import { parseNoticeRef } from './notices.ts';
import { importJWK, SignJWT, type JWK } from 'jose';
import type { ConsentRecord, ConsentScope } from './ledger.ts';
import type { Catalogue } from './catalogue.ts';

/** The receipt's JWT type: a consent receipt, not an ID or access token. */
export const RECEIPT_TYPE = 'consent-receipt+jwt';

export interface ReceiptIssuer {
  issuer: string;
  controller: string;
  contact?: string | undefined;
  jurisdiction: string;
  /** Which granted parts are sensitive (the catalogue's and the RAR types' flags), for Kantara's `sensitive` and `spiCat`. */
  sensitivity?: { catalogue: Catalogue; detailTypes: { get(type: string): { label: { sensitive: boolean } } | undefined } } | undefined;
}

/** The granted parts marked sensitive, by their protocol names (`scope:…`, `claim:…`, `authorization_details:…`). */
export function sensitiveParts(parts: ConsentScope, sensitivity: NonNullable<ReceiptIssuer['sensitivity']>): string[] {
  const { catalogue, detailTypes } = sensitivity;
  return [
    ...parts.scopes.filter((s) => s !== 'openid' && catalogue.scope(s).sensitive).map((s) => `scope:${s}`),
    ...Object.values(parts.resources).flat().filter((s) => catalogue.scope(s).sensitive).map((s) => `scope:${s}`),
    ...parts.claims.filter((c) => c !== 'verified_claims' && catalogue.claim(c).sensitive).map((c) => `claim:${c}`),
    ...parts.authorizationDetails.map((d) => String(d.type)).filter((t) => detailTypes.get(t)?.label.sensitive ?? true).map((t) => `authorization_details:${t}`),
  ].filter((x, i, all) => all.indexOf(x) === i);
}

/**
 * The receipt of a consent record: a JWS signed with the server's own signing key (the one in its
 * published JWKS), so anyone can check it against `jwks_uri` without trusting the person who
 * shows it. The claims follow the Kantara Consent Receipt v1.1 names (ISO/IEC TS 27560's
 * ancestor) for the parts they cover, and carry the ledger record itself, its hash and the
 * previous record's hash, so a receipt also proves where the record sits in the chain.
 */
export function createReceipts(keys: JWK[], who: ReceiptIssuer) {
  // ES256 when there is one (small, widely verifiable); the first key otherwise.
  const jwk = keys.find((k) => k.alg === 'ES256') ?? keys[0];
  if (!jwk?.kid || !jwk.alg) throw new Error('no signing key for consent receipts');
  const key = importJWK(jwk, jwk.alg);

  return {
    async sign(record: ConsentRecord): Promise<string> {
      const granted = record.granted;
      return new SignJWT({
        version: 'KI-CR-v1.1.0',
        jurisdiction: who.jurisdiction,
        consentTimestamp: Math.floor(record.recordedAt.getTime() / 1000),
        collectionMethod: record.channel,
        consentReceiptID: record.id,
        piiPrincipalId: record.subject,
        piiControllers: [{ piiController: who.controller, ...(who.contact ? { contact: who.contact } : {}), url: who.issuer }],
        // Kantara's policyUrl: the exact version of the client's notice the person was shown.
        policyUrl: noticeUrl(who.issuer, record.noticeVersion),
        services: [{
          service: record.clientId,
          purposes: [{
            consentType: 'EXPLICIT',
            purposeCategory: [...granted.scopes, ...Object.keys(granted.resources)],
            piiCategory: [...granted.claims, ...granted.authorizationDetails.map((d) => String(d.type))],
            primaryPurpose: true,
            termination: record.retainUntil.toISOString(),
            thirdPartyDisclosure: true,
            thirdPartyName: record.clientId,
          }],
        }],
        // Health, money, identity: as the catalogue and the RAR types flag them (unknown counts as sensitive).
        ...(() => {
          const spi = who.sensitivity ? sensitiveParts(granted, who.sensitivity) : [];
          return { sensitive: spi.length > 0, ...(spi.length ? { spiCat: spi } : {}) };
        })(),
        // ISO/IEC TS 27560 record: the decision as the ledger holds it.
        record: {
          seq: record.seq, action: record.action, decision: record.decision, actor: record.actor, grant_id: record.grantId,
          notice_version: record.noticeVersion, shown_hash: record.shownHash, requested: record.requested, granted: record.granted,
          context: { acr: record.context.acr }, retain_until: record.retainUntil.toISOString(), prev_hash: record.prevHash, hash: record.hash,
        },
      })
        .setProtectedHeader({ alg: jwk.alg!, kid: jwk.kid!, typ: RECEIPT_TYPE })
        .setIssuer(who.issuer)
        .setSubject(record.subject)
        .setJti(record.id)
        .setIssuedAt()
        .sign(await key);
    },
  };
}
export type Receipts = ReturnType<typeof createReceipts>;

function noticeUrl(issuer: string, noticeVersion: string | null): string {
  const ref = noticeVersion ? parseNoticeRef(noticeVersion) : undefined;
  const base = issuer.replace(/\/$/, '');
  return ref ? `${base}/notices/${encodeURIComponent(ref.clientId)}/${ref.version}` : base;
}
