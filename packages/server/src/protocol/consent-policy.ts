/**
 * Consent and grants on top of the FAPI configuration, through oidc-provider's documented hooks
 * only (loadExistingGrant, extraParams, issueRefreshToken, interaction checks, the RAR feature):
 * which grant a request works on (Grant Management), Sekisho's Rich Authorization Request types,
 * one-time grants that issue no refresh token, consent asked again when a client publishes a new
 * notice, and `grant_id` in token responses. provider.ts applies it.
 */
import Provider, { errors, interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Kysely } from 'kysely';
import type { Config } from '../config/schema.ts';
import type { Database } from '../storage/schema.ts';
import { expireGrantAt } from '../storage/oidc-adapter.ts';
import type { GrantTermsStore } from '../consent/grant-terms.ts';
import { canonicalJson } from '../consent/canonical-json.ts';
import { GrantManagementRequestError, grantManagementDiscovery, readGrantManagementRequest } from './grant-management.ts';
import { GRANT_MANAGEMENT_SCOPES } from './grant-management-routes.ts';

/** Grant Management API (draft): `GET`/`DELETE` on `${GRANT_MANAGEMENT_PATH}/<grant_id>`. */
export const GRANT_MANAGEMENT_PATH = '/grants';

/** What the provider needs to know of an authorization details type (RFC 9396); consent/authorization-details defines them. */
export interface DetailTypeRules {
  validate(detail: unknown): { ok: true; detail: Record<string, unknown> } | { ok: false; message: string };
  /** A payment: consent for one use only. */
  oneTime: boolean;
}

/** Consent state the provider consults on every authorization and token request. */
export interface ConsentHooks {
  terms: GrantTermsStore;
  detailTypes: { get(type: string): DetailTypeRules | undefined; all(): Array<DetailTypeRules & { type: string }> };
  /** The client's current consent notice version, if it has published one (memoised by the caller). */
  noticeVersion(clientId: string): Promise<number | undefined>;
  /** A grant the library (or reuse detection) ended: its terms and the ledger record it. Runs in the background. */
  grantEnded(grantId: string, by: 'subject' | 'client' | 'reuse', reason: string): void;
}

/** What withConsent and the token-response step need (a part of provider.ts's deps). */
export interface ConsentPolicyDeps { config: Config; db: Kysely<Database>; consent: ConsentHooks }

export type DurationOf = (grantId: string) => Promise<'once' | 'ongoing' | undefined>;
/** The delegate who gave a grant for the person, if one did (never changes for a grant). */
export type ActorOf = (grantId: string) => Promise<string | undefined>;

/**
 * Consent and grants on top of the FAPI configuration: which grant a request works on (Grant
 * Management), Sekisho's Rich Authorization Request types, one-time grants that issue no refresh
 * token, and consent asked again when a client publishes a new notice.
 */
export function withConsent(deps: ConsentPolicyDeps, durationOf: DurationOf, actorOf: ActorOf, configuration: Configuration): Configuration {
  const { consent, config } = deps;
  const issueRefreshToken = configuration.issueRefreshToken!;
  addConsentChecks(configuration.interactions!.policy! as unknown as ReturnType<typeof interactionPolicy.base>, consent);

  return {
    ...configuration,
    scopes: [...configuration.scopes!, ...Object.values(GRANT_MANAGEMENT_SCOPES)],
    extraParams: {
      grant_id: null,
      // Both parameters are checked together here, at PAR and again at the authorization endpoint.
      async grant_management_action(ctx, _value, client) {
        const request = gmRequest(ctx.oidc.params ?? {});
        if (request.action === 'merge' || request.action === 'replace') {
          // A payment is consented to once, in a grant of its own: never folded into a reusable one.
          if (oneTimeDetailsIn(ctx.oidc.params?.authorization_details)) {
            throw new errors.CustomOIDCProviderError('invalid_request', 'one-time authorization_details need a new grant (grant_management_action=create)');
          }
          await managedGrant(ctx, request.grantId, client.clientId, ctx.oidc.session?.accountId);
        }
      },
    },
    async loadExistingGrant(ctx) {
      const { Grant } = ctx.oidc.provider;
      const decided = (ctx.oidc.result as { consent?: { grantId?: string } } | undefined)?.consent?.grantId;
      if (decided) return Grant.find(decided);
      const accountId = ctx.oidc.session!.accountId!;
      const clientId = ctx.oidc.client!.clientId;
      const request = gmRequest(ctx.oidc.params ?? {});
      if (request.action === 'create') return undefined;
      if (request.action === 'merge') return asksAgain(await managedGrant(ctx, request.grantId, clientId, accountId));
      if (request.action === 'replace') {
        // The person consents afresh to exactly what is asked; the grant keeps its id.
        const existing = await managedGrant(ctx, request.grantId, clientId, accountId);
        return new Grant({ jti: existing.jti, accountId, clientId } as never);
      }
      // Authorization details are consented to each time (RFC 9396): each consent is its own grant.
      if (ctx.oidc.params?.authorization_details !== undefined) return undefined;
      // This browser's grant for the client, or else the person's latest ongoing one: a consent is
      // remembered across sign-ins until it ends, not only within one session.
      const sessionGrant = ctx.oidc.session!.grantIdFor(clientId) ?? await consent.terms.latestActive(accountId, clientId);
      if (!sessionGrant) return undefined;
      // A one-time grant is never reused for another authorization.
      if ((await durationOf(sessionGrant)) === 'once') return undefined;
      const grant = await Grant.find(sessionGrant);
      // prompt=consent asks again for what the person once declined, too.
      return grant && String(ctx.oidc.params?.prompt ?? '').split(' ').includes('consent') ? asksAgain(grant) : grant;
    },
    async issueRefreshToken(ctx, client, code) {
      if (!(await issueRefreshToken(ctx, client, code))) return false;
      if (((code as { rar?: Array<{ type?: unknown }> }).rar ?? []).some((d) => consent.detailTypes.get(String(d.type))?.oneTime)) return false;
      return !code.grantId || (await durationOf(code.grantId)) !== 'once';
    },
    // In JWT access tokens and in introspection: the grant the token came from (Grant Management:
    // an API can tell which consent it acts under, e.g. to execute a one-time payment once; the id
    // is random and says nothing about the person), and for guardian or proxy consent the delegate
    // who allowed it (RFC 8693 §4.1 `act`).
    async extraTokenClaims(_ctx, token) {
      const grantId = (token as { grantId?: string }).grantId;
      if (!grantId) return undefined;
      const actor = await actorOf(grantId);
      return { grant_id: grantId, ...(actor ? { act: { sub: actor } } : {}) };
    },
    discovery: { ...configuration.discovery, ...grantManagementDiscovery(config.issuer, GRANT_MANAGEMENT_PATH) },
    features: {
      ...configuration.features,
      richAuthorizationRequests: {
        enabled: true,
        types: Object.fromEntries(consent.detailTypes.all().map(({ type: name }) => [name, {
          validate(ctx: KoaContextWithOIDC, detail: unknown) {
            // At the token endpoint a client may only ask again for details as granted (enriched):
            // tokenAuthorizationDetails compares them with the grant, which is stricter than this.
            if (ctx.oidc.route === 'token') return;
            const result = consent.detailTypes.get(name)!.validate(detail);
            if (!result.ok) throw new errors.InvalidAuthorizationDetails(result.message);
          },
        }])),
        // The code, and the tokens from it, carry what the person granted (enriched: the accounts they picked).
        authorizationDetailsForGrantSource: (ctx: KoaContextWithOIDC) => (ctx.oidc.grant as { rar?: unknown[] } | undefined)?.rar ?? [],
        authorizationDetailsForAccessToken: (ctx: KoaContextWithOIDC, _token: unknown, source: unknown) =>
          tokenAuthorizationDetails((source as { rar?: Array<Record<string, unknown>> } | undefined)?.rar, ctx.oidc.params?.authorization_details),
        authorizationDetailsForIntrospection: (_ctx: unknown, token: unknown) => (token as { rar?: unknown[] }).rar,
      } as never,
    },
  };

  /**
   * The grant as this authorization sees it when the person is to be asked anyway (prompt=consent,
   * a merge): what they declined before is asked again. Only this copy; the stored grant changes
   * only with their decision.
   */
  function asksAgain<G extends { rejected?: unknown }>(grant: G): G {
    grant.rejected = undefined;
    return grant;
  }

  function oneTimeDetailsIn(param: unknown): boolean {
    if (typeof param !== 'string') return false;
    try {
      const details = JSON.parse(param) as unknown;
      return Array.isArray(details) && details.some((d) => consent.detailTypes.get(String((d as { type?: unknown } | null)?.type))?.oneTime === true);
    } catch {
      return false; // malformed: the RAR check refuses it
    }
  }

  /**
   * The details a token carries: those of the code or refresh token it comes from, which are what
   * the person granted. A client may ask again for some of them (RFC 9396 §6.2), never for more;
   * with client credentials nobody consented, so none are issued.
   */
  function tokenAuthorizationDetails(granted: Array<Record<string, unknown>> | undefined, asked: unknown) {
    if (asked === undefined) return granted;
    if (!granted) throw new errors.InvalidAuthorizationDetails('authorization_details were not granted for this request');
    let requested: unknown;
    try { requested = JSON.parse(String(asked)); } catch { throw new errors.InvalidAuthorizationDetails('could not parse the authorization_details parameter JSON'); }
    const held = new Set(granted.map((d) => canonicalJson(d)));
    const list = Array.isArray(requested) ? requested : [requested];
    // Compared with what was granted, enrichment included: the client asks again for what it was given.
    // A value too deeply nested to compare (the recursion gives up) cannot be one that was granted.
    const wasGranted = (d: unknown) => { try { return held.has(canonicalJson(d)); } catch { return false; } };
    if (!list.every(wasGranted)) throw new errors.InvalidAuthorizationDetails('authorization_details exceed what was granted');
    return list as Array<Record<string, unknown>>;
  }

  function gmRequest(params: Record<string, unknown>) {
    try {
      return readGrantManagementRequest(params);
    } catch (err) {
      if (err instanceof GrantManagementRequestError) throw new errors.CustomOIDCProviderError(err.error, err.message);
      throw err;
    }
  }

  /** The grant named by grant_id, if it is this client's (and, once known, this person's) and still active. */
  async function managedGrant(ctx: KoaContextWithOIDC, grantId: string, clientId: string, accountId: string | undefined) {
    const unknown = () => new errors.CustomOIDCProviderError('invalid_grant_id', 'unknown grant_id');
    const [grant, terms] = await Promise.all([ctx.oidc.provider.Grant.find(grantId), consent.terms.find(grantId)]);
    if (!grant || grant.clientId !== clientId || (accountId !== undefined && grant.accountId !== accountId)) throw unknown();
    if (terms && (terms.status !== 'active' || terms.duration === 'once')) throw unknown();
    return grant as InstanceType<Provider['Grant']> & { jti: string };
  }
}

/**
 * Consent checks beyond the library's: a Grant Management `create` or `replace` always asks, and
 * a client's new notice version asks again for what its grant holds.
 */
function addConsentChecks(policy: ReturnType<typeof interactionPolicy.base>, consent: ConsentHooks) {
  const decided = (ctx: KoaContextWithOIDC) => Boolean((ctx.oidc.result as { consent?: unknown } | undefined)?.consent);
  const prompt = policy.get('consent')!;
  prompt.checks.add(new interactionPolicy.Check('grant_management_new_consent', 'a new or replacing grant was requested', (ctx) => {
    const action = ctx.oidc.params?.grant_management_action;
    return (action === 'create' || action === 'replace') && !decided(ctx) ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT;
  }));
  prompt.checks.add(new interactionPolicy.Check('notice_changed', "the client's consent notice changed", async (ctx) => {
    if (decided(ctx)) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    const grantId = (ctx.oidc.grant as { jti?: string } | undefined)?.jti;
    if (!grantId) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    const current = await consent.noticeVersion(ctx.oidc.client!.clientId);
    if (current === undefined) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    const terms = await consent.terms.find(grantId);
    return terms && terms.noticeVersion !== current ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT;
  }));
}

/**
 * The token response names the grant (`grant_id`, Grant Management draft), and a one-time grant
 * is used up by the token it just issued: it ends when that access token expires.
 */
export function completeTokenResponses(provider: Provider, deps: ConsentPolicyDeps, durationOf: DurationOf, tokenPath: string) {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path !== tokenPath || ctx.status !== 200) return;
    const body = ctx.body as Record<string, unknown> | undefined;
    const token = (ctx as unknown as KoaContextWithOIDC).oidc?.entities?.AccessToken as { grantId?: string; expiration?: number } | undefined;
    if (!body || typeof body.access_token !== 'string' || !token?.grantId) return;
    body.grant_id = token.grantId;
    if ((await durationOf(token.grantId)) === 'once') {
      const until = new Date(Date.now() + (token.expiration ?? 0) * 1000);
      if (await deps.consent.terms.markUsed(token.grantId, until)) await expireGrantAt(deps.db, token.grantId, until);
    }
  });
}

