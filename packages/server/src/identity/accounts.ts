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
  email: string | null;
  hasPassword: boolean;
  claims: AccountClaims;
  updatedAt: Date;
}

export const emailSchema = z.email().max(254).transform((e) => e.toLowerCase());

export function createAccounts(db: Kysely<Database>) {
  const toAccount = (r: { id: string; username: string; email: string | null; password_hash: string | null; claims: Record<string, unknown>; updated_at: Date }): Account =>
    ({ id: r.id, username: r.username, email: r.email, hasPassword: r.password_hash !== null, claims: r.claims as AccountClaims, updatedAt: r.updated_at });
  const columns = ['id', 'username', 'email', 'password_hash', 'claims', 'updated_at'] as const;

  return {
    async create(input: { username: string; password: string; claims?: AccountClaims }): Promise<Account> {
      const username = usernameSchema.parse(input.username);
      const password = passwordSchema.parse(input.password);
      const claims = accountClaimsSchema.parse(input.claims ?? {});
      const row = await db.insertInto('accounts').values({
        id: randomUUID(), username, password_hash: await hashPassword(password), claims: JSON.stringify(claims),
      }).returning([...columns]).executeTakeFirstOrThrow();
      return toAccount(row);
    },
    /** A passkey-first account from a verified e-mail address: no password until the person sets one. */
    async createFromVerifiedEmail(input: { email: string; name?: string }): Promise<Account> {
      const email = emailSchema.parse(input.email);
      const claims = accountClaimsSchema.parse({ email, email_verified: true, ...(input.name ? { name: input.name } : {}) });
      const row = await db.insertInto('accounts').values({
        id: randomUUID(), username: email, email, email_verified_at: new Date(), password_hash: null, claims: JSON.stringify(claims),
      }).onConflict((oc) => oc.doNothing()).returning([...columns]).executeTakeFirst();
      return row ? toAccount(row) : Promise.reject(new AccountExistsError());
    },
    /** The account a person names at sign-in: by username or by e-mail address. */
    async findByLogin(login: string): Promise<Account | undefined> {
      const value = login.trim();
      if (!value || value.length > 254) return undefined;
      const row = await db.selectFrom('accounts').select([...columns])
        .where((eb) => eb.or([eb('username', '=', value), eb('email', '=', value.toLowerCase())]))
        .orderBy(sql`username = ${value}`, 'desc').limit(1).executeTakeFirst();
      return row && toAccount(row);
    },
    async findByEmail(email: string): Promise<Account | undefined> {
      const row = await db.selectFrom('accounts').select([...columns]).where('email', '=', email.trim().toLowerCase()).executeTakeFirst();
      return row && toAccount(row);
    },
    /**
     * Checks a password for an account found by findByLogin (or none). The same scrypt work is done
     * when there is no account or no password, so timing does not tell whether one exists.
     */
    async checkPassword(account: Account | undefined, password: string): Promise<boolean> {
      const row = account ? await db.selectFrom('accounts').select('password_hash').where('id', '=', account.id).executeTakeFirst() : undefined;
      const ok = await verifyPassword(password, row?.password_hash ?? await dummyHash);
      return ok && row?.password_hash != null;
    },
    async findById(id: string): Promise<Account | undefined> {
      const row = await db.selectFrom('accounts').select([...columns]).where('id', '=', id).executeTakeFirst();
      return row && toAccount(row);
    },
    async setPassword(id: string, password: string): Promise<void> {
      const hash = await hashPassword(passwordSchema.parse(password));
      await db.updateTable('accounts').set({ password_hash: hash, updated_at: new Date() }).where('id', '=', id).execute();
    },
    /** The name the person gives themselves (OIDC `name`); empty removes it. */
    async updateName(id: string, name: string): Promise<void> {
      const value = name.trim().slice(0, 200);
      const patch = value ? sql`jsonb_build_object('name', ${value}::text)` : sql`'{}'::jsonb`;
      await db.updateTable('accounts').set({ claims: sql`(claims - 'name') || ${patch}` as never, updated_at: new Date() }).where('id', '=', id).execute();
    },
    /**
     * Sets a verified e-mail address (and the `email` claims). The sign-in name follows when it was
     * the old address. Throws AccountExistsError when another account has the address.
     */
    async changeEmail(id: string, email: string): Promise<void> {
      const address = emailSchema.parse(email);
      try {
        await db.updateTable('accounts').set({
          email: address, email_verified_at: new Date(), updated_at: new Date(),
          username: sql<string>`CASE WHEN username = email THEN ${address}::text ELSE username END`,
          claims: sql`claims || jsonb_build_object('email', ${address}::text, 'email_verified', true)` as never,
        }).where('id', '=', id).execute();
      } catch (err) {
        if (/unique|duplicate/i.test(String((err as Error).message))) throw new AccountExistsError();
        throw err;
      }
    },
    /**
     * Passwordless from now on, only while the account has a passkey: checked under a lock of the
     * account row, the same lock a passkey removal takes, so the two cannot race to no way in.
     */
    async removePassword(id: string): Promise<'removed' | 'no-passkey'> {
      return db.transaction().execute(async (trx) => {
        await trx.selectFrom('accounts').select('id').where('id', '=', id).forUpdate().execute();
        const keys = await trx.selectFrom('passkeys').select(sql<string>`count(*)`.as('n')).where('account_id', '=', id).executeTakeFirstOrThrow();
        if (Number(keys.n) === 0) return 'no-passkey';
        await trx.updateTable('accounts').set({ password_hash: null, updated_at: new Date() }).where('id', '=', id).execute();
        return 'removed';
      });
    },
    async count(): Promise<number> {
      const row = await db.selectFrom('accounts').select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}
export type Accounts = ReturnType<typeof createAccounts>;

export class AccountExistsError extends Error {
  constructor() { super('an account with this e-mail address exists'); }
}
