import { HEALTH_SCOPES } from '../../health/src/registration.ts';

/** Notice items for scopes, each serving the given purposes. */
const scopeItems = (scopes: string[], purposes: string[], optional = false) => scopes.map((s) => ({ item: `scope:${s}`, purposes, optional }));

/**
 * What each fictional client tells people on Sekisho's consent screen (a consent notice, see
 * docs/consent-notices.md). Every company, registration number and address here is made up; the
 * `.example` domains (RFC 2606) cannot belong to anyone.
 */

export const CLINIC_NOTICE = {
  serviceName: { ja: '架空クリニック 診療記録システム', en: 'Kakuu Clinic records system (fictional)' },
  legalName: { ja: '医療法人 架空会（架空）', en: 'Kakuu Medical Corporation (fictional)' },
  registrationNumber: '保険医療機関コード 0000000（架空）',
  contact: 'privacy@clinic.kakuu.example',
  purposes: [
    { id: 'care', text: { ja: '診察のため、担当医が他の医療機関の記録を確認するため', en: 'So that your doctor can see records held elsewhere while treating you' } },
  ],
  data: [
    { item: 'scope:openid', purposes: ['care'], optional: false },
    ...scopeItems(HEALTH_SCOPES.read, ['care']),
    { item: 'authorization_details:fhir_record_access', purposes: ['care'], optional: false },
  ],
  recipients: [],
  retention: {
    ja: '画面に表示する間だけ使い、保存しません（10分後に消去します）。',
    en: 'Used only while shown on the doctor\'s screen; not stored (forgotten after 10 minutes).',
  },
  keepsData: false,
  jurisdiction: 'JP',
};

export const FINTECH_NOTICE = {
  serviceName: { ja: 'かけいぼ日和（架空）', en: 'Kakeibo Biyori (fictional)' },
  legalName: { ja: '株式会社ひより家計研究所（架空）', en: 'Hiyori Household Finance Lab Inc. (fictional)' },
  registrationNumber: '電子決済等代行業 関東財務局長（電代業）第0号（架空）',
  contact: 'privacy@kakeibo-biyori.example',
  purposes: [
    { id: 'household-book', text: { ja: '口座の残高と入出金明細を家計簿に表示するため', en: 'To show your balances and transactions in your household book' } },
    { id: 'payment', text: { ja: 'お客さまが指示した振込を銀行に依頼するため', en: 'To ask your bank to make the transfers you instruct' } },
  ],
  data: [
    { item: 'scope:openid', purposes: ['household-book'], optional: false },
    { item: 'scope:offline_access', purposes: ['household-book'], optional: false },
    { item: 'authorization_details:account_information', purposes: ['household-book'], optional: false },
    { item: 'authorization_details:domestic_transfer', purposes: ['payment'], optional: false },
  ],
  recipients: [],
  retention: {
    ja: '連携を解除した日に削除します（このデモではサーバーを止めると消えます）。',
    en: 'Deleted the day you disconnect your bank (in this demo, when the server stops).',
  },
  keepsData: true,
  jurisdiction: 'JP',
};

export const PORTAL_NOTICE = {
  serviceName: { ja: '架空ヘルスレコード 患者ポータル', en: 'Kakuu Health Record patient portal (fictional)' },
  legalName: { ja: '架空ヘルスレコード株式会社（架空）', en: 'Kakuu Health Record Inc. (fictional)' },
  contact: 'privacy@health.kakuu.example',
  purposes: [
    { id: 'own-records', text: { ja: 'ご自身の記録を確認し、家庭で測った血圧などを追加するため', en: 'To see your own records and add measurements you take at home' } },
  ],
  data: [
    { item: 'scope:openid', purposes: ['own-records'], optional: false },
    { item: 'scope:offline_access', purposes: ['own-records'], optional: false },
    ...scopeItems([...HEALTH_SCOPES.read, ...HEALTH_SCOPES.create], ['own-records']),
    { item: 'authorization_details:fhir_record_access', purposes: ['own-records'], optional: false },
  ],
  recipients: [],
  retention: { ja: '記録は健康記録サービスに保存されます。ポータル自体は何も保存しません。', en: 'Records are kept by the health-record service; the portal itself keeps nothing.' },
  keepsData: false,
  jurisdiction: 'JP',
};
