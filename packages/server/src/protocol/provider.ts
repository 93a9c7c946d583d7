/**
 * The one module that configures oidc-provider and touches anything beyond its documented
 * configuration (the replay store, the consume-conflict errors, the DPoP nonce helper shared with
 * the grant management endpoint, the Grant model's payload for compare-and-set, the grant lookup
 * on refresh, the CIBA request lookup on polls, completing a CIBA request with a background ping,
 * `act` in ID tokens, the browser session). Everything FAPI 2.0 asks of the server side is decided
 * here or in the small modules it imports; consent-policy.ts and ciba-policy.ts hold the consent
 * and CIBA hooks, through documented configuration. It is long on purpose: every dependency on
 * the library's internals is in this one file, so a library upgrade is checked here.
 */
import { createHash } from 'node:crypto';
import Provider, { errors, interactionPolicy, type Configuration, type KoaContextWithOIDC, type JWKS } from 'oidc-provider';
import type { Context } from 'koa';
import { sql, type Kysely } from 'kysely';
import { decodeJwt } from 'jose';
import type { Config } from '../config/schema.ts';
import type { Database } from '../storage/schema.ts';
import { createOidcAdapterFactory, createReplayStore, deleteGrantRecords } from '../storage/oidc-adapter.ts';
import type { Accounts } from '../identity/accounts.ts';
import { accountClaims } from '../identity/claims.ts';
import type { IdentityAssurance } from '../identity/identity-assurance.ts';
import { consentedVerifiedClaims, releaseVerifiedClaims, verifiedClaimsAskedFor } from '../identity/verified-claims.ts';
import { assertClaimsRequest, identityAssuranceDiscovery } from './identity-assurance-claims.ts';
import { ttlMemo } from '../shared/ttl-memo.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Logger } from '../shared/logger.ts';
import { FAPI_ALGS, FAPI_AUTH_METHODS } from './algorithms.ts';
import { certificateSubjectMatches, createCertificateSource } from './mtls.ts';
import { createResourceServers } from './resource-servers.ts';
import { ACR_VALUES, SCOPE_CLAIMS } from './claims-catalogue.ts';
import { levelOf, requiredLevel } from '../identity/assurance.ts';
import { auditProviderEvents } from './provider-events.ts';
import { renderProtocolError } from '../ui/error-page.ts';
import { grantManagementRoutes, type GrantManagementDeps } from './grant-management-routes.ts';
import { completeTokenResponses, GRANT_MANAGEMENT_PATH, withConsent, type ActorOf, type ConsentHooks, type DurationOf } from './consent-policy.ts';
import { withCiba, type CibaHooks } from './ciba-policy.ts';
import ServerChallenge from 'oidc-provider/lib/helpers/challenge.js';
import { logoutSource, postLogoutSuccessSource } from '../ui/logout-pages.ts';

/** oidc-provider's session cookie; Sekisho's pages read and start the same session. */
const SESSION_COOKIE = 'sekisho.session';

export const ROUTES = {
  authorization: '/auth',
  pushed_authorization_request: '/par',
  token: '/token',
  userinfo: '/userinfo',
  jwks: '/jwks',
  introspection: '/token/introspection',
  revocation: '/token/revocation',
  end_session: '/session/end',
  backchannel_authentication: '/backchannel',
} as const;

export interface ProviderDeps {
  config: Config;
  db: Kysely<Database>;
  accounts: Accounts;
  identityAssurance: IdentityAssurance;
  audit: AuditLog;
  logger: Logger;
  jwks: JWKS;
  cookieKeys: string[];
  dpopNonceSecret: Buffer;
  consent: ConsentHooks;
  /** What the Grant Management API reads and revokes (consent/grants.ts, with the ledger record of a revocation). */
  grantManagement: GrantManagementDeps['grants'];
  /** Outgoing requests to addresses clients chose (http/outbound.ts). */
  outbound: { fetch(url: string | URL, init: RequestInit): Promise<Response> };
  ciba: CibaHooks & {
    /** B6: whether a poll for this request comes too soon ('slow_down'); 'unknown' when Sekisho does not track it. */
    pollGate(authReqId: string, clientId: string): Promise<'ok' | 'slow_down' | 'unknown'>;
  };
}

/** What the FAPI 2.0 configuration needs; storage-free so a bare provider can be built from it (bench/). */
export interface FapiConfigurationDeps {
  config: Config;
  jwks: JWKS;
  cookieKeys: string[];
  dpopNonceSecret: Buffer;
  findAccount: NonNullable<Configuration['findAccount']>;
  /** oidc-provider adapter; without one the library's in-memory adapter is used. */
  adapter?: Configuration['adapter'];
  /** Outgoing requests (client ping notifications, jwks_uri), guarded against special-use addresses. */
  fetch?: (url: string | URL, init: RequestInit) => Promise<Response>;
}

/** oidc-provider's configuration for FAPI 2.0 Security Profile + Message Signing, every client. */
export function buildFapiConfiguration(deps: FapiConfigurationDeps): Configuration {
  const { config } = deps;
  const certificates = createCertificateSource(config.mtls);
  const resourceServers = createResourceServers(config.resourceServers);
  const algs = [...FAPI_ALGS];

  return {
    ...(deps.adapter ? { adapter: deps.adapter } : {}),
    ...(deps.fetch ? { fetch: deps.fetch as Configuration['fetch'] } : {}),
    clients: [],
    jwks: deps.jwks,
    cookies: {
      keys: deps.cookieKeys,
      names: { session: SESSION_COOKIE, interaction: 'sekisho.interaction', resume: 'sekisho.resume' },
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    findAccount: deps.findAccount,
    claims: SCOPE_CLAIMS,
    acrValues: [...ACR_VALUES],
    scopes: ['openid', 'offline_access', ...Object.entries(SCOPE_CLAIMS).filter(([s, claims]) => s !== 'openid' && claims !== null).map(([s]) => s)],
    responseTypes: ['code'],
    pkce: { required: () => true },
    clientAuthMethods: [...FAPI_AUTH_METHODS],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
      id_token_signed_response_alg: 'ES256',
      authorization_signed_response_alg: 'ES256',
      introspection_signed_response_alg: 'ES256',
    },
    clientBasedCORS: () => false,
    enabledJWA: {
      clientAuthSigningAlgValues: algs,
      idTokenSigningAlgValues: algs,
      requestObjectSigningAlgValues: algs,
      userinfoSigningAlgValues: algs,
      introspectionSigningAlgValues: algs,
      authorizationSigningAlgValues: algs,
      dPoPSigningAlgValues: algs,
    },
    routes: { ...ROUTES },
    allowOmittingSingleRegisteredRedirectUri: false,
    conformIdTokenClaims: true,
    async assertJwtClientAuthClaimsAndHeader(ctx, claims) {
      // C2 (SP 5.3.2.1-8): aud is the issuer as a single string (this replaces the library's FAPI 2.0 default).
      if (claims.aud !== ctx.oidc.issuer) throw new errors.InvalidClientAuth('audience (aud) must equal the issuer identifier');
      // C3 (SP 5.3.2.1-13): the library checks iat only when exp is absent; refuse more than 60 s ahead.
      if (typeof claims.iat === 'number' && claims.iat > Math.floor(Date.now() / 1000) + 60) {
        throw new errors.InvalidClientAuth('iat (issued at) is more than 60 seconds in the future');
      }
    },
    rotateRefreshToken: false,
    async issueRefreshToken(_ctx, client, code) {
      return client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access');
    },
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.ttl.accessToken,
      AuthorizationCode: config.ttl.authorizationCode,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.ttl.clientCredentials,
      IdToken: config.ttl.idToken,
      Interaction: config.ttl.interaction,
      Session: config.ttl.session,
      Grant: config.ttl.grant,
      RefreshToken: config.ttl.refreshToken,
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}`, policy: interactionPolicyWithStepUp() },
    renderError: renderProtocolError,
    discovery: {
      claim_types_supported: ['normal'],
      ...identityAssuranceDiscovery(config.identity.trustFrameworks),
      ...(config.mtls.enabled ? { mtls_endpoint_aliases: mtlsAliases(config) } : {}),
    },
    features: {
      devInteractions: { enabled: false },
      fapi: { enabled: true, profile: '2.0' },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true, allowUnregisteredRedirectUris: false },
      requestObjects: { enabled: true, requireSignedRequestObject: false },
      jwtResponseModes: { enabled: true },
      jwtIntrospection: { enabled: true },
      claimsParameter: { enabled: true, assertClaimsParameter: assertClaimsRequest as never },
      clientCredentials: { enabled: true },
      userinfo: { enabled: true },
      dPoP: {
        enabled: true,
        nonceSecret: deps.dpopNonceSecret,
        requireNonce: () => config.dpop.requireNonce,
        allowReplay: false,
      },
      mTLS: {
        enabled: config.mtls.enabled,
        certificateBoundAccessTokens: config.mtls.enabled,
        tlsClientAuth: config.mtls.enabled,
        selfSignedTlsClientAuth: config.mtls.enabled,
        getCertificate: (ctx) => certificates.certificate(ctx) ?? undefined,
        certificateAuthorized: (ctx) => certificates.authorized(ctx),
        certificateSubjectMatches: (ctx, property, expected) => {
          const cert = certificates.certificate(ctx);
          return cert !== null && certificateSubjectMatches(cert, property, expected);
        },
      } as NonNullable<Configuration['features']>['mTLS'],
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf ?? undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          const info = resourceServers.info(indicator);
          if (!info) throw new errors.InvalidTarget(`unknown resource indicator ${indicator}`);
          return info;
        },
      },
      introspection: {
        enabled: true,
        // I1: only the token's own client or a resource server the token is for; anyone else sees active:false.
        allowedPolicy: (_ctx, caller, token) => token.clientId === caller.clientId
          || resourceServers.mayIntrospect(caller.clientId, (token as { aud?: string | string[] }).aud),
      },
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx, caller, token) => {
          if (token.clientId !== caller.clientId) throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
          return true;
        },
      },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    },
  };
}

export function createProvider(deps: ProviderDeps): Provider {
  const { config, db, accounts, audit, logger } = deps;
  // The provider looks the account up at /auth and again at /token; claims may be this stale.
  const findAccountById = ttlMemo((id: string) => accounts.findById(id), config.accountCacheSeconds * 1000);

  const adapter = createOidcAdapterFactory(db, {
    async onConsumeConflict(model, _id, grantId) {
      // Second redemption of a single-use record: the loser of a race, or a replay.
      if (model === 'PushedAuthorizationRequest') throw new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used');
      if (grantId && (model === 'AuthorizationCode' || model === 'RefreshToken')) {
        // RFC 6749 §4.1.2: a code used twice revokes what was issued from it.
        await deleteGrantRecords(db, grantId);
        audit.recordInBackground({ type: 'grant.revoked', outcome: 'success', details: { grantId, reason: `${model} reused` } });
        deps.consent.grantEnded(grantId, 'reuse', `${model === 'AuthorizationCode' ? 'an authorization code' : 'a refresh token'} was used twice`);
      }
      throw new errors.InvalidGrant(`${model === 'AuthorizationCode' ? 'authorization code' : 'grant'} already consumed`);
    },
  }, { clientCacheSeconds: config.clientCacheSeconds });

  // A grant's duration and the delegate who gave it never change: one memoised read of its terms
  // serves both (a cached object, so a grant without an actor is not read again for every token).
  const grantFacts = ttlMemo(async (grantId: string) => {
    const terms = await deps.consent.terms.find(grantId);
    return terms && { duration: terms.duration, actor: terms.actor ?? undefined };
  }, 5 * 60_000);
  const durationOf: DurationOf = async (grantId) => (await grantFacts(grantId))?.duration;
  const actorOf: ActorOf = async (grantId) => (await grantFacts(grantId))?.actor;
  const provider = new Provider(config.issuer, withCiba(deps, withConsent(deps, durationOf, actorOf, buildFapiConfiguration({
    config,
    jwks: deps.jwks,
    cookieKeys: deps.cookieKeys,
    dpopNonceSecret: deps.dpopNonceSecret,
    adapter: adapter as unknown as Configuration['adapter'],
    fetch: deps.outbound.fetch,
    async findAccount(ctx, sub) {
      const account = await findAccountById(sub);
      if (!account) return undefined;
      return {
        accountId: account.id,
        async claims(_use, _scope, requested) {
          const claims: { sub: string; [claim: string]: unknown } = { sub: account.id, ...accountClaims(account) };
          const request = (requested as Record<string, unknown> | undefined)?.verified_claims;
          // Only when the client asked (claims parameter); the provider then releases it only if the person consented.
          if (request !== undefined) {
            // Only the names the person allowed for this client (recorded in its grant), whatever a later request asks.
            const grant = (ctx.oidc as unknown as { grant?: { openid?: { claims?: string[] } } } | undefined)?.grant;
            const consented = consentedVerifiedClaims(grant?.openid?.claims);
            const released = releaseVerifiedClaims(request, await deps.identityAssurance.active(account.id), { consented });
            if (released) claims.verified_claims = released;
          }
          return claims;
        },
      };
    },
  }))));
  provider.proxy = config.trustProxy;

  // N3/C3/DP1: jti replay refused atomically, even between instances racing on one database.
  const replayStore = createReplayStore(db);
  provider.use(grantManagementEndpoint(provider, deps, replayStore));
  const replay = provider.ReplayDetection as unknown as { unique(iss: string, jti: string, exp: number): Promise<boolean> };
  replay.unique = async (iss, jti, exp) => {
    const id = createHash('sha256').update(`${iss}${jti}`).digest('base64url');
    const fresh = await replayStore.insertIfNew(id, exp);
    // RFC 9449 §4.3/§5: a replayed DPoP proof is invalid_dpop_proof, whatever error the caller would pick.
    if (!fresh && isCurrentDpopProofJti(jti)) throw new errors.InvalidDpopProof('DPoP proof JWT replay detected');
    return fresh;
  };

  applyFapiCorrections(provider);
  refuseRefreshUnderOldNotice(provider, deps);
  paceCibaPolling(provider, deps);
  nameTheDelegateInIdTokens(provider, actorOf);
  // The library ends grants itself: a client revoking its refresh token, a sign-out ending access tied to it.
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    const route = String(ctx?.oidc?.route ?? '');
    if (route.startsWith('end_session')) deps.consent.grantEnded(grantId, 'subject', 'access tied to the sign-in ended with it');
    else if (route === 'token') deps.consent.grantEnded(grantId, 'reuse', 'an authorization code or refresh token was used twice');
    else deps.consent.grantEnded(grantId, 'client', 'the service revoked its refresh token');
  });
  completeTokenResponses(provider, deps, durationOf, ROUTES.token);
  auditProviderEvents(provider, audit, logger);
  return provider;
}

/**
 * The Grant Management API (`GET`/`DELETE /grants/<id>`): a protected resource of this server,
 * reached with the client's own sender-constrained token, audience-less (no resource indicator),
 * holding grant_management_query or grant_management_revoke. DPoP nonces are the token
 * endpoint's, so one nonce serves a client at both.
 */
function grantManagementEndpoint(provider: Provider, deps: ProviderDeps, replayStore: ReturnType<typeof createReplayStore>) {
  const { config } = deps;
  const certificates = createCertificateSource(config.mtls);
  const nonces = new ServerChallenge(deps.dpopNonceSecret, 'DPoP');
  type StoredToken = { clientId: string; scope?: string; jkt?: string; 'x5t#S256'?: string; exp?: number; aud?: unknown; grantId?: string; isExpired?: boolean };
  const routeDeps: GrantManagementDeps = {
    issuer: config.issuer,
    ...(config.mtls.enabled && config.mtls.endpointAliasBase ? { mtlsBase: config.mtls.endpointAliasBase } : {}),
    async findAccessToken(value) {
      const token = ((await provider.AccessToken.find(value)) ?? (await provider.ClientCredentials.find(value))) as unknown as StoredToken | undefined;
      // A token for an API (a resource indicator) is not for this endpoint.
      if (!token || token.isExpired || token.aud !== undefined || !token.exp) return undefined;
      if (token.grantId && !(await provider.Grant.find(token.grantId))) return undefined;
      return {
        clientId: token.clientId, scopes: new Set(String(token.scope ?? '').split(' ').filter(Boolean)), expiresAt: token.exp,
        ...(token.jkt ? { jkt: token.jkt } : {}), ...(token['x5t#S256'] ? { x5tS256: token['x5t#S256'] } : {}),
      };
    },
    certificateThumbprint(ctx) {
      const cert = certificates.certificate(ctx);
      return cert ? createHash('sha256').update(cert.raw).digest('base64url') : undefined;
    },
    dpop: {
      unique: (jti, exp) => replayStore.insertIfNew(createHash('sha256').update(`dpop-grant-management:${jti}`).digest('base64url'), exp),
      nonces: { required: () => config.dpop.requireNonce, check: (n) => nonces.checkChallenge(n), next: () => nonces.nextChallenge() },
    },
    grants: deps.grantManagement,
    logger: deps.logger,
  };
  return grantManagementRoutes(routeDeps);
}

/**
 * A refresh under a grant whose client has since published a new notice, or whose terms ended,
 * finds no grant (invalid_grant): the client sends the person through consent again. (The
 * library looks the grant up by id on every refresh; this is that lookup.)
 */
function refuseRefreshUnderOldNotice(provider: Provider, deps: ProviderDeps) {
  const Grant = provider.Grant as unknown as { find(id: string, ...rest: unknown[]): Promise<{ jti: string; clientId: string } | undefined> };
  const find = Grant.find.bind(Grant);
  Grant.find = async (id, ...rest) => {
    const grant = await find(id, ...rest);
    const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
    if (!grant || ctx?.oidc?.route !== 'token' || ctx.oidc.params?.grant_type !== 'refresh_token') return grant;
    const current = await deps.consent.noticeVersion(grant.clientId);
    const terms = await deps.consent.terms.find(grant.jti);
    if (terms && (terms.status !== 'active' || (current !== undefined && terms.noticeVersion !== current))) return undefined;
    return grant;
  };
}

/**
 * CIBA polling pace (digest B5, B6): the backchannel response tells the client its `interval`,
 * and a poll for a pending request sooner than that after the last one is `slow_down`. (The
 * library looks the request up by auth_req_id on every poll; this is that lookup.)
 */
function paceCibaPolling(provider: Provider, deps: ProviderDeps) {
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as Record<string, unknown> | undefined;
    if (ctx.path === ROUTES.backchannel_authentication && ctx.status === 200 && typeof body?.auth_req_id === 'string') {
      body.interval = deps.config.ciba.pollIntervalSeconds;
    }
  });
  type Request = { jti: string; clientId: string; grantId?: string; error?: string; isExpired?: boolean };
  const Model = provider.BackchannelAuthenticationRequest as unknown as { find(id: string, ...rest: unknown[]): Promise<Request | undefined> };
  const find = Model.find.bind(Model);
  Model.find = async (id, ...rest) => {
    const request = await find(id, ...rest);
    const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
    if (!request || ctx?.oidc?.route !== 'token' || request.clientId !== ctx.oidc.client?.clientId) return request;
    if (request.grantId || request.error || request.isExpired) return request;
    if ((await deps.ciba.pollGate(request.jti, request.clientId)) === 'slow_down') throw new errors.SlowDown();
    return request;
  };
}

/**
 * A guardian or proxy consented for the person: the ID token says so too (`act`, RFC 8693 §4.1),
 * so the client can show "approved by a guardian" without reading the access token, which is not
 * for it (RFC 9068 §6). Access tokens and introspection get it from extraTokenClaims.
 */
function nameTheDelegateInIdTokens(provider: Provider, actorOf: ActorOf) {
  const prototype = (provider.IdToken as unknown as { prototype: { issue(...args: unknown[]): Promise<string>; set(key: string, value: unknown): void } }).prototype;
  const issue = prototype.issue;
  prototype.issue = async function issueNamingTheDelegate(this: { set(key: string, value: unknown): void }, ...args: unknown[]) {
    const grantId = (Provider.ctx?.oidc?.entities?.Grant as { jti?: string } | undefined)?.jti;
    const actor = grantId ? await actorOf(grantId) : undefined;
    if (actor) this.set('act', { sub: actor });
    return issue.apply(this, args);
  };
}

/**
 * Completes a backchannel request with the person's decision, as `provider.backchannelResult`
 * does, except that a ping client's notification is sent in the background with bounded retries:
 * the approval never waits for the client's server, and a failed ping leaves polling working (B7).
 */
export function createBackchannelResults(provider: Provider, logger: Logger, options: { retries: number }) {
  type Request = InstanceType<Provider['BackchannelAuthenticationRequest']> & { clientId: string; accountId: string; save(): Promise<string> };
  type PingClient = { backchannelTokenDeliveryMode?: string; backchannelPing(request: unknown): Promise<void> };

  function ping(client: PingClient, request: Request, attempt = 0): void {
    client.backchannelPing(request).catch((err: unknown) => {
      const status = (err as { response?: { status?: number } }).response?.status;
      if (attempt >= options.retries) {
        logger.warn('CIBA ping notification failed; the client can still poll', { clientId: request.clientId, attempts: attempt + 1, status });
        return;
      }
      setTimeout(() => ping(client, request, attempt + 1), Math.min(5000, 250 * 2 ** attempt)).unref();
    });
  }

  async function complete(authReqId: string, apply: (request: Request) => void): Promise<boolean> {
    const request = await provider.BackchannelAuthenticationRequest.find(authReqId) as Request | undefined;
    if (!request) return false;
    const client = await provider.Client.find(request.clientId) as unknown as PingClient | undefined;
    if (!client) return false;
    apply(request);
    await request.save();
    if (client.backchannelTokenDeliveryMode === 'ping') ping(client, request);
    return true;
  }

  return {
    /** The person (or their delegate) approved: the grant's tokens can be fetched. False when the request is gone. */
    approve(authReqId: string, grantId: string, auth: { acr: string; amr: string[]; authTime: number; rar?: unknown[] | undefined }): Promise<boolean> {
      // rar: the authorization details as granted (enriched with the person's choices), which the tokens carry.
      return complete(authReqId, (request) => Object.assign(request, { grantId, acr: auth.acr, amr: auth.amr, authTime: auth.authTime, ...(auth.rar?.length ? { rar: auth.rar } : {}) }));
    },
    /** Denied: the client's next poll gets access_denied. */
    deny(authReqId: string, description: string): Promise<boolean> {
      return complete(authReqId, (request) => Object.assign(request, { error: 'access_denied', errorDescription: description }));
    },
  };
}
export type BackchannelResults = ReturnType<typeof createBackchannelResults>;

export type GrantModel = InstanceType<Provider['Grant']> & { jti: string; exp?: number; openid?: unknown; resources?: unknown; rar?: unknown; rejected?: unknown };

/**
 * Changes a stored grant only if nobody changed it meanwhile (compare-and-set on its payload), so
 * a merge confirmed on a screen opened minutes ago cannot undo a part withdrawn since, nor bring
 * back a grant revoked since. 'gone' when the grant no longer exists.
 */
export function createGrantWriter(provider: Provider, db: Kysely<Database>) {
  return {
    async update(grantId: string, change: (grant: GrantModel) => void): Promise<'saved' | 'gone'> {
      for (let attempt = 0; attempt < 5; attempt++) {
        const row = await db.selectFrom('oidc_models').select('payload').where('model', '=', 'Grant').where('id', '=', grantId)
          .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())])).executeTakeFirst();
        if (!row) return 'gone';
        const grant = (provider.Grant as unknown as { instantiate(p: unknown): GrantModel }).instantiate(structuredClone(row.payload));
        change(grant);
        const model = grant as unknown as { clean(): void; rejected?: object };
        model.clean();
        if (model.rejected) model.clean.call(model.rejected);
        const { payload } = await (grant as unknown as { getValueAndPayload(): Promise<{ payload: Record<string, unknown> }> }).getValueAndPayload();
        const updated = await db.updateTable('oidc_models').set({ payload: JSON.stringify(payload) })
          .where('model', '=', 'Grant').where('id', '=', grantId)
          .where(sql<boolean>`payload = ${JSON.stringify(row.payload)}::jsonb`).executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 1) return 'saved';
      }
      throw new Error(`grant ${grantId.slice(0, 8)}… kept changing; not updated`);
    },
  };
}
export type GrantWriter = ReturnType<typeof createGrantWriter>;

/**
 * Where the library's behaviour differs from the FAPI 2.0 rules Sekisho holds to, corrected on a
 * constructed provider. Storage-free, so a bare provider (bench/) gets the same behaviour.
 */
export function applyFapiCorrections(provider: Provider): void {
  // T3: a refresh token keeps the sender constraint of the access token issued with it, for
  // confidential clients too (the library binds refresh tokens of public clients only).
  const refreshTokenPrototype = (provider.RefreshToken as unknown as { prototype: BindableToken & { save(...args: unknown[]): Promise<string> } }).prototype;
  const saveRefreshToken = refreshTokenPrototype.save;
  refreshTokenPrototype.save = function save(this: BindableToken, ...args: unknown[]) {
    const accessToken = Provider.ctx?.oidc?.entities?.AccessToken as BindableToken | undefined;
    if (accessToken?.jkt && !this.jkt) this.jkt = accessToken.jkt;
    if (accessToken?.['x5t#S256'] && !this['x5t#S256']) this['x5t#S256'] = accessToken['x5t#S256'];
    return saveRefreshToken.apply(this, args);
  };

  // C4 and RFC 7521 §4.2.1: a client_id parameter that disagrees with the authenticated client, or
  // an unparseable client assertion, is answered by the library with 400 invalid_request before
  // the client is looked up; both are failed client authentication (401 invalid_client).
  // Matched on the library's exact descriptions (the version is pinned; tests guard it).
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { error?: unknown; error_description?: unknown } | undefined;
    if (ctx.status === 400 && body?.error === 'invalid_request' && REMAPPED_TO_INVALID_CLIENT.has(String(body.error_description))) {
      ctx.status = 401;
      ctx.body = { error: 'invalid_client', error_description: 'client authentication failed' };
    }
    // B3: a backchannel request object issued by someone other than the authenticated client. The
    // library checks `iss` with the other claims and answers invalid_request; this is a client error.
    if (ctx.status === 400 && body?.error === 'invalid_request' && ctx.path === ROUTES.backchannel_authentication && requestObjectIssuerDiffers(ctx as unknown as KoaContextWithOIDC)) {
      ctx.status = 401;
      ctx.body = { error: 'invalid_client', error_description: 'the request object was not issued by the authenticated client (iss)' };
    }
  });
}

/**
 * The library's prompts plus one login check: a signed-in session whose assurance is below what
 * the request asks for (`acr_values` or an essential `acr`, levels ordered AAL1 < AAL2 < AAL3)
 * goes back to the login prompt, where the sign-in pages ask for a stronger credential (step-up).
 */
function interactionPolicyWithStepUp() {
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(new interactionPolicy.Check(
    'acr_level', 'a stronger authentication is required',
    (ctx) => {
      const { session, params } = ctx.oidc;
      if (!session?.accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const have = levelOf(session.acr) ?? 1;
      return have < requiredLevel(params ?? {}) ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT;
    },
  ));
  // A request for verified claims the person has not allowed this client yet asks them, even when
  // the grant already holds `verified_claims` for others (the library sees only that one name).
  policy.get('consent')!.checks.add(new interactionPolicy.Check(
    'verified_claims_not_consented', 'verified claims not yet allowed were requested',
    (ctx) => {
      // Just decided: what the person declined is not asked again in the same authorization.
      if ((ctx.oidc.result as { consent?: unknown } | undefined)?.consent) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const asked = verifiedClaimsAskedFor(ctx.oidc.params?.claims).map((c) => c.claim);
      if (asked.length === 0) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const allowed = new Set(consentedVerifiedClaims((ctx.oidc.grant as { openid?: { claims?: string[] } } | undefined)?.openid?.claims));
      return asked.every((c) => allowed.has(c)) ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT;
    },
  ));
  return policy;
}

export interface BrowserSession { id: string; uid: string; accountId: string; acr?: string; amr?: string[]; loginTs?: number }


/**
 * The sign-in session of a browser is oidc-provider's Session (so single sign-on, logout and
 * `auth_time` stay the library's), read and started here for Sekisho's own pages: sign-in,
 * sign-up, step-up and the account page.
 */
export function createBrowserSessions(provider: Provider, sessionTtlSeconds: number) {
  type SessionModel = InstanceType<Provider['Session']> & { new?: boolean; resetIdentifier(): void; loginAccount(d: object): void; uid: string; jti: string };
  async function load(ctx: Context): Promise<SessionModel | undefined> {
    const id = ctx.cookies.get(SESSION_COOKIE, { signed: true });
    if (!id || id.length > 100) return undefined;
    return (await provider.Session.find(id)) as SessionModel | undefined;
  }
  return {
    async current(ctx: Context): Promise<BrowserSession | undefined> {
      const s = await load(ctx);
      return s?.accountId ? { id: s.jti, uid: s.uid, accountId: s.accountId, acr: s.acr, amr: s.amr, loginTs: s.loginTs } : undefined;
    },
    /**
     * Signs this browser in (or raises its assurance after a step-up), with a fresh session id so a
     * planted cookie cannot carry over (session fixation). Returns undefined when the browser is
     * signed in as someone else: the library's own account switch (logout first) handles that.
     */
    async signIn(ctx: Context, login: { accountId: string; acr: string; amr: string[] }): Promise<BrowserSession | undefined> {
      const existing = await load(ctx);
      if (existing?.accountId && existing.accountId !== login.accountId) return undefined;
      const session = existing ?? (new provider.Session() as SessionModel);
      if (existing) session.resetIdentifier();
      session.loginAccount({ accountId: login.accountId, acr: login.acr, amr: login.amr, loginTs: Math.floor(Date.now() / 1000) });
      await (session as unknown as { save(ttl: number): Promise<string> }).save(sessionTtlSeconds);
      ctx.cookies.set(SESSION_COOKIE, session.jti, {
        signed: true, httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: sessionTtlSeconds * 1000, overwrite: true,
      });
      return { id: session.jti, uid: session.uid, accountId: login.accountId, acr: login.acr, amr: login.amr };
    },
    /** Ends this browser's session. */
    async signOut(ctx: Context): Promise<void> {
      const s = await load(ctx);
      if (s) await (s as unknown as { destroy(): Promise<void> }).destroy();
      ctx.cookies.set(SESSION_COOKIE, null, { signed: true, httpOnly: true, sameSite: 'lax', secure: ctx.secure, overwrite: true });
    },
  };
}
export type BrowserSessions = ReturnType<typeof createBrowserSessions>;

function requestObjectIssuerDiffers(ctx: KoaContextWithOIDC): boolean {
  const request = (ctx.oidc?.body as { request?: unknown } | undefined)?.request;
  const clientId = ctx.oidc?.client?.clientId;
  if (typeof request !== 'string' || !clientId) return false;
  try {
    return decodeJwt(request).iss !== clientId;
  } catch {
    return false;
  }
}

const REMAPPED_TO_INVALID_CLIENT = new Set(['client_id mismatch', 'invalid client_assertion format']);

interface BindableToken { jkt?: string; 'x5t#S256'?: string }

function isCurrentDpopProofJti(jti: string): boolean {
  const proof = Provider.ctx?.get('DPoP');
  if (!proof) return false;
  try {
    return decodeJwt(proof).jti === jti;
  } catch {
    return false;
  }
}

function mtlsAliases(config: Config): Record<string, string> {
  const base = (config.mtls.endpointAliasBase ?? config.issuer).replace(/\/$/, '');
  return {
    token_endpoint: `${base}${ROUTES.token}`,
    pushed_authorization_request_endpoint: `${base}${ROUTES.pushed_authorization_request}`,
    userinfo_endpoint: `${base}${ROUTES.userinfo}`,
    introspection_endpoint: `${base}${ROUTES.introspection}`,
    revocation_endpoint: `${base}${ROUTES.revocation}`,
    grant_management_endpoint: `${base}${GRANT_MANAGEMENT_PATH}`,
    backchannel_authentication_endpoint: `${base}${ROUTES.backchannel_authentication}`,
  };
}

export type { KoaContextWithOIDC };
