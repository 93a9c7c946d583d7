import { createLocalJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import type { Config } from '../config/schema.ts';
import { FAPI_ALGS } from '../protocol/algorithms.ts';

/** Why a login_hint_token was refused: `expired` is CIBA's expired_login_hint_token, `invalid` is invalid_request. */
export class LoginHintTokenError extends Error {
  readonly reason: 'expired' | 'invalid';
  constructor(reason: 'expired' | 'invalid', message: string) { super(message); this.reason = reason; }
}

const MAX_HINT = 254;

/**
 * Who a CIBA request is about (CIBA §7.1, digest B2). A `login_hint` is an identifier the
 * deployment chose (config ciba.loginHint): a username, a verified e-mail address, a phone number,
 * or the ref of a linked resource such as a patient number. A hint that matches several accounts
 * identifies nobody: the request is never sent to a guess. A `login_hint_token` is a JWT signed by
 * an issuer the deployment trusts, naming the person with an RFC 9493 subject identifier.
 */
export function createLoginHints(db: Kysely<Database>, config: Pick<Config, 'issuer' | 'ciba'>) {
  const issuers = new Map(config.ciba.loginHintTokenIssuers.map((i) => [i.issuer, createLocalJWKSet(i.jwks as never)]));

  async function one(ids: Array<{ id: string }>): Promise<string | undefined> {
    const distinct = new Set(ids.map((r) => r.id));
    return distinct.size === 1 ? [...distinct][0] : undefined;
  }

  async function bySource(source: string, hint: string): Promise<string | undefined> {
    switch (source) {
      case 'username':
        return one(await db.selectFrom('accounts').select('id').where('username', '=', hint).limit(2).execute());
      case 'email':
        return one(await db.selectFrom('accounts').select('id').where('email', '=', hint.toLowerCase()).where('email_verified_at', 'is not', null).limit(2).execute());
      case 'phone_number':
        // Only a verified number: anyone can type any number into a profile.
        return one(await db.selectFrom('accounts').select('id').where((eb) => eb(eb.ref('claims', '->>').key('phone_number' as never), '=', hint))
          .where(sql<string>`claims->>'phone_number_verified'`, '=', 'true').limit(2).execute());
      default: {
        const kind = source.slice('linked:'.length);
        return one(await db.selectFrom('linked_resources').select('account_id as id').where('kind', '=', kind).where('ref', '=', hint).limit(2).execute());
      }
    }
  }

  async function loginHint(hint: string): Promise<string | undefined> {
    const value = hint.trim();
    if (!value || value.length > MAX_HINT) return undefined;
    for (const source of config.ciba.loginHint) {
      const id = await bySource(source, value);
      if (id) return id;
    }
    return undefined;
  }

  return {
    loginHint,

    /** The account a verified login_hint_token names; throws LoginHintTokenError; undefined: nobody matches. */
    async loginHintToken(token: string): Promise<string | undefined> {
      let iss: string | undefined;
      try { iss = decodeJwt(token).iss; } catch { throw new LoginHintTokenError('invalid', 'login_hint_token is not a JWT'); }
      const keys = iss === undefined ? undefined : issuers.get(iss);
      if (!keys) throw new LoginHintTokenError('invalid', 'login_hint_token is not from a trusted issuer');
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, { issuer: iss, audience: config.issuer, algorithms: [...FAPI_ALGS], requiredClaims: ['exp', 'iat'], maxTokenAge: '1h', clockTolerance: 5 }));
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) throw new LoginHintTokenError('expired', 'login_hint_token has expired');
        throw new LoginHintTokenError('invalid', 'login_hint_token could not be verified');
      }
      const subject = payload.sub_id as Record<string, unknown> | undefined;
      if (typeof subject !== 'object' || subject === null) throw new LoginHintTokenError('invalid', 'login_hint_token has no sub_id');
      const text = (v: unknown) => (typeof v === 'string' && v.length > 0 && v.length <= MAX_HINT ? v : undefined);
      switch (subject.format) {
        case 'email': { const v = text(subject.email); return v && bySource('email', v); }
        case 'phone_number': { const v = text(subject.phone_number); return v && bySource('phone_number', v); }
        case 'opaque': { const v = text(subject.id); return v && loginHint(v); }
        case 'iss_sub': {
          const sub = text(subject.sub);
          if (subject.iss !== config.issuer || !sub) return undefined;
          return one(await db.selectFrom('accounts').select('id').where('id', '=', sub).execute());
        }
        default: throw new LoginHintTokenError('invalid', 'login_hint_token sub_id format is not supported');
      }
    },
  };
}
export type LoginHints = ReturnType<typeof createLoginHints>;
