import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { randomBytes } from 'node:crypto';
import type { Accounts } from '../identity/accounts.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Lang } from './i18n.ts';
import { consentPage } from './consent-page.ts';
import { DecisionAlreadyRecordedError, shownHash, type ConsentLedger } from '../consent/ledger.ts';
import type { Catalogue } from '../consent/catalogue.ts';
import type { ConsentNotices } from '../consent/notices.ts';
import { noticeRef } from '../consent/notices.ts';
import type { GrantTermsStore } from '../consent/grant-terms.ts';
import { partsOf, type GrantPayload, type Grants } from '../consent/grants.ts';
import type { GrantModel, GrantWriter } from '../protocol/provider.ts';
import type { AuthorizationDetailTypes } from '../consent/authorization-details/registry.ts';
import type { LinkedResources } from '../identity/linked-resources.ts';
import { buildConsentRequest, grantedParts, readDecision, requestedParts, type ConsentDecision, type ConsentRequest, type PromptDetails } from '../consent/consent-request.ts';
import { CONSENTED_PREFIX, consentedVerifiedClaims, verifiedClaimsAskedFor } from '../identity/verified-claims.ts';
import { deleteGrantTokens } from '../storage/oidc-adapter.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface ConsentStepDeps {
  provider: Provider;
  db: Kysely<Database>;
  accounts: Accounts;
  audit: AuditLog;
  ledger: ConsentLedger;
  catalogue: Catalogue;
  notices: ConsentNotices;
  terms: GrantTermsStore;
  detailTypes: AuthorizationDetailTypes;
  linked: LinkedResources;
  grants: Grants;
  grantWriter: GrantWriter;
  /** The organisation running this server, named on the screen as "not the third party". */
  operator: string;
  /** The longest ongoing access a person can allow (days). */
  maxGrantDays: number;
}

/**
 * Who decides what, wherever the screen is shown: a browser interaction (web) or a backchannel
 * request on the person's authentication device (ciba).
 */
export interface ConsentSubject {
  /** One decision per uid: the interaction, or the CIBA request. */
  uid: string;
  /** The person the grant is for (the principal when a delegate decides). */
  accountId: string;
  acr?: string | undefined;
  grantId?: string | undefined;
  params: Record<string, unknown>;
  prompt: { details: PromptDetails; reasons: string[] };
  channel: 'web' | 'ciba';
  /** A delegate deciding for the person (guardian or proxy consent). */
  actor?: { accountId: string; delegationId: string } | undefined;
  bindingMessage?: string | undefined;
  /** A backchannel request is allowed once, unless it asks for ongoing access (offline_access). */
  onceUnlessOffline?: boolean | undefined;
}

/** The subject of a browser interaction. */
export function subjectOfInteraction(details: Details): ConsentSubject {
  return {
    uid: details.uid, accountId: details.session!.accountId, acr: details.session?.acr, grantId: details.grantId,
    params: details.params, prompt: { details: details.prompt.details as PromptDetails, reasons: details.prompt.reasons }, channel: 'web',
  };
}

export interface ConsentStep {
  ctx: Context; subject: ConsentSubject; lang: Lang; clientName: string; csrf: string;
  /** Renders the screen elsewhere than the interaction pages (the device app). */
  render?: (request: ConsentRequest, shown: string, problem?: string) => string;
  /**
   * Runs after the decision was read and before it is recorded: a problem shows the screen again
   * and records nothing (a delegate beyond their constraints, a request decided elsewhere).
   */
  guard?: (request: ConsentRequest, decision: ConsentDecision) => Promise<string | undefined>;
}

/** How long a one-time grant may wait for its code to be redeemed (the code itself lives 60 s). */
const ONE_TIME_GRANT_SECONDS = 600;

/**
 * The consent prompt: the screen, the person's decision read against exactly what it showed, the
 * ledger record (first, so of two racing posts only one decides), then the grant and its terms.
 */
export function createConsentSteps(deps: ConsentStepDeps) {
  const { provider, ledger, terms, audit } = deps;
  const detailType = (type: string) => deps.detailTypes.get(type);

  async function requestFor(details: ConsentSubject, clientName: string): Promise<ConsentRequest> {
    const { accountId } = details;
    const clientId = String(details.params.client_id);
    const [account, notice, stored, existingTerms] = await Promise.all([
      // "Signed in as": the one deciding (a delegate deciding for the person is named as themself).
      deps.accounts.findById(details.actor?.accountId ?? accountId),
      deps.notices.current(clientId),
      details.grantId ? provider.Grant.find(details.grantId) : undefined,
      details.grantId ? terms.find(details.grantId) : undefined,
    ]);
    const gm = details.params.grant_management_action;
    const prompt = details.prompt.details;
    const nothingMissing = !prompt.missingOIDCScope?.length && !prompt.missingOIDCClaims?.length && !Object.keys(prompt.missingResourceScopes ?? {}).length && !prompt.rar?.length;
    const action = gm === 'create' || gm === 'replace' || gm === 'merge' ? gm
      : stored ? (nothingMissing && details.prompt.reasons.includes('notice_changed') ? 'reconsent' : 'merge') : 'create';
    // The verified claims asked for that this client was not allowed before (each is consented by name).
    const allowed = new Set(action === 'replace' ? [] : consentedVerifiedClaims((stored as { openid?: { claims?: string[] } } | undefined)?.openid?.claims));
    return buildConsentRequest({
      clientId, clientName, username: account?.username ?? '', action, prompt,
      verifiedClaims: verifiedClaimsAskedFor(details.params.claims as string | undefined).filter((c) => !allowed.has(c.claim)),
      existing: stored ? partsOf(stored as unknown as GrantPayload) : undefined,
      existingDuration: existingTerms?.duration,
      existingNoticeVersion: existingTerms ? existingTerms.noticeVersion : undefined,
      notice: notice ? { version: notice.version, content: notice.content } : undefined,
      catalogue: deps.catalogue, detailType, linked: deps.linked.forAccount(accountId), maxGrantDays: deps.maxGrantDays,
      onceUnlessOffline: details.onceUnlessOffline,
    });
  }

  function render(step: ConsentStep, request: ConsentRequest, problem?: string) {
    step.ctx.status = problem ? 400 : 200;
    step.ctx.type = 'html';
    step.ctx.body = step.render ? step.render(request, shownHash(request), problem) : consentPage(step.lang, {
      uid: step.subject.uid, csrf: step.csrf, shown: shownHash(request), request, catalogue: deps.catalogue, detailType, operator: deps.operator, problem,
    });
  }

  function recordInput(step: ConsentStep, request: ConsentRequest) {
    const { subject: details, ctx, lang } = step;
    return {
      subject: details.accountId, clientId: request.clientId, channel: details.channel, shown: request,
      ...(details.actor ? { actor: details.actor.accountId } : {}),
      noticeVersion: request.notice ? noticeRef(request.clientId, request.notice.version) : undefined,
      requested: requestedParts(request),
      context: {
        ip: ctx.ip, userAgent: ctx.get('user-agent').slice(0, 300), acr: details.acr, lang, interaction: details.uid,
        ...(request.action === 'reconsent' ? { reconsent: true } : {}),
        ...(details.bindingMessage !== undefined ? { bindingMessage: details.bindingMessage } : {}),
        ...(details.actor ? { delegation: details.actor.delegationId } : {}),
      },
    };
  }

  return {
    async show(step: ConsentStep) {
      render(step, await requestFor(step.subject, step.clientName));
    },

    /** What the screen asks, for a caller that renders it itself (the device app's list). */
    request: (subject: ConsentSubject, clientName: string) => requestFor(subject, clientName),

    /**
     * A denial is a decision too: the ledger keeps it, with what was shown. Refusing a client's new
     * notice ends the grant held under the old one: the client may not go on as if nothing changed.
     */
    async deny(step: ConsentStep): Promise<'recorded' | 'already-decided'> {
      const request = await requestFor(step.subject, step.clientName);
      const recorded = await ledger.append({
        ...recordInput(step, request), ...(step.subject.grantId ? { grantId: step.subject.grantId } : {}),
        action: ledgerAction(request), decision: 'denied', granted: { scopes: [], claims: [], resources: {}, authorizationDetails: [] },
      }).catch(alreadyDecided);
      if (recorded && (request.action === 'reconsent' || request.noticeChanged) && step.subject.grantId) {
        const ended = await deps.grants.revoke(step.subject.accountId, step.subject.grantId);
        if (ended) {
          await ledger.append({
            ...recordInput(step, request), grantId: ended.id, action: 'revoke', decision: 'revoked', requested: ended.parts,
            granted: { scopes: [], claims: [], resources: {}, authorizationDetails: [] },
            // Not the screen's decision (that is the denial above): no interaction id, which is one decision per screen.
            context: { ...withoutInteraction(recordInput(step, request).context), reason: 'new notice declined', after: recorded.id },
          });
        }
      }
      return recorded ? 'recorded' : 'already-decided';
    },

    /**
     * Returns the grant id, 'already-decided', 'gone' (the grant was withdrawn while the screen was
     * open), or undefined after showing the screen again with what is missing.
     */
    async confirm(step: ConsentStep, form: URLSearchParams): Promise<string | 'already-decided' | 'gone' | undefined> {
      const { subject: details } = step;
      const request = await requestFor(details, step.clientName);
      // The decision is read against the screen the person saw: if the notice, their accounts or
      // the grant changed since, they see the new screen and decide again.
      if (form.getAll('shown').length !== 1 || form.get('shown') !== shownHash(request)) {
        render(step, request, 'consent.changed');
        return undefined;
      }
      const decision = readDecision(request, form, detailType);
      if (typeof decision === 'string') {
        render(step, request, decision);
        return undefined;
      }
      const refused = await step.guard?.(request, decision);
      if (refused) {
        render(step, request, refused);
        return undefined;
      }
      const { accountId } = details;
      const grantId = request.action === 'create' ? randomBytes(32).toString('base64url') : details.grantId!;
      const recorded = await ledger.append({
        ...recordInput(step, request), grantId, action: ledgerAction(request),
        decision: decision.declined.length || decision.declinedDetails.length || (request.duration.ongoingOffered && decision.duration === 'once') ? 'partial' : 'approved',
        granted: grantedParts(request, decision),
      }).catch(alreadyDecided);
      if (!recorded) return 'already-decided';

      if (request.action === 'create') {
        // High entropy and nothing personal: it is also the grant_id clients see.
        const grant = new provider.Grant({ jti: grantId, accountId, clientId: request.clientId } as never) as GrantModel;
        applyDecision(grant, request, details, decision);
        grant.exp = Math.floor(Date.now() / 1000) + (decision.duration === 'once' ? ONE_TIME_GRANT_SECONDS : decision.days! * 86_400);
        await grant.save();
      } else {
        const outcome = await deps.grantWriter.update(grantId, (grant) => {
          if (request.action === 'replace') { grant.openid = undefined; grant.resources = undefined; grant.rar = undefined; grant.rejected = undefined; }
          applyDecision(grant, request, details, decision);
        });
        if (outcome === 'gone') return 'gone';
        // Grant Management: a merge or replace ends the tokens issued under the grant before it.
        if (request.action === 'merge' || request.action === 'replace') await deleteGrantTokens(deps.db, grantId);
      }
      const saved = await provider.Grant.find(grantId) as (GrantModel & GrantPayload) | undefined;
      await terms.record({
        id: grantId, accountId, clientId: request.clientId,
        duration: request.action === 'create' ? decision.duration : request.duration.fixed ?? 'ongoing',
        parts: saved ? partsOf(saved) : grantedParts(request, decision), noticeVersion: request.notice?.version ?? null,
        expiresAt: saved?.exp ? new Date(saved.exp * 1000) : null,
        ...(details.actor ? { actor: details.actor.accountId, delegationId: details.actor.delegationId } : {}),
      });
      audit.recordInBackground({
        type: 'consent.granted', outcome: 'success', clientId: request.clientId, subject: accountId, ip: step.ctx.ip,
        details: { grantId, action: request.action, duration: decision.duration, declined: decision.declined.map((i) => i.key), channel: details.channel, ...(details.actor ? { actor: details.actor.accountId } : {}) },
      });
      return grantId;
    },
  };
}

/** Adds exactly what was granted; what was declined is recorded as rejected, so it is not asked again in this authorization. */
function applyDecision(grant: GrantModel, request: ConsentRequest, details: ConsentSubject, decision: ConsentDecision) {
  const prompt = details.prompt.details;
  const asked = prompt.missingOIDCScope ?? [];
  if (asked.includes('openid')) grant.addOIDCScope('openid');
  // On a new grant, ongoing access is the duration question; on an existing one it is an item of its own.
  if (request.action === 'create' && asked.includes('offline_access')) {
    if (decision.duration === 'ongoing') grant.addOIDCScope('offline_access');
    else grant.rejectOIDCScope('offline_access');
  }
  // Granted now after being declined before: no longer declined.
  for (const i of decision.granted) unreject(grant, i);
  for (const i of decision.granted) {
    if (i.kind === 'scope') grant.addOIDCScope(i.name);
    else if (i.kind === 'claim') grant.addOIDCClaims([i.name]);
    else if (i.kind === 'verified') grant.addOIDCClaims(['verified_claims', `${CONSENTED_PREFIX}${i.name}`]);
    else grant.addResourceScope(i.resource!, i.name);
  }
  for (const i of decision.declined) {
    if (i.kind === 'scope') grant.rejectOIDCScope(i.name);
    else if (i.kind === 'claim') grant.rejectOIDCClaims([i.name]);
    else if (i.kind === 'resource') grant.rejectResourceScope(i.resource!, i.name);
  }
  // verified_claims as a whole: released only for names allowed; if none was, it is declined.
  if ((prompt.missingOIDCClaims ?? []).includes('verified_claims') && !decision.granted.some((i) => i.kind === 'verified')) {
    grant.rejectOIDCClaims(['verified_claims']);
  }
  for (const d of decision.details) grant.addRar(d as { type: string });
}

function withoutInteraction(context: Record<string, unknown>): Record<string, unknown> {
  const { interaction: _screen, ...rest } = context;
  return rest;
}

function unreject(grant: GrantModel, item: ConsentDecision['granted'][number]) {
  const rejected = grant.rejected as { openid?: { scope?: string; claims?: string[] }; resources?: Record<string, string> } | undefined;
  if (!rejected) return;
  const without = (words: string | undefined, word: string) => words?.split(' ').filter((w) => w && w !== word).join(' ') || undefined;
  if (item.kind === 'scope' && rejected.openid) rejected.openid.scope = without(rejected.openid.scope, item.name);
  if (item.kind === 'claim' && rejected.openid?.claims) rejected.openid.claims = rejected.openid.claims.filter((c) => c !== item.name);
  if (item.kind === 'verified' && rejected.openid?.claims) rejected.openid.claims = rejected.openid.claims.filter((c) => c !== 'verified_claims');
  if (item.kind === 'resource' && rejected.resources?.[item.resource!] !== undefined) {
    const left = without(rejected.resources[item.resource!], item.name);
    if (left) rejected.resources[item.resource!] = left;
    else delete rejected.resources[item.resource!];
  }
}

function ledgerAction(request: ConsentRequest): 'create' | 'merge' | 'replace' {
  return request.action === 'reconsent' ? 'merge' : request.action;
}

/** Null when the screen already had its decision (a racing post); anything else is rethrown. */
function alreadyDecided(err: unknown): null {
  if (err instanceof DecisionAlreadyRecordedError) return null;
  throw err;
}
