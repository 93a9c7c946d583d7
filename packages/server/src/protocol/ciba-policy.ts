/**
 * OpenID Connect CIBA (Client-Initiated Backchannel Authentication) on top of the FAPI
 * configuration, through oidc-provider's documented `features.ciba` hooks (digest section B):
 * poll and ping (no push), signed authentication requests, who a request is about (login_hint,
 * id_token_hint, login_hint_token), binding messages, user codes and requested_expiry. The
 * device side (ciba/) decides the request; provider.ts adds `interval` and `slow_down`.
 */
import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config/schema.ts';
import { LoginHintTokenError, type LoginHints } from '../ciba/login-hints.ts';

/** What the CIBA configuration asks of the rest of Sekisho. */
export interface CibaHooks {
  loginHints: LoginHints;
  /** Whether the code is the one the person set (false also when they set none); throttled per person and client. */
  checkUserCode(accountId: string, code: string, clientId: string): Promise<boolean>;
  /** Whether the client may send this person another request now (pending requests are capped per client and person). */
  admits(clientId: string, accountId: string): Promise<boolean>;
  /** A new request was saved: record it, work out who decides it, and tell their devices (without waiting for them). */
  requested(input: { authReqId: string; clientId: string; accountId: string; bindingMessage: string | null; expiresAt: Date }): Promise<void>;
}

export interface CibaPolicyDeps { config: Config; ciba: CibaHooks }

type AssertRequestObject = (ctx: KoaContextWithOIDC, claims: Record<string, unknown>, header: Record<string, unknown>, client: { clientId: string }) => Promise<void>;

export function withCiba(deps: CibaPolicyDeps, configuration: Configuration): Configuration {
  const { config, ciba } = deps;
  const max = config.ciba.maxExpirySeconds;
  const ttl = configuration.ttl as Record<string, unknown>;
  return {
    ...configuration,
    ttl: {
      ...ttl,
      // B5: requested_expiry (number or string) can only shorten the deployment's maximum.
      BackchannelAuthenticationRequest: (ctx: KoaContextWithOIDC) => {
        const requested = Number(ctx?.oidc?.params?.requested_expiry);
        return Number.isSafeInteger(requested) && requested > 0 ? Math.min(requested, max) : max;
      },
    } as Configuration['ttl'],
    features: {
      ...configuration.features,
      requestObjects: {
        ...configuration.features!.requestObjects,
        assertJwtClaimsAndHeader: assertRequestObject as never,
      },
      ciba: {
        enabled: true,
        // B1: poll and ping; push is not offered.
        deliveryModes: ['poll', 'ping'],
        processLoginHint: (_ctx: KoaContextWithOIDC, hint: string) => ciba.loginHints.loginHint(hint),
        async processLoginHintToken(_ctx: KoaContextWithOIDC, token: string) {
          try {
            return await ciba.loginHints.loginHintToken(token);
          } catch (err) {
            if (err instanceof LoginHintTokenError) {
              throw err.reason === 'expired' ? new errors.ExpiredLoginHintToken(err.message) : new errors.InvalidRequest(err.message);
            }
            throw err;
          }
        },
        // B4: what the phone shows in full, or refused; a request without one needs its own context (authorization_details).
        async validateBindingMessage(ctx: KoaContextWithOIDC, message: string | undefined) {
          if (message === undefined) {
            if (ctx.oidc.params?.authorization_details === undefined) throw new errors.InvalidRequest('binding_message is required (or authorization_details giving the request its own context)');
            return;
          }
          const problem = bindingMessageProblem(message, config.ciba.bindingMessageMaxLength);
          if (problem) throw new errors.InvalidBindingMessage(problem);
        },
        // request_context is not defined by CIBA Core; Sekisho ignores it.
        async validateRequestContext() {},
        // Runs once the person is known and before the request is saved: what depends on who it is.
        async verifyUserCode(ctx: KoaContextWithOIDC, account: { accountId: string }, userCode: string | undefined) {
          // Grant Management: a grant_id must be this person's grant (the extraParams check could only see the client).
          const grantId = ctx.oidc.params?.grant_id;
          if (typeof grantId === 'string') {
            const grant = await ctx.oidc.provider.Grant.find(grantId);
            if (!grant || grant.accountId !== account.accountId) throw new errors.CustomOIDCProviderError('invalid_grant_id', 'unknown grant_id');
          }
          const client = ctx.oidc.client!;
          // A client cannot flood a person's phone: a bounded number of their requests wait at once.
          if (!(await ciba.admits(client.clientId, account.accountId))) {
            throw new errors.InvalidRequest('too many requests for this person are waiting for a decision; wait for them to be decided or expire');
          }
          if (!client.backchannelUserCodeParameter) return;
          if (userCode === undefined || userCode === '') throw new errors.MissingUserCode('user_code is required');
          if (userCode.length > 64 || !(await ciba.checkUserCode(account.accountId, userCode, client.clientId))) throw new errors.InvalidUserCode('invalid user_code');
          // Verified: the saved request keeps no copy of the person's secret.
          ctx.oidc.params!.user_code = undefined;
        },
        async triggerAuthenticationDevice(ctx: KoaContextWithOIDC, request: { jti: string; expiration?: number; params?: Record<string, unknown> }, account: { accountId: string }, client: { clientId: string }) {
          const message = request.params?.binding_message;
          await ciba.requested({
            authReqId: request.jti, clientId: client.clientId, accountId: account.accountId,
            bindingMessage: typeof message === 'string' ? message : null,
            // `expiration`: the seconds left, as the response's expires_in says.
            expiresAt: new Date(Date.now() + (request.expiration ?? max) * 1000),
          });
        },
      } as never,
    },
  };
}

/**
 * Request object rules (the library's defaults, made explicit so the CIBA ones sit beside them):
 * FAPI 2.0 MS needs exp, aud and nbf with exp at most 60 minutes after nbf; a backchannel request
 * (B3) also iat and jti, its `iss` must be the authenticated client (401 invalid_client), and its
 * jti is used once.
 */
const assertRequestObject: AssertRequestObject = async (ctx, claims, _header, client) => {
  const ciba = ctx.oidc.route === 'backchannel_authentication';
  const required = ['exp', 'aud', 'nbf', ...(ciba ? ['iat', 'jti'] : [])];
  for (const claim of required) {
    if (claims[claim] === undefined) throw new errors.InvalidRequestObject(`Request Object is missing the '${claim}' claim`);
  }
  const lifetime = Number(claims.exp) - Number(claims.nbf);
  if (!(lifetime > 0) || lifetime > 3600) throw new errors.InvalidRequestObject("Request Object 'exp' claim too far from 'nbf' claim");
  if (!ciba) return;
  if (claims.iss !== client.clientId) throw new errors.InvalidClient('the request object was not issued by the authenticated client (iss)');
  if (typeof claims.jti !== 'string' || claims.jti.length > 200) throw new errors.InvalidRequestObject("Request Object 'jti' claim must be a string");
  const replay = ctx.oidc.provider.ReplayDetection as unknown as { unique(iss: string, jti: string, exp: number): Promise<boolean> };
  if (!(await replay.unique(client.clientId, `ciba-request:${claims.jti}`, Number(claims.exp)))) {
    throw new errors.InvalidRequestObject('Request Object jti was already used');
  }
};

/**
 * A binding message the device app can show in full, character for character: any script
 * (Japanese included), no control or format characters (which could hide or reorder text), not
 * blank, and short enough for a phone screen.
 */
export function bindingMessageProblem(message: string, maxLength: number): string | undefined {
  if ([...message].length > maxLength) return `binding_message must be at most ${maxLength} characters`;
  if (/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\u2028\u2029]/u.test(message)) return 'binding_message must not contain control, format or unassigned characters';
  if (message.trim() === '') return 'binding_message must not be blank';
  return undefined;
}
