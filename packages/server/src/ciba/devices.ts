import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import type { DeviceTarget } from './notifiers/types.ts';

/** A phone (or any browser) bound to an account as an authentication device. */
export interface AuthenticationDevice {
  id: string;
  accountId: string;
  name: string;
  createdAt: Date;
  lastSeenAt: Date | null;
  removedAt: Date | null;
  /** Web Push is set up (the app subscribed). */
  push: boolean;
}

const MAX_DEVICES = 10;
const LAST_SEEN_PRECISION_MS = 5 * 60_000;

/** The device secret is a bearer credential: only its hash is stored and compared. */
function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

type Row = { id: string; account_id: string; name: string; created_at: Date; last_seen_at: Date | null; removed_at: Date | null; push_endpoint: string | null };
function toDevice(r: Row): AuthenticationDevice {
  return { id: r.id, accountId: r.account_id, name: r.name, createdAt: r.created_at, lastSeenAt: r.last_seen_at, removedAt: r.removed_at, push: r.push_endpoint !== null };
}
const COLUMNS = ['id', 'account_id', 'name', 'created_at', 'last_seen_at', 'removed_at', 'push_endpoint'] as const;

export class DeviceLimitError extends Error {
  constructor() { super(`at most ${MAX_DEVICES} devices per account`); }
}

/** The authentication_devices table (migration 0012). */
export function createAuthenticationDevices(db: Kysely<Database>) {
  return {
    /** Binds a new device; the returned secret goes into the device app's cookie and is never stored. */
    async bind(accountId: string, name: string): Promise<{ device: AuthenticationDevice; secret: string }> {
      const active = await db.selectFrom('authentication_devices').select((eb) => eb.fn.countAll<string>().as('n'))
        .where('account_id', '=', accountId).where('removed_at', 'is', null).executeTakeFirstOrThrow();
      if (Number(active.n) >= MAX_DEVICES) throw new DeviceLimitError();
      const secret = randomBytes(32).toString('base64url');
      const row = await db.insertInto('authentication_devices').values({
        id: `dev_${randomBytes(12).toString('base64url')}`, account_id: accountId, name: name.slice(0, 100) || 'Device', secret_hash: hashSecret(secret), last_seen_at: new Date(),
      }).returning(COLUMNS).executeTakeFirstOrThrow();
      return { device: toDevice(row), secret };
    },

    /**
     * The active device holding this secret (a removed one matches nothing). "Last used" is
     * written at most every few minutes: a device app makes many requests, and each would be a write.
     */
    async authenticate(secret: string): Promise<AuthenticationDevice | undefined> {
      if (secret.length !== 43) return undefined;
      const row = await db.selectFrom('authentication_devices').select(COLUMNS)
        .where('secret_hash', '=', hashSecret(secret)).where('removed_at', 'is', null).executeTakeFirst();
      if (!row) return undefined;
      if (!row.last_seen_at || Date.now() - row.last_seen_at.getTime() > LAST_SEEN_PRECISION_MS) {
        await db.updateTable('authentication_devices').set({ last_seen_at: new Date() }).where('id', '=', row.id).execute();
      }
      return toDevice(row);
    },

    async list(accountId: string): Promise<AuthenticationDevice[]> {
      const rows = await db.selectFrom('authentication_devices').select(COLUMNS).where('account_id', '=', accountId)
        .orderBy('removed_at', (ob) => ob.nullsFirst()).orderBy('created_at', 'desc').limit(50).execute();
      return rows.map(toDevice);
    },

    /** Removes one of the account's devices (a lost phone): it decides nothing from now on. */
    async remove(accountId: string, id: string): Promise<boolean> {
      const result = await db.updateTable('authentication_devices').set({ removed_at: new Date(), push_endpoint: null, push_p256dh: null, push_auth: null })
        .where('id', '=', id).where('account_id', '=', accountId).where('removed_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async setPushSubscription(deviceId: string, subscription: { endpoint: string; keys: { p256dh: string; auth: string } } | null): Promise<void> {
      await db.updateTable('authentication_devices').set({
        push_endpoint: subscription?.endpoint ?? null, push_p256dh: subscription?.keys.p256dh ?? null, push_auth: subscription?.keys.auth ?? null,
      }).where('id', '=', deviceId).where('removed_at', 'is', null).execute();
    },

    /** Every active device of these accounts, with what the notifiers need to reach it. */
    async targets(accountIds: string[]): Promise<DeviceTarget[]> {
      if (!accountIds.length) return [];
      const rows = await db.selectFrom('authentication_devices').select(['id', 'account_id', 'push_endpoint', 'push_p256dh', 'push_auth'])
        .where('account_id', 'in', accountIds).where('removed_at', 'is', null).execute();
      return rows.map((r) => ({
        deviceId: r.id, accountId: r.account_id,
        push: r.push_endpoint && r.push_p256dh && r.push_auth ? { endpoint: r.push_endpoint, keys: { p256dh: r.push_p256dh, auth: r.push_auth } } : undefined,
      }));
    },
  };
}
export type AuthenticationDevices = ReturnType<typeof createAuthenticationDevices>;
