import type Provider from 'oidc-provider';
import type { Config } from './config/schema.ts';
import type { Logger } from './shared/logger.ts';
import { openStorage, type Storage } from './storage/db.ts';
import { migrate } from './storage/migrate.ts';
import { purgeExpired } from './storage/oidc-adapter.ts';
import { resolveKek } from './keys/kek-source.ts';
import { createSigningKeyStore } from './keys/signing-keys.ts';
import { getOrCreateSecret } from './keys/server-secrets.ts';
import { createAccounts, type Accounts } from './identity/accounts.ts';
import { configurePasswordHashing } from './identity/password.ts';
import { createPasskeys, relyingPartyFor } from './identity/passkeys.ts';
import { createTotpStore } from './identity/totp.ts';
import { createRecoveryCodes } from './identity/recovery-codes.ts';
import { createThrottle } from './identity/throttle.ts';
import { createLoginHistory } from './identity/login-history.ts';
import { createSessions } from './identity/sessions.ts';
import { createSignIn } from './identity/sign-in.ts';
import { createMailer } from './mail/mailer.ts';
import { createEmailCodes } from './identity/email-codes.ts';
import { signupRoutes } from './ui/signup-routes.ts';
import { recoveryRoutes } from './ui/recovery-routes.ts';
import { accountRoutes } from './ui/account/routes.ts';
import { createDelegations } from './consent/delegations.ts';
import { createAccountDeletion } from './identity/account-deletion.ts';
import { createIdentityAssurance } from './identity/identity-assurance.ts';
import { createConsentLedger } from './consent/ledger.ts';
import { createReceipts } from './consent/receipts.ts';
import { createGrants, type Grants } from './consent/grants.ts';
import type { ConsentLedger } from './consent/ledger.ts';
import { createCatalogue } from './consent/catalogue.ts';
import { createGrantTerms } from './consent/grant-terms.ts';
import { createGrantEndings } from './consent/grant-endings.ts';
import { createConsentNotices } from './consent/notices.ts';
import { createAuthorizationDetailTypes } from './consent/authorization-details/registry.ts';
import { createLinkedResources } from './identity/linked-resources.ts';
import { noticeRoutes } from './ui/notice-routes.ts';
import { createAuditLog, type AuditLog } from './audit/audit-log.ts';
import { ttlMemo } from './shared/ttl-memo.ts';
import { createClientsRepository } from './storage/clients-repo.ts';
import { createBrowserSessions, createGrantWriter, createProvider } from './protocol/provider.ts';
import { createCsrf } from './http/csrf.ts';
import { securityHeaders } from './http/security-headers.ts';
import { forwardedHeadersOnlyFromProxies } from './http/forwarded-headers.ts';
import { healthRoutes } from './http/health.ts';
import { staticAssets } from './http/static-assets.ts';
import { interactionRoutes } from './ui/interaction-routes.ts';
import { createConsentSteps } from './ui/consent-steps.ts';
import { createCiba } from './ciba/wiring.ts';
import { createOutbound } from './http/outbound.ts';
import { endGrantsOfLapsedDelegations } from './consent/delegation-endings.ts';

export interface Sekisho {
  config: Config;
  provider: Provider;
  storage: Storage;
  accounts: Accounts;
  audit: AuditLog;
  /** Request handler for node:http / node:https. */
  callback: ReturnType<Provider['callback']>;
  beginShutdown(): void;
  close(): Promise<void>;
}

/** Builds a ready-to-serve Sekisho: storage migrated, keys loaded, provider configured. */
export async function createSekisho(config: Config, logger: Logger): Promise<Sekisho> {
  const storage = await openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.databasePoolSize });
  try {
    const applied = await migrate(storage.db);
    if (applied.length) logger.info('migrations applied', { applied, engine: storage.engine });

    const kek = resolveKek(config, logger);
    const keys = createSigningKeyStore(storage.db, kek);
    const audit = createAuditLog(storage.db, logger);
    const created = await keys.ensureKeys();
    if (created.length) await audit.record({ type: 'key.created', outcome: 'success', details: { kids: created } });
    const purged = await keys.purgeRetired();
    if (purged.length) await audit.record({ type: 'key.purged', outcome: 'success', details: { kids: purged } });
    const privateJwks = await keys.loadPrivateJwks();

    const cookieKey = await getOrCreateSecret(storage.db, kek, 'cookie-key');
    const csrfSecret = await getOrCreateSecret(storage.db, kek, 'csrf-secret');
    const dpopNonceSecret = Buffer.from(config.dpop.nonceSecret ?? await getOrCreateSecret(storage.db, kek, 'dpop-nonce-secret'), 'base64url');

    configurePasswordHashing({ concurrency: config.identity.passwordHashConcurrency, queue: config.identity.passwordHashQueue });
    const accounts = createAccounts(storage.db);
    const identityAssurance = createIdentityAssurance(storage.db);
    const terms = createGrantTerms(storage.db);
    const notices = createConsentNotices(storage.db, { cacheSeconds: config.clientCacheSeconds });
    const detailTypes = createAuthorizationDetailTypes(config.consent.authorizationDetailTypes);
    const ledger = createConsentLedger(storage.db, { retentionDays: config.consent.retentionDays });
    const grants = createGrants(storage.db);
    const endings = createGrantEndings({ terms, ledger, audit });
    const catalogue = createCatalogue(config.resourceServers);
    const throttle = createThrottle(storage.db);
    const clientsRepo = createClientsRepository(storage.db);
    // The name a person knows a client by (the device app, notifications), cached like clients are.
    const clientNames = ttlMemo(async (clientId: string) => String((await clientsRepo.get(clientId))?.client_name ?? clientId), config.clientCacheSeconds * 1000);
    // The service name of a client's current notice, for My consents (wrapped: "no notice" is kept too).
    const noticeNames = ttlMemo(async (clientId: string) => ({ serviceName: (await notices.current(clientId))?.content.serviceName }), config.clientCacheSeconds * 1000);
    const outbound = createOutbound(config.outbound);
    if (config.outbound.allowPrivateNetworks) logger.warn('outbound.allowPrivateNetworks is on: client endpoints and push services may be on loopback or private addresses');
    const ciba = await createCiba({ config, db: storage.db, kek, logger, audit, throttle, catalogue, detailTypes, outbound, clientName: async (clientId) => (await clientNames(clientId)) ?? clientId });
    const provider = createProvider({
      config, db: storage.db, accounts, identityAssurance, audit, logger,
      consent: {
        terms, detailTypes, noticeVersion: (clientId) => notices.currentVersion(clientId),
        grantEnded: (grantId, by, reason) => {
          endings.ended(grantId, by, by === 'subject' ? 'web' : 'api', reason).catch((err: unknown) => logger.error('recording an ended grant failed', { err }));
        },
      },
      grantManagement: grantManagementService(grants, ledger, audit),
      ciba: ciba.hooks,
      outbound,
      jwks: { keys: privateJwks as never },
      cookieKeys: [cookieKey],
      dpopNonceSecret,
    });

    let shuttingDown = false;
    if (config.trustProxy) provider.use(forwardedHeadersOnlyFromProxies(config.mtls.trustedProxies));
    provider.use(securityHeaders({ https: new URL(config.issuer).protocol === 'https:' }));
    provider.use(healthRoutes(storage.db, () => shuttingDown));
    provider.use(staticAssets);
    const passkeys = createPasskeys(storage.db, { ...relyingPartyFor(config.issuer), name: config.identity.rpName });
    const sessions = createSessions(storage.db);
    const browserSessions = createBrowserSessions(provider, config.ttl.session);
    const mailer = createMailer({ config, db: storage.db, logger });
    const totp = createTotpStore(storage.db, kek);
    const recoveryCodes = createRecoveryCodes(storage.db);
    const history = createLoginHistory(storage.db);
    const signIn = createSignIn({
      accounts, passkeys, totp, recoveryCodes, throttle, history, mailer, audit, logger, passwordsEnabled: config.identity.passwords,
    });
    const csrf = createCsrf(csrfSecret, config.issuer);
    const { signup, recovery, deletion, passwords } = config.identity;
    if (catalogue.unlabelled.length) logger.warn('API scopes without labels: the consent screen shows their names (resourceServers[].scopeLabels)', { scopes: catalogue.unlabelled });
    const receipts = createReceipts(privateJwks, { issuer: config.issuer, ...config.consent, sensitivity: { catalogue, detailTypes } });
    const consentStepDeps = {
      provider, db: storage.db, accounts, audit, ledger, catalogue, notices, terms, detailTypes,
      linked: createLinkedResources(storage.db), grants, grantWriter: createGrantWriter(provider, storage.db), operator: config.consent.controller, maxGrantDays: Math.max(1, Math.floor(config.ttl.grant / 86_400)),
    };
    provider.use(interactionRoutes({ ...consentStepDeps, csrf, passkeys, signIn, sessions, browserSessions, signupEnabled: signup, recoveryEnabled: recovery }));
    provider.use(ciba.deviceApp({ provider, accounts, passkeys, csrf, consent: createConsentSteps(consentStepDeps), operator: config.consent.controller, terms, grants }));
    provider.use(noticeRoutes({ notices, operator: config.consent.controller, catalogue, detailTypes }));
    const emailCodes = createEmailCodes(storage.db);
    provider.use(signupRoutes({
      provider, accounts, emailCodes, passkeys, signIn, sessions, browserSessions, mailer, audit, csrf, logger, enabled: signup,
    }));
    provider.use(recoveryRoutes({ accounts, emailCodes, passkeys, totp, signIn, sessions, browserSessions, mailer, audit, csrf, logger, enabled: recovery }));
    const accountDeletion = createAccountDeletion(storage.db);
    provider.use(accountRoutes({
      accounts, passkeys, totp, recoveryCodes, sessions, history, signIn, browserSessions, emailCodes, identityAssurance, ledger, receipts, grants, catalogue, detailTypes, mailer, audit, csrf, logger,
      delegations: createDelegations(storage.db),
      devices: ciba.devices, userCodes: ciba.userCodes,
      deleteAccount: (accountId, reason) => accountDeletion.deleteAccount(accountId, reason),
      // The consent screen names a client by its notice's service name when it has a notice, so My
      // consents does too: one name for one service wherever a person meets it.
      clientName: async (clientId, lang) => {
        const serviceName = (await noticeNames(clientId))?.serviceName;
        if (serviceName) return serviceName[lang];
        const client = await provider.Client.find(clientId).catch(() => undefined);
        return typeof client?.clientName === 'string' ? client.clientName : undefined;
      },
      settings: { passwords, signup, recovery, deletion, totpIssuer: config.identity.rpName },
    }));

    const purgeTimer = setInterval(() => {
      Promise.all([purgeExpired(storage.db), passkeys.purgeExpiredChallenges(), throttle.purgeExpired(), emailCodes.purgeExpired(), endings.sweepExpired(), ciba.purgeExpired(), endGrantsOfLapsedDelegations({ db: storage.db, grants, ledger })]).then(([n]) => n).then(
        (n) => { if (n) logger.debug('expired protocol records purged', { count: n }); },
        (err: unknown) => logger.error('purge failed', { err }),
      );
    }, config.purgeIntervalSeconds * 1000);
    purgeTimer.unref();

    return {
      config, provider, storage, accounts, audit,
      callback: provider.callback(),
      beginShutdown() { shuttingDown = true; },
      async close() {
        shuttingDown = true;
        clearInterval(purgeTimer);
        await ciba.close();
        await outbound.close();
        await audit.flush();
        await storage.close();
      },
    };
  } catch (err) {
    await storage.close().catch(() => {});
    throw err;
  }
}

/**
 * What the Grant Management API reads and revokes. A client's revocation is a decision about the
 * person's data too: the ledger records it like the person's own.
 */
function grantManagementService(grants: Grants, ledger: ConsentLedger, audit: AuditLog) {
  return {
    async read(grantId: string) {
      const view = await grants.managementView(grantId);
      return view && { clientId: view.clientId, body: view.body };
    },
    async revoke(grantId: string, clientId: string) {
      const revoked = await grants.revokeForClient(clientId, grantId);
      if (!revoked) return false;
      await ledger.append({
        subject: revoked.accountId, clientId, grantId, action: 'revoke', decision: 'revoked', channel: 'api',
        requested: revoked.parts, granted: { scopes: [], claims: [], resources: {}, authorizationDetails: [] },
        context: { via: 'grant_management_endpoint' },
      });
      audit.recordInBackground({ type: 'grant.revoked', outcome: 'success', clientId, subject: revoked.accountId, details: { grantId, by: 'client' } });
      return true;
    },
  };
}
