import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stepUpPage } from './sign-in-page.ts';

const base = { base: '/account/sign-in', self: '/account/sign-in', lead: '', csrf: 'c', username: 'hanako@example.jp', reason: 'second-factor' as const };

describe('the second step after a password', () => {
  it('asks for a code only when a code can be entered', () => {
    const code = stepUpPage('en', { ...base, oneTimeCode: true });
    assert.match(code, /<h1>Enter your verification code<\/h1>/);
    assert.match(code, /name="code"/);
  });

  it('with only a passkey to offer, says so instead of asking for a code (regression: the title asked for a code with no field)', () => {
    const passkey = stepUpPage('en', { ...base, oneTimeCode: false, passkeyOptions: { challenge: 'x' } });
    assert.doesNotMatch(passkey, /verification code/);
    assert.match(passkey, /<h1>Confirm it’s you<\/h1>/);
    assert.match(passkey, /Confirm with your passkey/);
    assert.match(stepUpPage('ja', { ...base, oneTimeCode: false, passkeyOptions: { challenge: 'x' } }), /パスキー（指紋・顔・画面ロック）で確認して/);
  });
});
