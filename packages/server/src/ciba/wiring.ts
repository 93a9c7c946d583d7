import type { Context } from 'koa';
import type { Kysely } from 'kysely';
import type Provider from 'oidc-provider';
import type { Config } from '../config/schema.ts';
import type { Database } from '../storage/schema.ts';
import type { Kek } from '../keys/kek.ts';
import type { Logger } from '../shared/logger.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Throttle } from '../identity/throttle.ts';
import type { Accounts } from '../identity/accounts.ts';
import type { Passkeys } from '../identity/passkeys.ts';
import type { Csrf } from '../http/csrf.ts';
import type { Catalogue } from '../consent/catalogue.ts';
import type { AuthorizationDetailTypes } from '../consent/authorization-details/registry.ts';
import type { ConsentScope } from '../consent/ledger.ts';
import { createDelegations } from '../consent/delegations.ts';
import { checkDelegatedRequest, DelegationConstraints } from '../consent/delegation-constraints.ts';
import { createBackchannelResults } from '../protocol/provider.ts';
import { createResourceServers } from '../protocol/resource-servers.ts';
import type { createConsentSteps } from '../ui/consent-steps.ts';
import { deviceAppRoutes } from '../ui/device/routes.ts';
import { createLoginHints } from './login-hints.ts';
import { createCibaRequests } from './requests.ts';
import { createAuthenticationDevices } from './devices.ts';
import { createCibaUserCodes } from './user-codes.ts';
import { createBackchannel } from './backchannel.ts';
import { createCibaApprovals, type DelegationRules } from './approvals.ts';
import { createLiveChannel } from './notifiers/live-channel.ts';
import { createNotificationDispatcher } from './notifiers/dispatcher.ts';
import { createWebPushNotifier } from './notifiers/web-push.ts';
import { createWebhookNotifier } from './notifiers/webhook.ts';
import { loadVapidKeys } from './notifiers/vapid-keys.ts';
import type { Notifier } from './notifiers/types.ts';
import type { Lang } from '../ui/i18n.ts';
import type { GrantTermsStore } from '../consent/grant-terms.ts';
import type { Grants } from '../consent/grants.ts';
import type { Outbound } from '../http/outbound.ts';

/**
 * CIBA's parts put together: the hooks the provider calls (who a request is about, user codes, a
 * new request routed and notified, the polling pace), the notifiers (live channel always, Web Push
 * and the webhook when configured), and the device app, which needs the provider to exist first.
 */
export async function createCiba(deps: {
  config: Config; db: Kysely<Database>; kek: Kek; logger: Logger; audit: AuditLog; throttle: Throttle;
  catalogue: Catalogue; detailTypes: AuthorizationDetailTypes; clientName(clientId: string): Promise<string>; outbound: Outbound;
}) {
  const { config, db, logger } = deps;
  const { notifications } = config.ciba;
  const requests = createCibaRequests(db);
  const devices = createAuthenticationDevices(db);
  const userCodes = createCibaUserCodes(db);
  const delegations = createDelegations(db);
  const live = createLiveChannel({ logger, databaseUrl: config.databaseUrl });
  await live.ready();
  const notifiers: Notifier[] = [live.notifier];
  let pushPublicKey: string | undefined;
  if (notifications.webPush) {
    const vapid = await loadVapidKeys(db, deps.kek, notifications.webPush);
    // Push endpoints come from devices: only through the outbound guard (no special-use addresses).
    notifiers.push(guarded(createWebPushNotifier({ vapid: { subject: notifications.webPush.subject, ...vapid }, timeoutMs: notifications.timeoutMs, agent: deps.outbound.httpsAgent }), deps.outbound));
    pushPublicKey = vapid.publicKey;
  }
  if (notifications.webhook) notifiers.push(createWebhookNotifier({ ...notifications.webhook, timeoutMs: notifications.timeoutMs }));
  const dispatcher = createNotificationDispatcher({
    notifiers, retries: notifications.retries, timeoutMs: notifications.timeoutMs, logger,
    onSubscriptionGone: (deviceId) => devices.setPushSubscription(deviceId, null),
  });
  const backchannel = createBackchannel({
    config, requests, devices, delegations, dispatcher, audit: deps.audit, throttle: deps.throttle,
    loginHints: createLoginHints(db, config), userCodes, clientName: deps.clientName,
  });

  const label = labeller(deps.catalogue, deps.detailTypes);
  const delegationRules: DelegationRules = {
    find: (id) => delegations.find(id),
    isActive: (id, principal, delegate) => delegations.isActive(id, principal, delegate),
    beyond(constraints, parts) {
      const parsed = DelegationConstraints.safeParse(constraints);
      // Constraints that no longer read as constraints allow nothing.
      if (!parsed.success) return ['(all)'];
      const check = checkDelegatedRequest(parsed.data, requestedOf(parts), (kind, name) => label.sensitive(kind, name));
      return check.allowed ? [] : check.beyond;
    },
  };
  const apiScopes = createResourceServers(config.resourceServers);

  return {
    hooks: backchannel,
    dispatcher,
    /** For the account pages and the CLI: a person (or the operator for them) removes a lost phone, sets the request code. */
    devices,
    userCodes,
    live,
    /** The device app's routes, once the provider (and the consent steps built on it) exist. */
    deviceApp(app: { provider: Provider; accounts: Accounts; passkeys: Passkeys; csrf: Csrf; consent: ReturnType<typeof createConsentSteps>; operator: string; terms: GrantTermsStore; grants: Grants }) {
      const approvals = createCibaApprovals({
        provider: app.provider, requests, passkeys: app.passkeys, delegations: delegationRules, consent: app.consent,
        results: createBackchannelResults(app.provider, logger, { retries: notifications.retries }), audit: deps.audit,
        apiScopes: (resource) => apiScopes.info(resource)?.scope.split(' ').filter(Boolean) ?? [],
        clientName: deps.clientName, settled: (id, accounts) => backchannel.settled(id, accounts),
        givenUnder: async (grantId) => {
          const terms = await app.terms.find(grantId);
          return terms && { delegationId: terms.delegationId };
        },
        revokeGrant: async (accountId, grantId) => { await app.grants.revoke(accountId, grantId); },
      });
      return deviceAppRoutes({
        devices, requests, approvals, passkeys: app.passkeys, accounts: app.accounts, csrf: app.csrf, audit: deps.audit,
        catalogue: deps.catalogue, detailTypes: deps.detailTypes, operator: app.operator,
        openLiveChannel: (ctx: Context, target) => live.open(ctx, target),
        pushPublicKey, allowLoopbackPush: config.outbound.allowPrivateNetworks, checkOutboundUrl: deps.outbound.checkUrl, clientName: deps.clientName, labelItem: label.of,
      });
    },
    purgeExpired: () => requests.purgeExpired(),
    async close() {
      await live.close();
    },
  };
}

/**
 * A push endpoint given as an IP literal is never resolved, so the agent's lookup guard does not
 * see it: it is checked here before every delivery (a subscription stored before a policy change too).
 */
function guarded(notifier: Notifier, outbound: Outbound): Notifier {
  return {
    channel: notifier.channel,
    reaches: (target) => notifier.reaches(target),
    async deliver(target, message, signal) {
      if (target.push) outbound.checkUrl(target.push.endpoint);
      return notifier.deliver(target, message, signal);
    },
  };
}

function requestedOf(parts: ConsentScope) {
  return {
    scopes: parts.scopes, resourceScopes: Object.values(parts.resources).flat(), claims: parts.claims,
    authorizationDetailTypes: parts.authorizationDetails.map((d) => String(d.type)),
  };
}

/** Items in words for the person ("scope:email" → its catalogue label) and their sensitivity. */
function labeller(catalogue: Catalogue, detailTypes: AuthorizationDetailTypes) {
  return {
    sensitive(kind: 'scope' | 'claim' | 'authorization_details', name: string): boolean {
      if (kind === 'authorization_details') return detailTypes.get(name)?.label.sensitive ?? true;
      return (kind === 'scope' ? catalogue.scope(name) : catalogue.claim(name)).sensitive;
    },
    of(lang: Lang, item: string): string {
      const [ref, note] = item.split(' (');
      const at = ref!.indexOf(':');
      const kind = ref!.slice(0, at);
      const name = ref!.slice(at + 1);
      const words = kind === 'authorization_details' ? detailTypes.get(name)?.label.short[lang] ?? name
        : kind === 'scope' ? catalogue.scope(name).short[lang] : kind === 'claim' ? catalogue.claim(name).short[lang] : ref!;
      return note ? `${words} (${note}` : words;
    },
  };
}
