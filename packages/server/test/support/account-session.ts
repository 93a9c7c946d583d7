import assert from 'node:assert/strict';
import { createUserAgent, type UserAgent } from './user-agent.ts';
import type { TestServer } from './server.ts';
import type { TestUser } from './users.ts';

/** A browser signed in to the account pages with the person's password (a fresh sign-in). */
export async function signInToAccount(server: TestServer, user: TestUser): Promise<UserAgent> {
  const ua = createUserAgent(server.dispatcher(), server.issuer);
  const form = await (await ua.request(`${server.issuer}/account/sign-in`)).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(form)![1]!;
  const res = await ua.post(`${server.issuer}/account/sign-in/login`, { csrf, username: user.username, password: user.password });
  await res.text();
  assert.equal(res.status, 303, 'signed in');
  return ua;
}

/** A page of the account area: its status and body. */
export async function accountPage(server: TestServer, ua: UserAgent, path: string) {
  const res = await ua.request(`${server.issuer}${path}`);
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}
