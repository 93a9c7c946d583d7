import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { configurePasswordHashing, hashPassword, PasswordHashingBusyError, passwordHashingBusy, verifyPassword } from './password.ts';

const CHEAP = { N: 2 ** 10, r: 8, p: 1 };
after(() => configurePasswordHashing({ concurrency: Math.max(1, availableParallelism() - 1) }));

it('hashes and verifies (scrypt, NFKC-normalised)', async () => {
  const stored = await hashPassword('ｐａｓｓ word', CHEAP);
  assert.match(stored, /^scrypt\$1024\$8\$1\$/);
  assert.equal(await verifyPassword('pass word', stored), true, 'full-width letters are the same password');
  assert.equal(await verifyPassword('pass-word', stored), false);
});

it('runs at most `concurrency` hashes, queues `queue` more, and refuses the rest at once', async () => {
  configurePasswordHashing({ concurrency: 1, queue: 1 });
  assert.equal(passwordHashingBusy(), false);
  const first = hashPassword('one', CHEAP);
  const second = hashPassword('two', CHEAP);
  assert.equal(passwordHashingBusy(), true, 'one running, one waiting: full');
  await assert.rejects(hashPassword('three', CHEAP), PasswordHashingBusyError);
  assert.match(await first, /^scrypt\$/);
  assert.match(await second, /^scrypt\$/, 'the waiting one runs when the first is done');
  assert.equal(passwordHashingBusy(), false, 'all slots given back');
  // With room in the queue, many at once all finish.
  configurePasswordHashing({ concurrency: 2 });
  const many = await Promise.all(Array.from({ length: 10 }, (_, i) => hashPassword(`p${i}`, CHEAP)));
  assert.equal(many.length, 10);
  assert.equal(passwordHashingBusy(), false);
});
