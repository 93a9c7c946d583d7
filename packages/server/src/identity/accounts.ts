import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../storage/schema.ts';
import { dummyHash, hashPassword, verifyPassword } from './password.ts';

/** The standard OpenID Connect claims an account can hold (OIDC Core 5.1). */
export const accountClaimsSchema = z.object({
  name: z.string().max(200).optional(),
  given_name: z.string().max(100).optional(),
  family_name: z.string().max(100).optional(),
  middle_name: z.string().max(100).optional(),
  nickname: z.string().max(100).optional(),
  preferred_username: z.string().max(100).optional(),
  profile: z.url().optional(),
  picture: z.url().optional(),
  website: z.url().optional(),
  gender: z.string().max(50).optional(),
  birthdate: z.string().regex(/^\d{4}(-\d{2}-\d{2})?$/).optional(),
  zoneinfo: z.string().max(60).optional(),
  locale: z.string().max(35).optional(),
  email: z.email().optional(),
  email_verified: z.boolean().optional(),
  phone_number: z.string().max(30).optional(),
  phone_number_verified: z.boolean().optional(),
  address: z.object({
    formatted: z.string().max(500).optional(),
    street_address: z.string().max(300).optional(),
    locality: z.string().max(100).optional(),
    region: z.string().max(100).optional(),
    postal_code: z.string().max(20).optional(),
    country: z.string().max(100).optional(),
  }).strict().optional(),
}).strict();
export type AccountClaims = z.infer<typeof accountClaimsSchema>;

export const usernameSchema = z.string().min(1).max(100).regex(/^[\p{L}\p{N}._@+-]+$/u, 'letters, digits and . _ @ + - only');
export const passwordSchema = z.string().min(8, 'at least 8 characters').max(256);

export interface Account {
  id: string;
  username: string;
  claims: AccountClaims;
  updatedAt: Date;
}

export function createAccounts(db: Kysely<Database>) {
  const toAccount = (r: { id: string; username: string; claims: Record<string, unknown>; updated_at: Date }): Account =>
    ({ id: r.id, username: r.username, claims: r.claims as AccountClaims, updatedAt: r.updated_at });

  return {
    async create(input: { username: string; password: string; claims?: AccountClaims }): Promise<Account> {
      const username = usernameSchema.parse(input.username);
      const password = passwordSchema.parse(input.password);
      const claims = accountClaimsSchema.parse(input.claims ?? {});
      const row = await db.insertInto('accounts').values({
        id: randomUUID(), username, password_hash: await hashPassword(password), claims: JSON.stringify(claims),
      }).returning(['id', 'username', 'claims', 'updated_at']).executeTakeFirstOrThrow();
      return toAccount(row);
    },
    async findById(id: string): Promise<Account | undefined> {
      const row = await db.selectFrom('accounts').select(['id', 'username', 'claims', 'updated_at']).where('id', '=', id).executeTakeFirst();
      return row && toAccount(row);
    },
    /** Checks a username and password. The same work is done whether or not the account exists. */
    async authenticate(username: string, password: string): Promise<Account | undefined> {
      const row = await db.selectFrom('accounts').selectAll().where('username', '=', username).executeTakeFirst();
      const ok = await verifyPassword(password, row?.password_hash ?? await dummyHash);
      return row && ok ? toAccount(row) : undefined;
    },
    async count(): Promise<number> {
      const row = await db.selectFrom('accounts').select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}
export type Accounts = ReturnType<typeof createAccounts>;
