import { timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from '../shared/logger.ts';
import { createDpopVerifier, DPOP_ALGS, type DpopNonces } from './dpop-proof.ts';

/**
 * The Grant Management API (OpenID Grant Management for OAuth 2.0, draft -03/-04, § "Grant
 * Management API"): `GET /grants/{grant_id}` describes a grant, `DELETE /grants/{grant_id}`
 * revokes it. The caller is the client the grant belongs to, with an access token we issued to it
 * carrying `grant_management_query` or `grant_management_revoke`. Under FAPI 2.0 that token is
 * sender-constrained: DPoP (RFC 9449 §7) or mTLS (RFC 8705 §3); a plain bearer token is refused.
 *
 * Order of checks: path → method → Authorization → token → sender constraint → scope → grant →
 * owner. Statuses: 404 malformed or unknown grant id, 405 other methods, 401 no/invalid token or
 * proof, 403 missing scope or another client's grant, 200/204 success, 500 a dependency failed.
 */

export interface PresentedToken {
  clientId: string;
  scopes: ReadonlySet<string>;
  /** cnf.jkt: the token is DPoP-bound to this key. */
  jkt?: string;
  /** cnf["x5t#S256"]: the token is bound to this client certificate. */
  x5tS256?: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

export interface GrantManagementDeps {
  /** The expected DPoP htu is `${issuer}/grants/${id}`. */
  issuer: string;
  /** The base URL of the mTLS endpoint aliases, when they differ from the issuer. */
  mtlsBase?: string;
  /** The access token's details; undefined when unknown, expired or revoked. */
  findAccessToken(value: string): Promise<PresentedToken | undefined>;
  /** SHA-256 thumbprint (base64url) of the client certificate of this request, if one was presented. */
  certificateThumbprint(ctx: Context): string | undefined;
  dpop: { unique(jti: string, expiresAtEpochSeconds: number): Promise<boolean>; nonces: DpopNonces };
  grants: {
    /** The grant and its body in the draft's shape; undefined when unknown, expired or revoked. */
    read(grantId: string): Promise<{ clientId: string; body: Record<string, unknown> } | undefined>;
    /** Revokes the grant and its tokens; false when there was no such active grant of this client. */
    revoke(grantId: string, clientId: string): Promise<boolean>;
  };
  logger?: Logger;
  /** Seconds since the epoch; injectable for tests. */
  now?: () => number;
}

export const GRANT_MANAGEMENT_SCOPES = { GET: 'grant_management_query', DELETE: 'grant_management_revoke' } as const;

const PREFIX = '/grants/';
const GRANT_ID = /^[A-Za-z0-9_-]{1,100}$/;
/** RFC 7235 §2.1 token68, for the credentials after the scheme. */
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*$/;
/** Longer than any token we issue (opaque tokens are 43 characters; JWT access tokens ~1-2 KB). */
const MAX_TOKEN_LENGTH = 4096;

type Scheme = 'DPoP' | 'Bearer';
type Method = keyof typeof GRANT_MANAGEMENT_SCOPES;

/** A refusal: status, RFC error code, safe description, and the challenge(s) to send on 401/403. */
class ApiError {
  readonly status: number;
  readonly error: string;
  readonly description: string;
  readonly challenges: readonly Scheme[];
  readonly scope: string | undefined;
  readonly nonce: string | undefined;
  /** RFC 6750 §3.1: no credentials at all, so the challenges carry no error code. */
  readonly anonymous: boolean;
  constructor(status: number, error: string, description: string, extra: { challenges?: readonly Scheme[]; scope?: string; nonce?: string; anonymous?: boolean } = {}) {
    this.status = status;
    this.error = error;
    this.description = description;
    this.challenges = extra.challenges ?? [];
    this.scope = extra.scope;
    this.nonce = extra.nonce;
    this.anonymous = extra.anonymous ?? false;
  }
}

export function grantManagementRoutes(deps: GrantManagementDeps) {
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  const dpop = createDpopVerifier({ unique: deps.dpop.unique, nonces: deps.dpop.nonces, now });
  const bases = [deps.issuer, deps.mtlsBase].filter((b): b is string => typeof b === 'string').map((b) => b.replace(/\/$/, ''));

  return async (ctx: Context, next: Next) => {
    if (!ctx.path.startsWith(PREFIX)) return next();
    ctx.set('Cache-Control', 'no-store');
    try {
      await handle(ctx);
    } catch (err) {
      if (err instanceof ApiError) return respondError(ctx, err);
      // Only the error's kind and where it came from: a message may quote a token or a query value.
      deps.logger?.error('grant management request failed', { method: ctx.method, failure: describeFailure(err) });
      respondError(ctx, new ApiError(500, 'server_error', 'the request could not be completed'));
    }
  };

  async function handle(ctx: Context): Promise<void> {
    const grantId = ctx.path.slice(PREFIX.length);
    if (!GRANT_ID.test(grantId)) {
      throw grantId.includes('/') ? new ApiError(404, 'not_found', 'no such resource') : unknownGrant();
    }
    if (ctx.method !== 'GET' && ctx.method !== 'DELETE') {
      ctx.set('Allow', 'GET, DELETE');
      throw new ApiError(405, 'invalid_request', 'method not allowed; use GET or DELETE');
    }
    const method: Method = ctx.method;

    const credentials = readAuthorization(ctx);
    const token = credentials.token.length > MAX_TOKEN_LENGTH ? undefined : await deps.findAccessToken(credentials.token);
    if (!token || !(token.expiresAt > now())) throw invalidToken(credentials.scheme, 'the access token is invalid, expired or revoked');
    const nonce = await checkSenderConstraint(ctx, credentials, token, grantId);
    if (nonce) ctx.set('DPoP-Nonce', nonce);

    const scope = GRANT_MANAGEMENT_SCOPES[method];
    if (!token.scopes.has(scope)) {
      throw new ApiError(403, 'insufficient_scope', `the access token lacks the ${scope} scope`, { challenges: [credentials.scheme], scope });
    }

    const grant = await deps.grants.read(grantId);
    if (!grant) throw unknownGrant();
    if (grant.clientId !== token.clientId) throw new ApiError(403, 'invalid_grant_id', 'the grant belongs to another client');

    if (method === 'GET') {
      ctx.status = 200;
      ctx.body = grant.body;
      return;
    }
    if (!(await deps.grants.revoke(grantId, token.clientId))) throw unknownGrant();
    ctx.status = 204;
    ctx.body = null;
  }

  /** FAPI 2.0 SP 5.3.4 / R2: the token must be used by its holder; returns a DPoP-Nonce to send, if any. */
  async function checkSenderConstraint(ctx: Context, credentials: { scheme: Scheme; token: string }, token: PresentedToken, grantId: string): Promise<string | undefined> {
    const { scheme } = credentials;
    if (!token.jkt && !token.x5tS256) throw invalidToken(scheme, 'the access token is not sender-constrained');
    if (scheme === 'Bearer' && token.jkt) throw invalidToken(scheme, 'a DPoP-bound access token must be presented with the DPoP scheme');
    if (scheme === 'DPoP' && !token.jkt) throw invalidToken(scheme, 'the access token is not DPoP-bound');
    if (token.x5tS256) {
      const presented = deps.certificateThumbprint(ctx);
      if (!presented || !sameValue(presented, token.x5tS256)) throw invalidToken(scheme, 'the access token is bound to a client certificate that was not presented');
    }
    if (scheme !== 'DPoP' || !token.jkt) return undefined;
    const result = await dpop.verify({
      proof: ctx.req.headersDistinct.dpop,
      method: ctx.method,
      urls: bases.map((base) => `${base}${PREFIX}${grantId}`),
      accessToken: credentials.token,
      jkt: token.jkt,
    });
    if (!result.ok) {
      const { error, description, nonce } = result.error;
      throw new ApiError(result.error.status, error, description, { challenges: ['DPoP'], ...(nonce ? { nonce } : {}) });
    }
    return result.nonce;
  }
}

/**
 * RFC 6750 §2.1 / RFC 9449 §7.1: `Authorization: <DPoP|Bearer> <token68>`, scheme case-insensitive
 * (R1), exactly one header. Anything else is refused with both challenges, so the client learns
 * what is accepted.
 */
function readAuthorization(ctx: Context): { scheme: Scheme; token: string } {
  const values = ctx.req.headersDistinct.authorization ?? [];
  if (values.length === 0) throw noCredentials();
  if (values.length > 1) throw new ApiError(401, 'invalid_request', 'exactly one Authorization header is allowed', { challenges: ['DPoP', 'Bearer'] });
  const value = values[0] ?? '';
  const space = value.indexOf(' ');
  const name = (space === -1 ? value : value.slice(0, space)).toLowerCase();
  const scheme: Scheme | undefined = name === 'dpop' ? 'DPoP' : name === 'bearer' ? 'Bearer' : undefined;
  if (!scheme) throw noCredentials();
  const token = space === -1 ? '' : value.slice(space + 1).replace(/^ +/, '');
  if (!TOKEN68.test(token)) throw new ApiError(401, 'invalid_request', 'the Authorization header is malformed', { challenges: [scheme] });
  return { scheme, token };
}

function noCredentials(): ApiError {
  return new ApiError(401, 'invalid_token', 'an access token is required (DPoP or mTLS-bound Bearer)', { challenges: ['DPoP', 'Bearer'], anonymous: true });
}

function invalidToken(scheme: Scheme, description: string): ApiError {
  return new ApiError(401, 'invalid_token', description, { challenges: [scheme] });
}

function unknownGrant(): ApiError {
  return new ApiError(404, 'invalid_grant_id', 'unknown grant');
}

function respondError(ctx: Context, err: ApiError): void {
  ctx.status = err.status;
  if (err.challenges.length) {
    ctx.set('WWW-Authenticate', err.challenges.map((scheme) => challenge(scheme, err.anonymous ? undefined : err)).join(', '));
  }
  if (err.nonce) ctx.set('DPoP-Nonce', err.nonce);
  ctx.body = { error: err.error, error_description: err.description };
}

/** Our descriptions and scopes never contain `"` or `\`, so quoting them is enough. */
function challenge(scheme: Scheme, err: ApiError | undefined): string {
  const params: string[] = [];
  if (err) {
    params.push(`error="${err.error}"`, `error_description="${err.description}"`);
    if (err.scope) params.push(`scope="${err.scope}"`);
  }
  if (scheme === 'DPoP') params.push(`algs="${DPOP_ALGS}"`);
  return params.length ? `${scheme} ${params.join(', ')}` : scheme;
}

function sameValue(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function describeFailure(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err };
  const code = (err as { code?: unknown }).code;
  return {
    name: err.name,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    // The stack without its first line, which repeats the message.
    at: err.stack?.split('\n').slice(1, 6).map((l) => l.trim()),
  };
}
