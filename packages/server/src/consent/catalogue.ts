import type { Lang } from '../ui/i18n.ts';

/** Text in both languages Sekisho's pages speak. */
export interface Bilingual { ja: string; en: string }

/**
 * How one scope or claim is put to a person: a short label (a line on the consent screen and in
 * the consents list) and a long one (what it means, in plain words), and whether it is sensitive
 * (health, money, identity documents: given its own choice on the consent screen).
 */
export interface CatalogueEntry { short: Bilingual; long: Bilingual; sensitive: boolean }

const entry = (shortEn: string, shortJa: string, longEn: string, longJa: string, sensitive = false): CatalogueEntry =>
  ({ short: { en: shortEn, ja: shortJa }, long: { en: longEn, ja: longJa }, sensitive });

/** The OpenID Connect scopes Sekisho serves itself. */
export const BUILT_IN_SCOPES: Record<string, CatalogueEntry> = {
  openid: entry('Confirm who you are', 'ご本人であることの確認',
    'The service learns that you are signed in here, with an identifier for you that only it receives.',
    'サービスは、お客さまがここでログインしていることと、そのサービス専用の識別子を受け取ります。'),
  profile: entry('See your name and basic profile', '氏名と基本プロフィールの参照',
    'Your name, nickname, birth date, gender, time zone and language, as held in your account.',
    'アカウントに登録された氏名、ニックネーム、生年月日、性別、タイムゾーン、言語。'),
  email: entry('See your e-mail address', 'メールアドレスの参照',
    'Your e-mail address and whether it was verified.', 'メールアドレスと、それが確認済みかどうか。'),
  phone: entry('See your phone number', '電話番号の参照',
    'Your phone number and whether it was verified.', '電話番号と、それが確認済みかどうか。'),
  address: entry('See your postal address', '住所の参照', 'Your postal address.', '郵便の宛先となる住所。'),
  offline_access: entry('Keep access when you are not present', 'ご利用中でないときのアクセス継続',
    'The service may keep using what you allow here after you leave it, until you withdraw it or it expires.',
    'サービスを離れた後も、お客さまが取り消すか期限が来るまで、ここで許可した内容を利用し続けます。'),
  // Grant Management (draft): a client's own access to the consents it was given.
  grant_management_query: entry('See the consents you gave this service', 'このサービスへの同意内容の参照',
    'The service may look up what you allowed it (the consent it holds), not your data itself.',
    'サービスは、お客さまが許可した内容（保持している同意）を確認できます。お客さまのデータそのものではありません。'),
  grant_management_revoke: entry('End the consents you gave this service', 'このサービスへの同意の終了',
    'The service may end a consent you gave it, for example when you close your account with it.',
    'サービスは、お客さまが与えた同意を終了できます（例：そのサービスを退会したとき）。'),
};

/** The claims a client may ask for one by one (the claims parameter). */
export const BUILT_IN_CLAIMS: Record<string, CatalogueEntry> = {
  name: entry('Your full name', '氏名', 'Your full name as held in your account.', 'アカウントに登録された氏名。'),
  given_name: entry('Your given name', '名', 'Your given name.', '名（下の名前）。'),
  family_name: entry('Your family name', '姓', 'Your family name.', '姓。'),
  middle_name: entry('Your middle name', 'ミドルネーム', 'Your middle name.', 'ミドルネーム。'),
  nickname: entry('Your nickname', 'ニックネーム', 'The nickname you gave.', '登録したニックネーム。'),
  preferred_username: entry('Your username', 'ユーザー名', 'The name you sign in with.', 'ログインに使う名前。'),
  birthdate: entry('Your date of birth', '生年月日', 'Your date of birth.', '生年月日。'),
  gender: entry('Your gender', '性別', 'Your gender as you gave it.', '登録した性別。'),
  email: entry('Your e-mail address', 'メールアドレス', 'Your e-mail address.', 'メールアドレス。'),
  email_verified: entry('Whether your e-mail address is verified', 'メールアドレスの確認状況', 'Whether Sekisho checked the e-mail address is yours.', 'メールアドレスがご本人のものと確認済みかどうか。'),
  phone_number: entry('Your phone number', '電話番号', 'Your phone number.', '電話番号。'),
  phone_number_verified: entry('Whether your phone number is verified', '電話番号の確認状況', 'Whether your phone number was checked.', '電話番号が確認済みかどうか。'),
  address: entry('Your postal address', '住所', 'Your postal address.', '住所。'),
  locale: entry('Your language', '言語', 'The language you use.', '利用する言語。'),
  zoneinfo: entry('Your time zone', 'タイムゾーン', 'Your time zone.', 'タイムゾーン。'),
  profile: entry('Your profile page', 'プロフィールページ', 'The address of your profile page.', 'プロフィールページのアドレス。'),
  website: entry('Your website', 'ウェブサイト', 'The address of your website or blog.', 'ウェブサイトやブログのアドレス。'),
  picture: entry('Your picture', 'プロフィール画像', 'The address of your profile picture.', 'プロフィール画像のアドレス。'),
  updated_at: entry('When your profile changed', 'プロフィールの更新日時', 'When your profile was last changed.', 'プロフィールを最後に更新した日時。'),
  verified_claims: entry('Your identity as verified', '本人確認済みの情報',
    'Details checked against an identity document or record, with who checked them and how.',
    '本人確認書類などで確認された情報と、誰がどの方法で確認したか。', true),
};

/** A scope or claim Sekisho has no words for: shown as it is, and counted as sensitive to be safe. */
function unknown(name: string): CatalogueEntry {
  return { short: { ja: name, en: name }, long: { ja: name, en: name }, sensitive: true };
}

/**
 * The catalogue of everything a client can ask for: the built-in scopes and claims, plus the
 * scopes each API (resource server) declares with its own labels in the configuration.
 */
export function createCatalogue(resourceServers: ReadonlyArray<{ identifier: string; scopes: readonly string[]; scopeLabels?: Record<string, CatalogueEntry> | undefined }>) {
  const apiScopes = new Map<string, CatalogueEntry>();
  const unlabelled: string[] = [];
  for (const rs of resourceServers) {
    for (const scope of rs.scopes) {
      const labels = rs.scopeLabels?.[scope];
      if (labels) apiScopes.set(scope, labels);
      else if (!BUILT_IN_SCOPES[scope]) unlabelled.push(`${rs.identifier} ${scope}`);
    }
  }
  return {
    /** API scopes configured without labels (the consent screen would show their raw names). */
    unlabelled,
    scope(name: string): CatalogueEntry { return BUILT_IN_SCOPES[name] ?? apiScopes.get(name) ?? unknown(name); },
    claim(name: string): CatalogueEntry {
      // A verified claim allowed by name (verified_claims.family_name): the claim, marked as verified.
      const verified = /^verified_claims\.(.+)$/.exec(name)?.[1];
      if (verified) {
        const base = BUILT_IN_CLAIMS[verified] ?? unknown(verified);
        return { short: { en: `${base.short.en} (verified)`, ja: `${base.short.ja}（本人確認済み）` }, long: BUILT_IN_CLAIMS.verified_claims!.long, sensitive: true };
      }
      return BUILT_IN_CLAIMS[name] ?? unknown(name);
    },
  };
}
export type Catalogue = ReturnType<typeof createCatalogue>;

export function say(text: Bilingual, lang: Lang): string {
  return text[lang];
}
