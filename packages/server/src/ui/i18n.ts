/** UI strings in Japanese and English. Keys are stable; the identity and consent issues add more. */
const messages = {
  en: {
    'app.name': 'Sekisho',
    'lang.switch': '日本語',
    'login.title': 'Sign in',
    'login.lead': '{client} asks you to sign in.',
    'login.username': 'Username',
    'login.password': 'Password',
    'login.submit': 'Sign in',
    'login.cancel': 'Cancel and return to the service',
    'login.failed': 'The username or password is not correct.',
    'login.invalid': 'Enter your username and password.',
    'login.unmet': 'This service needs a stronger sign-in method than a password, which your account does not have yet.',
    'consent.title': 'Allow access?',
    'consent.lead': '{client} asks for access to your information.',
    'consent.scopes': 'It asks to:',
    'consent.claims': 'Details it asks for:',
    'consent.resources': 'APIs it will use:',
    'consent.account': 'Signed in as {username}',
    'consent.allow': 'Allow',
    'consent.deny': 'Deny',
    'consent.offline': 'Keep access while you are not using the service (until you withdraw it).',
    'scope.openid': 'Confirm who you are',
    'scope.profile': 'See your name and basic profile',
    'scope.email': 'See your e-mail address',
    'scope.phone': 'See your phone number',
    'scope.address': 'See your postal address',
    'scope.offline_access': 'Keep access when you are not present',
    'error.title': 'Something went wrong',
    'error.lead': 'The request could not be completed. Return to the service you came from and try again.',
    'error.code': 'Error code',
    'error.csrf': 'This form has expired or did not come from this page. Go back and try again.',
    'logout.title': 'Sign out',
    'logout.lead': 'Do you want to sign out of Sekisho?',
    'logout.yes': 'Sign out',
    'logout.no': 'Stay signed in',
    'logout.done': 'You are signed out.',
  },
  ja: {
    'app.name': '関所 Sekisho',
    'lang.switch': 'English',
    'login.title': 'ログイン',
    'login.lead': '{client} がログインを求めています。',
    'login.username': 'ユーザー名',
    'login.password': 'パスワード',
    'login.submit': 'ログイン',
    'login.cancel': 'キャンセルしてサービスに戻る',
    'login.failed': 'ユーザー名またはパスワードが正しくありません。',
    'login.invalid': 'ユーザー名とパスワードを入力してください。',
    'login.unmet': 'このサービスはパスワードより強い認証方法を必要としていますが、お使いのアカウントにはまだ登録されていません。',
    'consent.title': 'アクセスを許可しますか？',
    'consent.lead': '{client} があなたの情報へのアクセスを求めています。',
    'consent.scopes': '求められている内容：',
    'consent.claims': '求められている項目：',
    'consent.resources': '利用するAPI：',
    'consent.account': '{username} としてログイン中',
    'consent.allow': '許可する',
    'consent.deny': '拒否する',
    'consent.offline': 'サービスを使っていない間もアクセスを継続します（取り消すまで）。',
    'scope.openid': '本人であることの確認',
    'scope.profile': '氏名と基本プロフィールの参照',
    'scope.email': 'メールアドレスの参照',
    'scope.phone': '電話番号の参照',
    'scope.address': '住所の参照',
    'scope.offline_access': '利用していない間のアクセス継続',
    'error.title': 'エラーが発生しました',
    'error.lead': 'リクエストを完了できませんでした。元のサービスに戻って、もう一度お試しください。',
    'error.code': 'エラーコード',
    'error.csrf': 'このフォームは有効期限が切れたか、このページから送信されたものではありません。戻ってもう一度お試しください。',
    'logout.title': 'ログアウト',
    'logout.lead': 'Sekisho からログアウトしますか？',
    'logout.yes': 'ログアウトする',
    'logout.no': 'ログインしたままにする',
    'logout.done': 'ログアウトしました。',
  },
} as const;

export type Lang = keyof typeof messages;
export type MessageKey = keyof (typeof messages)['en'];

export function t(lang: Lang, key: MessageKey | string, vars: Record<string, string> = {}): string {
  const table = messages[lang] as Record<string, string>;
  const template = table[key] ?? (messages.en as Record<string, string>)[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name: string) => vars[name] ?? '');
}

export function hasMessage(key: string): boolean {
  return key in messages.en;
}

/**
 * Picks the language: an explicit choice (`?lang=`, then the `lang` cookie), then OIDC
 * `ui_locales`, then Accept-Language; English when nothing matches.
 */
export function pickLang(input: { query?: string | undefined; cookie?: string | undefined; uiLocales?: string | undefined; acceptLanguage?: string | undefined }): Lang {
  for (const explicit of [input.query, input.cookie]) if (explicit === 'ja' || explicit === 'en') return explicit;
  const candidates = [
    ...(input.uiLocales?.split(' ') ?? []),
    ...(input.acceptLanguage?.split(',').map((p) => p.split(';')[0]!.trim()) ?? []),
  ];
  for (const c of candidates) {
    const base = c.toLowerCase().split('-')[0];
    if (base === 'ja' || base === 'en') return base;
  }
  return 'en';
}
