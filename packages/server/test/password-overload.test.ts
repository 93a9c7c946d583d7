/**
 * More password sign-ins than the server hashes at once (identity.passwordHashConcurrency, with no
 * waiting room) are refused at once with 503 and Retry-After, and the person is pointed to their
 * passkey, instead of queueing half-second hashes in front of every other request.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './support/server.ts';
import { createUserAgent } from './support/user-agent.ts';
import { createTestUser } from './support/users.ts';

let server: TestServer;
before(async () => { server = await startTestServer({ config: { identity: { passwordHashConcurrency: 1, passwordHashQueue: 0 } } }); });
after(() => server.close());

it('answers 503 with Retry-After to the sign-ins it cannot hash now; the others go through', async () => {
  const user = await createTestUser(server);
  const attempts = await Promise.all(Array.from({ length: 4 }, async () => {
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const form = await (await ua.request(`${server.issuer}/account/sign-in`)).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(form)![1]!;
    const res = await ua.post(`${server.issuer}/account/sign-in/login`, { csrf, username: user.username, password: user.password });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() };
  }));
  const refused = attempts.filter((a) => a.status === 503);
  const accepted = attempts.filter((a) => a.status === 303);
  assert.ok(accepted.length >= 1, `some go through: ${attempts.map((a) => a.status)}`);
  assert.ok(refused.length >= 1, `some are refused: ${attempts.map((a) => a.status)}`);
  assert.equal(accepted.length + refused.length, 4, 'nothing else (no 500, no hang)');
  for (const r of refused) {
    assert.equal(r.retryAfter, '5');
    assert.match(r.body, /Many people are signing in with a password right now/);
  }
  // Refusals are not failed attempts: they do not count towards the account's lock.
  const history = await server.app.storage.db.selectFrom('login_history').select('result').where('account_id', '=', user.id).execute();
  assert.ok(history.every((h) => h.result === 'success'), JSON.stringify(history));
});
