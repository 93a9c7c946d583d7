import { isIP } from 'node:net';

/**
 * The mails Sekisho sends for the identity features. Each is one plain-text mail in Japanese
 * first, then English. They carry no links: a link built from request headers (Host,
 * X-Forwarded-Host) would let anyone who can send a request choose where it points.
 *
 * Values that come from a person or a request (a passkey's name, the device description) are
 * flattened to one short line and "defanged" when they look like an address, so nobody can make
 * Sekisho mail a clickable link of theirs. Codes never appear in a subject: subjects are logged
 * and kept in mail_outbox.
 */
export interface MailContent {
  subject: string;
  text: string;
}

const SERVICE = 'Sekisho';
const RULE = '――――――――――――――――――――';

function mail(subjectJa: string, subjectEn: string, ja: string[], en: string[]): MailContent {
  return {
    subject: `【${SERVICE}】${subjectJa} / ${subjectEn}`,
    text: [
      ...ja,
      '',
      RULE,
      '',
      ...en,
      '',
      '--',
      SERVICE,
      'このメールは送信専用のアドレスからお送りしています。ご返信いただいてもお答えできません。',
      'This message was sent from a send-only address; replies are not read.',
      '',
    ].join('\n'),
  };
}

/** One line, no control or direction-override characters, at most `max` characters. */
function oneLine(value: string, max = 80): string {
  // eslint-disable-next-line no-control-regex
  const flat = value.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

const LOOKS_LIKE_ADDRESS = /[a-z][a-z0-9+.-]*:\/\/|www\.|[\p{L}\p{N}-]\.[\p{L}]{2,}/iu;

/** Person- or request-supplied text, safe to print in a mail: one line, never a clickable link. */
function untrusted(value: string, max = 80): string {
  const line = oneLine(value, max) || '-';
  return LOOKS_LIKE_ADDRESS.test(line) ? line.replace(/:\/\//g, '[:]//').replace(/\./g, '[.]') : line;
}

function ipText(ip: string): string {
  return isIP(ip) ? ip : untrusted(ip, 45);
}

function jaTime(when: Date): string {
  const f = new Intl.DateTimeFormat('ja-JP', {
    timeZone: 'Asia/Tokyo', year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  });
  return `${f.format(when)}（日本時間）`;
}

function enTime(when: Date): string {
  return `${when.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const METHODS: Record<string, [ja: string, en: string]> = {
  'passkey': ['パスキー', 'passkey'],
  'password': ['パスワード', 'password'],
  'password+totp': ['パスワードと認証アプリ', 'password and authenticator app'],
  'password+recovery-code': ['パスワードとリカバリーコード', 'password and recovery code'],
  'recovery-code': ['リカバリーコード', 'recovery code'],
  'recovery': ['メールによるアカウント回復と新しいパスキー', 'account recovery by e-mail and a new passkey'],
  'email-code': ['メールの確認コード', 'e-mail code'],
};

function methodText(method: string): [ja: string, en: string] {
  const known = METHODS[method];
  if (known) return known;
  const shown = untrusted(method, 40);
  return [shown, shown];
}

/** Sign-up: the code that proves the person reads this mailbox. */
export function signupCode({ code, minutes }: { code: string; minutes: number }): MailContent {
  return mail('メールアドレスの確認コード', 'Your verification code', [
    `${SERVICE} へのご登録ありがとうございます。`,
    '登録画面で次の確認コードを入力してください。',
    '',
    `確認コード: ${code}`,
    `有効期限: ${minutes}分`,
    '',
    'このコードは他の人に教えないでください。電話やメールでこのコードをお尋ねすることはありません。',
    'お心当たりのない場合は、このメールを破棄してください。',
  ], [
    `Thank you for signing up for ${SERVICE}.`,
    'Enter this verification code on the sign-up page:',
    '',
    `Verification code: ${code}`,
    `Valid for: ${minutes} minutes`,
    '',
    'Do not share this code with anyone. We will never ask you for it by phone or e-mail.',
    'If you did not sign up, please ignore this message.',
  ]);
}

/** Account recovery: the code that lets the person back in. */
export function recoveryCode({ code, minutes }: { code: string; minutes: number }): MailContent {
  return mail('アカウント回復の確認コード', 'Your account recovery code', [
    'アカウントの回復が申請されました。',
    '回復画面で次の確認コードを入力してください。',
    '',
    `確認コード: ${code}`,
    `有効期限: ${minutes}分`,
    '',
    'このコードは他の人に教えないでください。電話やメールでこのコードをお尋ねすることはありません。',
    'お心当たりのない場合は、このメールを破棄してください。コードが入力されない限り、アカウントは変更されません。',
  ], [
    `Someone asked to recover your ${SERVICE} account.`,
    'Enter this code on the recovery page:',
    '',
    `Recovery code: ${code}`,
    `Valid for: ${minutes} minutes`,
    '',
    'Do not share this code with anyone. We will never ask you for it by phone or e-mail.',
    'If this was not you, please ignore this message. Nothing changes unless the code is entered.',
  ]);
}

/** A sign-in from a device not seen before on this account. */
export function newDeviceAlert({ when, ip, device, method }: { when: Date; ip: string; device: string; method: string }): MailContent {
  const [methodJa, methodEn] = methodText(method);
  const deviceText = untrusted(device);
  return mail('新しい端末からのサインイン', 'New sign-in to your account', [
    'お使いのアカウントに、新しい端末からサインインがありました。',
    '',
    `日時: ${jaTime(when)}`,
    `IPアドレス: ${ipText(ip)}`,
    `端末: ${deviceText}`,
    `方法: ${methodJa}`,
    '',
    'ご本人によるサインインであれば、対応は不要です。',
    `お心当たりのない場合は、すぐに ${SERVICE} にサインインし、アカウントの画面で見覚えのないパスキーを削除して、ほかのセッションからサインアウトしてください。パスワードをお使いの場合は、パスワードも変更してください。`,
  ], [
    `Your ${SERVICE} account was signed in to from a new device.`,
    '',
    `When: ${enTime(when)}`,
    `IP address: ${ipText(ip)}`,
    `Device: ${deviceText}`,
    `Method: ${methodEn}`,
    '',
    'If this was you, there is nothing to do.',
    `If it was not, sign in to ${SERVICE} now, remove any passkey you do not recognise on your account page, and sign out your other sessions. If you use a password, change it too.`,
  ]);
}

/** The account was recovered (a recovery code or e-mail code let someone back in). */
export function accountRecovered({ when }: { when: Date }): MailContent {
  return mail('アカウントが回復されました', 'Your account was recovered', [
    'お使いのアカウントの回復手続きが完了しました。',
    '',
    `日時: ${jaTime(when)}`,
    '',
    'ご本人による手続きであれば、対応は不要です。',
    'お心当たりのない場合は、第三者がアカウントを使用しているおそれがあります。すぐにサービスの管理者にご連絡ください。',
  ], [
    `Your ${SERVICE} account was recovered.`,
    '',
    `When: ${enTime(when)}`,
    '',
    'If this was you, there is nothing to do.',
    'If it was not, someone else may be using your account. Please contact the administrator of this service at once.',
  ]);
}

/** A passkey was registered on the account. */
export function passkeyAdded({ name, when }: { name: string; when: Date }): MailContent {
  const shown = untrusted(name, 60);
  return mail('パスキーが追加されました', 'A passkey was added', [
    'お使いのアカウントにパスキーが追加されました。',
    '',
    `パスキーの名前: ${shown}`,
    `日時: ${jaTime(when)}`,
    '',
    'ご本人による操作であれば、対応は不要です。',
    `お心当たりのない場合は、すぐに ${SERVICE} にサインインし、アカウントの画面でこのパスキーを削除して、ほかのセッションからサインアウトしてください。`,
  ], [
    `A passkey was added to your ${SERVICE} account.`,
    '',
    `Passkey name: ${shown}`,
    `When: ${enTime(when)}`,
    '',
    'If this was you, there is nothing to do.',
    `If it was not, sign in to ${SERVICE} now, remove this passkey on your account page, and sign out your other sessions.`,
  ]);
}

/** Sign-up attempted with an address that already has an account: no code, a pointer instead. */
export function signupExisting(): MailContent {
  return mail('アカウント作成のお申し込みについて', 'About your sign-up request', [
    `このメールアドレスで ${SERVICE} のアカウント作成のお申し込みがありましたが、このアドレスのアカウントはすでに存在します。`,
    'ご本人のお申し込みの場合は、ログイン画面からログインするか、「ログインできない場合」からアカウントを回復してください。',
    'お心当たりのない場合は、このメールを破棄してください。アカウントは変更されていません。',
  ], [
    `Someone asked to create a ${SERVICE} account with this address, but an account with this address already exists.`,
    'If it was you, sign in, or use "Can’t sign in?" on the sign-in page to recover your account.',
    'If it was not you, ignore this message. Nothing about your account has changed.',
  ]);
}

/** Changing the account's e-mail address: the code goes to the new address. */
export function emailChangeCode({ code, minutes }: { code: string; minutes: number }): MailContent {
  return mail('メールアドレス変更の確認コード', 'Confirm your new e-mail address', [
    `${SERVICE} のアカウントのメールアドレスをこのアドレスに変更する手続きが行われています。`,
    'アカウントの画面で次の確認コードを入力してください。',
    '',
    `確認コード: ${code}`,
    `有効期限: ${minutes}分`,
    '',
    'このコードは他の人に教えないでください。',
    'お心当たりのない場合は、このメールを破棄してください。コードが入力されない限り、何も変更されません。',
  ], [
    `Someone is changing the e-mail address of a ${SERVICE} account to this address.`,
    'Enter this code on the account page:',
    '',
    `Verification code: ${code}`,
    `Valid for: ${minutes} minutes`,
    '',
    'Do not share this code with anyone.',
    'If this was not you, ignore this message. Nothing changes unless the code is entered.',
  ]);
}

/** The changes to sign-in settings a person is told about (the new-passkey mail has its own). */
export type SecurityChange =
  | 'passkey-removed' | 'password-set' | 'password-removed' | 'totp-enabled' | 'totp-disabled'
  | 'recovery-codes-regenerated' | 'email-changed' | 'signed-out-everywhere' | 'passkey-suspended';

const SECURITY_CHANGES: Record<SecurityChange, [ja: string, en: string]> = {
  'passkey-removed': ['パスキーが削除されました', 'A passkey was removed'],
  'password-set': ['パスワードが設定（変更）されました', 'Your password was set or changed'],
  'password-removed': ['パスワードが削除されました（パスキーのみでログインします）', 'Your password was removed (you now sign in with passkeys only)'],
  'totp-enabled': ['認証アプリによる2段階認証が有効になりました', 'Two-step verification with an authenticator app was turned on'],
  'totp-disabled': ['認証アプリによる2段階認証が無効になりました', 'Two-step verification with an authenticator app was turned off'],
  'recovery-codes-regenerated': ['リカバリーコードが再発行されました（以前のコードは使えません）', 'New recovery codes were made (the old ones no longer work)'],
  'email-changed': ['アカウントのメールアドレスが変更されました', 'The e-mail address of your account was changed'],
  'signed-out-everywhere': ['すべての端末からログアウトしました', 'You were signed out on every device'],
  'passkey-suspended': ['パスキーの複製が使われた可能性があるため、そのパスキーを停止しました。アカウントの画面で削除し、新しいパスキーを追加してください', 'A copy of one of your passkeys may be in use, so that passkey was switched off. Remove it on your account page and add a new one'],
};

/** A change to how the person signs in, sent so that a change they did not make does not go unnoticed. */
export function securityChange({ change, when }: { change: SecurityChange; when: Date }): MailContent {
  const [ja, en] = SECURITY_CHANGES[change];
  return mail('アカウントの設定が変更されました', 'Your account settings changed', [
    'お使いのアカウントのログイン設定が変更されました。',
    '',
    `変更内容: ${ja}`,
    `日時: ${jaTime(when)}`,
    '',
    'ご本人による操作であれば、対応は不要です。',
    `お心当たりのない場合は、すぐに ${SERVICE} にログインして設定を確認し、ほかの端末からログアウトしてください。ログインできない場合は、サービスの管理者にご連絡ください。`,
  ], [
    `A sign-in setting of your ${SERVICE} account changed.`,
    '',
    `What: ${en}`,
    `When: ${enTime(when)}`,
    '',
    'If this was you, there is nothing to do.',
    `If it was not, sign in to ${SERVICE} now, check your settings and sign out your other devices. If you cannot sign in, contact the administrator of this service.`,
  ]);
}

/** The account was deleted: the last mail Sekisho sends to this address. */
export function accountDeleted({ when }: { when: Date }): MailContent {
  return mail('アカウントを削除しました', 'Your account was deleted', [
    `${SERVICE} のアカウントを削除しました。`,
    '',
    `日時: ${jaTime(when)}`,
    '',
    'ログイン情報、パスキー、ログイン履歴などの個人データは消去され、連携サービスへのアクセス許可はすべて取り消されました。',
    '法令により保存が必要な同意の記録は、個人を直接特定できない形で保存期間の間保管されます。',
    'お心当たりのない場合は、サービスの管理者にご連絡ください。',
  ], [
    `Your ${SERVICE} account was deleted.`,
    '',
    `When: ${enTime(when)}`,
    '',
    'Your sign-in details, passkeys, sign-in history and other personal data were erased, and every access you had given to other services was revoked.',
    'Records of consent that the law requires us to keep are kept, without your contact details, for their retention period.',
    'If this was not you, contact the administrator of this service.',
  ]);
}
