import type { ClientPrivateJwk } from '@sekisho/example-kit/client-key';
import { RECORD_TYPES, WRITABLE_TYPES, type ResourceType } from './fhir.ts';
import { smartScopes } from './health-api/record-access.ts';

/**
 * What Sekisho must know about the example apps, as the objects to register: the clinic as a
 * FAPI-CIBA client and the patient portal as a FAPI 2.0 code-flow client (`sekisho client add
 * --file client.json`), the health API as a resource server (the `resourceServers` entry of
 * Sekisho's configuration). Printed by main.ts; the end-to-end test registers exactly these.
 */

/** The public half of an ES256 client key, as a registered JWK. */
function publicJwk(privateJwk: ClientPrivateJwk) {
  const { kty, crv, x, y, kid } = privateJwk;
  return { kty, crv, x, y, kid, alg: 'ES256', use: 'sig' };
}

/** The clinic's RFC 7591 client metadata. Only the public half of the key is in it. */
export function clinicClientMetadata(options: {
  clientId: string;
  privateJwk: ClientPrivateJwk;
  deliveryMode: 'poll' | 'ping';
  /** Required for ping: where Sekisho sends the notification (the app's `notificationEndpoint`). */
  notificationEndpoint?: string;
}) {
  if (options.deliveryMode === 'ping' && !options.notificationEndpoint) throw new TypeError('ping mode needs notificationEndpoint');
  return {
    client_id: options.clientId,
    client_name: '架空クリニック 診療記録システム (fictional clinic, CIBA example)',
    grant_types: ['urn:openid:params:grant-type:ciba'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: { keys: [publicJwk(options.privateJwk)] },
    backchannel_token_delivery_mode: options.deliveryMode,
    ...(options.deliveryMode === 'ping' ? { backchannel_client_notification_endpoint: options.notificationEndpoint } : {}),
    backchannel_authentication_request_signing_alg: 'ES256',
    backchannel_user_code_parameter: false,
    id_token_signed_response_alg: 'ES256',
    dpop_bound_access_tokens: true,
    // RFC 9396 §10: oidc-provider refuses any type a client has not registered.
    authorization_details_types: ['fhir_record_access'],
  };
}

/**
 * The patient portal's RFC 7591 client metadata: a confidential web app (private_key_jwt) using
 * the code flow with PAR, PKCE and DPoP (Sekisho requires PAR of every client), refresh tokens
 * for a session that outlives one access token, and client credentials for its own Grant
 * Management token (`grant_management_revoke`, to end the consent when the patient disconnects).
 */
export function portalClientMetadata(options: { clientId: string; privateJwk: ClientPrivateJwk; publicUrl: string }) {
  return {
    client_id: options.clientId,
    client_name: '架空健康記録サービス 患者ポータル (fictional health-record service, patient portal)',
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    redirect_uris: [new URL('/callback', options.publicUrl).href],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: { keys: [publicJwk(options.privateJwk)] },
    id_token_signed_response_alg: 'ES256',
    dpop_bound_access_tokens: true,
    authorization_details_types: ['fhir_record_access'],
  };
}

/** The health API's SMART-style scopes: read and search on each type, and create on the two a patient adds to. */
export const HEALTH_SCOPES = {
  read: (['Patient', ...RECORD_TYPES] as ResourceType[]).map((t) => smartScopes(t, 'read').v2),
  create: WRITABLE_TYPES.map((t) => smartScopes(t, 'create').v2),
};

const READ_WORDS: Record<ResourceType, { ja: string; en: string }> = {
  Patient: { ja: '基本情報（氏名・生年月日・性別）', en: 'basic details (name, date of birth, gender)' },
  AllergyIntolerance: { ja: 'アレルギー・副作用歴', en: 'allergies and adverse reactions' },
  MedicationStatement: { ja: '服薬', en: 'medicines' },
  Observation: { ja: '検査結果・バイタル', en: 'test results and vital signs' },
  Condition: { ja: '病名・診断', en: 'conditions and diagnoses' },
};

/** How Sekisho's consent screen, the device app and My consents put each scope to a person (ja and en). */
function scopeLabels() {
  const labels: Record<string, { short: { ja: string; en: string }; long: { ja: string; en: string }; sensitive: true }> = {};
  for (const type of ['Patient', ...RECORD_TYPES] as ResourceType[]) {
    const w = READ_WORDS[type];
    labels[smartScopes(type, 'read').v2] = {
      short: { ja: `${w.ja}の参照`, en: `See your ${w.en}` },
      long: {
        ja: `お客さまが選んだ患者の${w.ja}を読み取ります。記録を変更することはできません。`,
        en: `The service reads the ${w.en} of the patient you choose. It cannot change them.`,
      },
      sensitive: true,
    };
  }
  labels[smartScopes('Observation', 'create').v2] = {
    short: { ja: '血圧・体重の記録の追加', en: 'Add blood pressure and body weight readings' },
    long: {
      ja: 'お客さまが選んだ患者の記録に、ご自宅で測った血圧と体重を追加します。すでにある記録を変更・削除することはできません。',
      en: 'The service adds blood pressure and body weight readings taken at home to the records of the patient you choose. It cannot change or delete the records already there.',
    },
    sensitive: true,
  };
  labels[smartScopes('AllergyIntolerance', 'create').v2] = {
    short: { ja: 'アレルギーの追加', en: 'Add allergies' },
    long: {
      ja: 'お客さまが選んだ患者の記録に、ご本人の申告としてアレルギーを追加します。すでにある記録を変更・削除することはできません。',
      en: 'The service adds allergies, as reported by you, to the records of the patient you choose. It cannot change or delete the records already there.',
    },
    sensitive: true,
  };
  return labels;
}

/** The health API's entry in Sekisho's `resourceServers` (packages/server/src/config/schema.ts). */
export function healthResourceServer(options: { audience: string; accessTokenTtl?: number }) {
  return {
    identifier: options.audience,
    // RFC 9068 JWTs: the API verifies them offline with Sekisho's JWKS (@sekisho/resource-server).
    // Offline means a withdrawn consent is not seen until the token expires: keep the TTL short.
    accessTokenFormat: 'jwt',
    accessTokenTtl: options.accessTokenTtl ?? 300,
    // Which interactions on which record types (SMART App Launch v2 scopes); which patient is in
    // each token's fhir_record_access authorization_details, chosen by the person.
    scopes: [...HEALTH_SCOPES.read, ...HEALTH_SCOPES.create],
    scopeLabels: scopeLabels(),
  };
}
