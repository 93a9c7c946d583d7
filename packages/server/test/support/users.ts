import { randomBytes } from 'node:crypto';
import type { TestServer } from './server.ts';

export interface TestUser { id: string; username: string; password: string }

/** Creates an account with profile and e-mail claims through the same service the CLI uses. */
export async function createTestUser(server: TestServer, claims: Record<string, unknown> = {}): Promise<TestUser> {
  const username = `user-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('base64url');
  const account = await server.app.accounts.create({
    username, password,
    claims: { name: 'Hanako Yamada', given_name: 'Hanako', family_name: 'Yamada', email: `${username}@example.jp`, email_verified: true, ...claims },
  });
  return { id: account.id, username, password };
}
