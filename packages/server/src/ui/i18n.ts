import { accountMessages } from './messages/account.ts';
import { noticeMessages } from './messages/notice.ts';
import { consentMessages } from './messages/consent.ts';
import { deviceMessages } from './messages/device.ts';

/** UI strings in Japanese and English. Keys are stable; the identity and consent issues add more. */
const base = {
  en: {
    'app.name': 'Sekisho',
    'lang.switch': '日本語',
    'login.title': 'Sign in',
    'login.lead': '{client} asks you to sign in.',
    'login.username': 'Username or e-mail address',
    'login.locked': 'Too many attempts. Try again in {minutes} minutes, or sign in with a passkey.',
    'login.busy': 'Many people are signing in with a password right now. Try again in a few seconds, or sign in with a passkey.',
    'passkey.signin': 'Sign in with a passkey',
    'passkey.confirm': 'Confirm with your passkey',
    'passkey.failed': 'The passkey could not be used. Try again, or use another way to sign in.',
    'passkey.noscript': 'Passkeys need JavaScript. You can still sign in with your password.',
    'passkey.error.challenge': 'This sign-in request has expired. Try again.',
    'passkey.error.unknown-credential': 'This passkey is not registered with Sekisho. It may have been removed, or it belongs to another site.',
    'passkey.error.wrong-account': 'This passkey belongs to a different account.',
    'passkey.error.counter': 'This passkey could not be trusted (its counter went backwards, which can mean it was copied). Use another passkey or recover your account.',
    'passkey.error.invalid': 'The passkey response could not be verified. Try again.',
    'passkey.error.limit': 'This account has the maximum number of passkeys. Remove one first.',
    'passkey.error.suspended': 'This passkey was switched off because a copy of it was detected. Use another passkey, or recover your account.',
    'signup.link': 'Create an account',
    'signup.title': 'Create your account',
    'signup.lead': 'Enter your e-mail address. We will send you a code to confirm it, then you create a passkey: no password needed.',
    'signup.email': 'E-mail address',
    'signup.name': 'Your name (optional)',
    'signup.send': 'Send the code',
    'signup.email.invalid': 'Enter a valid e-mail address.',
    'signup.mail-failed': 'We could not send the e-mail just now. Please try again in a few minutes.',
    'signup.too-many': 'Too many codes were sent to this address. Wait an hour and try again.',
    'signup.code.title': 'Check your e-mail',
    'signup.code.lead': 'If {email} can be used for a new account, we sent a 6-digit code to it. Enter it below (it is valid for 10 minutes).',
    'signup.code': 'Code from the e-mail',
    'signup.verify': 'Continue',
    'signup.code.wrong': 'That code is not correct. Check the e-mail and try again.',
    'signup.code.expired': 'This code has expired or was tried too many times. Start again to get a new one.',
    'signup.restart': 'Use another address or send a new code',
    'signup.exists': 'An account with this address already exists. Sign in instead.',
    'signup.passkey.title': 'Create your passkey',
    'signup.passkey.lead': 'A passkey lets you sign in with your fingerprint, face or screen lock instead of a password. It stays on your device and cannot be phished.',
    'signup.passkey.create': 'Create a passkey',
    'signup.passkey.help': 'Your device will ask you to confirm with your fingerprint, face, PIN or security key.',
    'signup.done.title': 'Your account is ready',
    'signup.done.lead': 'The account for {email} is ready and you are signed in. You can close this page or return to the service.',
    'signup.disabled': 'This service does not accept new accounts here. Ask the service you came from how to get one.',
    'stepup.title': 'Confirm it’s you',
    'stepup.lead': '{client} needs a stronger confirmation that it is you.',
    'mfa.title': 'Enter your verification code',
    'mfa.lead': 'Open your authenticator app and enter the 6-digit code for Sekisho.',
    'passkey.second-factor.lead': 'Confirm with your passkey (fingerprint, face or screen lock) to finish signing in.',
    'mfa.code': 'Verification code',
    'mfa.recovery-hint': 'Lost your phone? Enter one of your recovery codes instead.',
    'mfa.submit': 'Verify',
    'mfa.failed': 'That code is not correct. Check your app and try again.',
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
    'consent.verified': 'Verified identity information it asks for:',
    'consent.verified.lead': 'These come from the identity check recorded for your account (who checked your identity documents, how and when), not only from what you typed in.',
    'consent.purpose': 'Why: {purpose}',
    'consent.sensitive': 'Sensitive',
    'consent.resources': 'APIs it will use:',
    'consent.account': 'Signed in as {username}',
    'consent.allow': 'Allow',
    'consent.deny': 'Deny',
    'consent.offline': 'Keep access while you are not using the service (until you withdraw it).',
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
    'login.username': 'ユーザー名またはメールアドレス',
    'login.locked': '試行回数が多すぎます。{minutes} 分後にもう一度お試しいただくか、パスキーでログインしてください。',
    'login.busy': 'ただいまパスワードでのログインが集中しています。数秒後にもう一度お試しいただくか、パスキーでログインしてください。',
    'passkey.signin': 'パスキーでログイン',
    'passkey.confirm': 'パスキーで確認する',
    'passkey.failed': 'パスキーを使用できませんでした。もう一度お試しいただくか、別の方法でログインしてください。',
    'passkey.noscript': 'パスキーには JavaScript が必要です。パスワードでもログインできます。',
    'passkey.error.challenge': 'このログイン要求は有効期限が切れました。もう一度お試しください。',
    'passkey.error.unknown-credential': 'このパスキーは Sekisho に登録されていません。削除されたか、別のサイトのパスキーです。',
    'passkey.error.wrong-account': 'このパスキーは別のアカウントのものです。',
    'passkey.error.counter': 'このパスキーは信頼できません（カウンターが戻っており、複製された可能性があります）。別のパスキーを使うか、アカウントを回復してください。',
    'passkey.error.invalid': 'パスキーの応答を検証できませんでした。もう一度お試しください。',
    'passkey.error.limit': 'このアカウントのパスキーは上限に達しています。先に不要なものを削除してください。',
    'passkey.error.suspended': 'このパスキーは複製が検出されたため停止しています。別のパスキーを使うか、アカウントを回復してください。',
    'signup.link': 'アカウントを作成',
    'signup.title': 'アカウントの作成',
    'signup.lead': 'メールアドレスを入力してください。確認コードをお送りします。その後パスキーを作成します（パスワードは不要です）。',
    'signup.email': 'メールアドレス',
    'signup.name': 'お名前（任意）',
    'signup.send': '確認コードを送信',
    'signup.email.invalid': '正しいメールアドレスを入力してください。',
    'signup.mail-failed': 'ただいまメールを送信できませんでした。数分後にもう一度お試しください。',
    'signup.too-many': 'このアドレスへの送信回数が上限に達しました。1 時間ほどしてからもう一度お試しください。',
    'signup.code.title': 'メールをご確認ください',
    'signup.code.lead': '{email} で新しいアカウントを作成できる場合は、6 桁の確認コードを送信しました。下に入力してください（有効期限 10 分）。',
    'signup.code': 'メールに記載された確認コード',
    'signup.verify': '次へ',
    'signup.code.wrong': 'コードが正しくありません。メールを確認して、もう一度お試しください。',
    'signup.code.expired': 'このコードは有効期限切れか、試行回数の上限に達しました。最初からやり直してください。',
    'signup.restart': '別のアドレスを使う・コードを再送する',
    'signup.exists': 'このアドレスのアカウントはすでに存在します。ログインしてください。',
    'signup.passkey.title': 'パスキーの作成',
    'signup.passkey.lead': 'パスキーを使うと、パスワードの代わりに指紋・顔認証・画面ロックでログインできます。パスキーは端末に保存され、フィッシングで盗まれることはありません。',
    'signup.passkey.create': 'パスキーを作成',
    'signup.passkey.help': '端末が指紋・顔・PIN またはセキュリティキーでの確認を求めます。',
    'signup.done.title': 'アカウントの準備ができました',
    'signup.done.lead': '{email} のアカウントを作成し、ログインしました。このページを閉じるか、元のサービスにお戻りください。',
    'signup.disabled': 'ここでは新しいアカウントを受け付けていません。ご利用のサービスにお問い合わせください。',
    'stepup.title': 'ご本人確認',
    'stepup.lead': '{client} がより確実なご本人確認を求めています。',
    'mfa.title': '確認コードの入力',
    'mfa.lead': '認証アプリを開き、Sekisho の 6 桁のコードを入力してください。',
    'passkey.second-factor.lead': 'パスキー（指紋・顔・画面ロック）で確認して、ログインを完了してください。',
    'mfa.code': '確認コード',
    'mfa.recovery-hint': 'スマートフォンをなくした場合は、リカバリーコードを入力してください。',
    'mfa.submit': '確認する',
    'mfa.failed': 'コードが正しくありません。アプリを確認して、もう一度お試しください。',
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
    'consent.verified': '求められている本人確認済みの情報：',
    'consent.verified.lead': 'これらは、お客さまのアカウントに記録された本人確認（誰が、どの方法で、いつ本人確認書類を確認したか）に基づく情報です。',
    'consent.purpose': '利用目的: {purpose}',
    'consent.sensitive': '要配慮',
    'consent.resources': '利用するAPI：',
    'consent.account': '{username} としてログイン中',
    'consent.allow': '許可する',
    'consent.deny': '拒否する',
    'consent.offline': 'サービスを使っていない間もアクセスを継続します（取り消すまで）。',
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

const messages = {
  en: { ...base.en, ...accountMessages.en, ...noticeMessages.en, ...consentMessages.en, ...deviceMessages.en },
  ja: { ...base.ja, ...accountMessages.ja, ...noticeMessages.ja, ...consentMessages.ja, ...deviceMessages.ja },
} as const;

export type Lang = keyof typeof messages;
export type MessageKey = keyof (typeof messages)['en'];

export function t(lang: Lang, key: MessageKey | string, vars: Record<string, string> = {}): string {
  const table = messages[lang] as Record<string, string>;
  const template = table[key] ?? (messages.en as Record<string, string>)[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name: string) => vars[name] ?? '');
}

/** Keys one language has and the other lacks (the test keeps this empty). */
export function untranslated(): string[] {
  const en = Object.keys(messages.en);
  const ja = Object.keys(messages.ja);
  return [...en.filter((k) => !ja.includes(k)).map((k) => `ja: ${k}`), ...ja.filter((k) => !en.includes(k)).map((k) => `en: ${k}`)];
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
