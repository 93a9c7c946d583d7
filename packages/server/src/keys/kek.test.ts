import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createKek, generateKekValue } from './kek.ts';

it('encrypts with AES-GCM bound to a purpose; wrong key, purpose or tampering fail', () => {
  const kek = createKek(generateKekValue());
  const env = kek.encrypt('top secret', 'signing-key:a');
  assert.doesNotMatch(env, /top secret/);
  assert.equal(kek.decrypt(env, 'signing-key:a'), 'top secret');
  assert.throws(() => kek.decrypt(env, 'signing-key:b'), /cannot decrypt/);
  assert.throws(() => createKek(generateKekValue()).decrypt(env, 'signing-key:a'), /cannot decrypt/);
  const parts = env.split('.');
  parts[2] = Buffer.from('tampered!!').toString('base64url');
  assert.throws(() => kek.decrypt(parts.join('.'), 'signing-key:a'), /cannot decrypt/);
  assert.throws(() => createKek('too-short'), /32 bytes/);
});
