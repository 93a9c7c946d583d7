import { sql, type Kysely } from 'kysely';
import {
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse,
  type AuthenticationResponseJSON, type AuthenticatorTransport, type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON, type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Database } from '../storage/schema.ts';
import { passkeyAssurance, type Achieved } from './assurance.ts';

/** How long a person has to answer the authenticator prompt. */
const CHALLENGE_SECONDS = 300;
const MAX_PASSKEYS = 20;

export interface Passkey {
  id: string;
  accountId: string;
  name: string;
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
  /** Switched off because a copy of it was detected; it signs nobody in. */
  suspendedAt: Date | null;
}

/** Why a passkey ceremony failed; also the i18n key suffix and the audit detail. */
export type PasskeyFailure =
  | 'challenge' // unknown, expired, reused or belonging to another page
  | 'unknown-credential' // no such passkey here (deleted, or made for another site)
  | 'wrong-account' // step-up with another person's passkey
  | 'counter' // signature counter went backwards: a cloned authenticator
  | 'suspended' // switched off after a clone was detected
  | 'invalid' // origin, RP ID, signature or flags did not verify
  | 'limit'; // too many passkeys on the account

export class PasskeyError extends Error {
  readonly reason: PasskeyFailure;
  /** The passkey's owner, set only when the signature verified (a cloned authenticator): it is their event. */
  readonly accountId: string | undefined;
  constructor(reason: PasskeyFailure, message?: string, accountId?: string) {
    super(message ?? reason);
    this.reason = reason;
    this.accountId = accountId;
  }
}

export interface RelyingParty {
  /** The WebAuthn RP ID: the issuer's host name. */
  id: string;
  name: string;
  /** Origins a ceremony may come from: the issuer's origin. */
  origins: string[];
}

/**
 * Passkeys (WebAuthn) with @simplewebauthn/server. Every ceremony's challenge is stored with the
 * page it was issued for (`binding`) and consumed by one UPDATE, so it works once, only there,
 * only within CHALLENGE_SECONDS. User verification is always required.
 */
export function createPasskeys(db: Kysely<Database>, rp: RelyingParty) {
  async function storeChallenge(challenge: string, purpose: 'registration' | 'authentication', binding: string, accountId?: string) {
    await db.insertInto('webauthn_challenges').values({
      id: challenge, purpose, binding, account_id: accountId ?? null, expires_at: new Date(Date.now() + CHALLENGE_SECONDS * 1000),
    }).execute();
  }

  /** Consumes a challenge atomically; true only for the first caller, on the right page, in time. */
  function consumer(purpose: 'registration' | 'authentication', binding: string, accountId?: string) {
    return async (challenge: string): Promise<boolean> => {
      if (challenge.length > 200) return false;
      let q = db.updateTable('webauthn_challenges').set({ consumed_at: new Date() })
        .where('id', '=', challenge).where('purpose', '=', purpose).where('binding', '=', binding)
        .where('consumed_at', 'is', null).where('expires_at', '>', new Date());
      q = accountId ? q.where('account_id', '=', accountId) : q;
      const row = await q.returning('id').executeTakeFirst();
      return row !== undefined;
    };
  }

  const descriptors = (rows: Array<{ id: string; transports: unknown }>) =>
    rows.map((p) => ({ id: p.id, transports: p.transports as AuthenticatorTransport[] }));

  const toPasskey = (r: { id: string; account_id: string; name: string; device_type: 'singleDevice' | 'multiDevice'; backed_up: boolean; created_at: Date; last_used_at: Date | null; suspended_at: Date | null }): Passkey => ({
    id: r.id, accountId: r.account_id, name: r.name, deviceType: r.device_type, backedUp: r.backed_up, createdAt: r.created_at, lastUsedAt: r.last_used_at, suspendedAt: r.suspended_at,
  });

  return {
    rp,

    async registrationOptions(input: { accountId: string; userName: string; displayName: string; binding: string }): Promise<PublicKeyCredentialCreationOptionsJSON> {
      const existing = await db.selectFrom('passkeys').select(['id', 'transports']).where('account_id', '=', input.accountId).execute();
      const options = await generateRegistrationOptions({
        rpName: rp.name, rpID: rp.id,
        userName: input.userName, userDisplayName: input.displayName,
        // The user handle is the account id: random, and no personal data.
        userID: new TextEncoder().encode(input.accountId),
        attestationType: 'none',
        excludeCredentials: descriptors(existing),
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      });
      await storeChallenge(options.challenge, 'registration', input.binding, input.accountId);
      return options;
    },

    /** Verifies a registration and stores the passkey. */
    async register(input: { accountId: string; binding: string; response: RegistrationResponseJSON; name: string }): Promise<Passkey> {
      const count = await db.selectFrom('passkeys').select(sql<string>`count(*)`.as('n')).where('account_id', '=', input.accountId).executeTakeFirstOrThrow();
      if (Number(count.n) >= MAX_PASSKEYS) throw new PasskeyError('limit');
      let result;
      try {
        result = await verifyRegistrationResponse({
          response: input.response,
          expectedChallenge: consumer('registration', input.binding, input.accountId),
          expectedOrigin: rp.origins, expectedRPID: rp.id, requireUserVerification: true,
        });
      } catch (err) {
        throw new PasskeyError(/challenge/i.test(String((err as Error).message)) ? 'challenge' : 'invalid', (err as Error).message);
      }
      if (!result.verified) throw new PasskeyError('invalid');
      const info = result.registrationInfo;
      const row = await db.insertInto('passkeys').values({
        id: info.credential.id,
        account_id: input.accountId,
        name: input.name.trim().slice(0, 60) || 'Passkey',
        public_key: Buffer.from(info.credential.publicKey).toString('base64url'),
        sign_count: info.credential.counter,
        transports: JSON.stringify(info.credential.transports ?? []),
        device_type: info.credentialDeviceType,
        backed_up: info.credentialBackedUp,
        aaguid: info.aaguid,
      }).onConflict((oc) => oc.column('id').doNothing()).returningAll().executeTakeFirst();
      if (!row) throw new PasskeyError('invalid', 'this passkey is already registered');
      return toPasskey(row);
    },

    /**
     * Options for signing in. Without an account: discoverable credentials (the browser offers
     * every passkey it has for this site, also through autofill). With one (step-up): only that
     * person's passkeys.
     */
    async authenticationOptions(input: { binding: string; accountId?: string }): Promise<PublicKeyCredentialRequestOptionsJSON> {
      const allow = input.accountId
        ? await db.selectFrom('passkeys').select(['id', 'transports']).where('account_id', '=', input.accountId).execute()
        : [];
      const options = await generateAuthenticationOptions({
        rpID: rp.id, userVerification: 'required',
        allowCredentials: descriptors(allow),
      });
      await storeChallenge(options.challenge, 'authentication', input.binding, input.accountId);
      return options;
    },

    /** Verifies a sign-in; returns the account and what the passkey proves. */
    async authenticate(input: { binding: string; response: AuthenticationResponseJSON; accountId?: string }): Promise<{ accountId: string; passkey: Passkey; assurance: Achieved }> {
      const row = typeof input.response?.id === 'string' && input.response.id.length <= 1400
        ? await db.selectFrom('passkeys').selectAll().where('id', '=', input.response.id).executeTakeFirst()
        : undefined;
      if (!row) throw new PasskeyError('unknown-credential');
      if (input.accountId && row.account_id !== input.accountId) throw new PasskeyError('wrong-account');
      if (row.suspended_at) throw new PasskeyError('suspended');
      const userHandle: unknown = input.response.response?.userHandle;
      if (userHandle !== undefined && typeof userHandle !== 'string') throw new PasskeyError('invalid');
      if (userHandle && Buffer.from(userHandle, 'base64url').toString() !== row.account_id) throw new PasskeyError('wrong-account');
      const verify = (counter: number, expectedChallenge: (challenge: string) => Promise<boolean>) => verifyAuthenticationResponse({
        response: input.response, expectedChallenge,
        expectedOrigin: rp.origins, expectedRPID: rp.id, requireUserVerification: true,
        credential: {
          id: row.id, publicKey: new Uint8Array(Buffer.from(row.public_key, 'base64url')),
          counter, transports: row.transports as AuthenticatorTransport[],
        },
      });
      let result;
      try {
        result = await verify(Number(row.sign_count), consumer('authentication', input.binding, input.accountId));
      } catch (err) {
        const message = String((err as Error).message);
        if (/counter/i.test(message)) {
          // The library compares counters before it checks the signature. Only a signed assertion
          // is the owner's passkey, copied; anything else is just invalid (and names nobody, so a
          // credential id alone cannot fill a person's history with false alarms). The challenge
          // was already consumed and checked by the first pass.
          const signed = await verify(0, async () => true).then((r) => r.verified, () => false);
          if (!signed) throw new PasskeyError('invalid', message);
          // Two authenticators hold this key: neither is trusted any more until the owner acts.
          await db.updateTable('passkeys').set({ suspended_at: new Date() }).where('id', '=', row.id).where('suspended_at', 'is', null).execute();
          throw new PasskeyError('counter', message, row.account_id);
        }
        throw new PasskeyError(/challenge/i.test(message) ? 'challenge' : 'invalid', message);
      }
      if (!result.verified) throw new PasskeyError('invalid');
      const info = result.authenticationInfo;
      // Counters only move forward; a concurrent sign-in with a higher counter wins.
      await db.updateTable('passkeys').set({ sign_count: info.newCounter, last_used_at: new Date(), backed_up: info.credentialBackedUp })
        .where('id', '=', row.id).where(sql<boolean>`sign_count <= ${info.newCounter}`).execute();
      return {
        accountId: row.account_id,
        passkey: toPasskey({ ...row, backed_up: info.credentialBackedUp }),
        assurance: passkeyAssurance({ deviceType: info.credentialDeviceType, backedUp: info.credentialBackedUp, userVerified: info.userVerified }),
      };
    },

    async list(accountId: string): Promise<Passkey[]> {
      const rows = await db.selectFrom('passkeys').selectAll().where('account_id', '=', accountId).orderBy('created_at').execute();
      return rows.map(toPasskey);
    },

    async count(accountId: string): Promise<number> {
      const r = await db.selectFrom('passkeys').select(sql<string>`count(*)`.as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow();
      return Number(r.n);
    },

    async rename(accountId: string, id: string, name: string): Promise<boolean> {
      const r = await db.updateTable('passkeys').set({ name: name.trim().slice(0, 60) || 'Passkey' })
        .where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },

    /**
     * Removes a passkey unless it is the account's last way to sign in: its password counts only
     * where `passwordsCount` (the deployment allows passwords). The account row is locked and the
     * password read under that lock, so neither two removals nor a removal racing a password
     * removal can leave the account with no way in.
     */
    async remove(accountId: string, id: string, passwordsCount: boolean): Promise<'removed' | 'last' | 'not-found'> {
      return db.transaction().execute(async (trx) => {
        const account = await trx.selectFrom('accounts').select('password_hash').where('id', '=', accountId).forUpdate().executeTakeFirst();
        const mine = await trx.selectFrom('passkeys').select('id').where('account_id', '=', accountId).execute();
        if (!account || !mine.some((p) => p.id === id)) return 'not-found';
        if (mine.length === 1 && !(passwordsCount && account.password_hash !== null)) return 'last';
        await trx.deleteFrom('passkeys').where('account_id', '=', accountId).where('id', '=', id).execute();
        return 'removed';
      });
    },

    async purgeExpiredChallenges(): Promise<number> {
      const r = await db.deleteFrom('webauthn_challenges').where('expires_at', '<', new Date()).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}
export type Passkeys = ReturnType<typeof createPasskeys>;

export function relyingPartyFor(issuer: string, name = 'Sekisho'): RelyingParty {
  const url = new URL(issuer);
  return { id: url.hostname, name, origins: [url.origin] };
}

