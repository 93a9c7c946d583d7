import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Passkeys } from '../identity/passkeys.ts';
import { PasskeyError } from '../identity/passkeys.ts';
import { requiredLevel, type Achieved } from '../identity/assurance.ts';
import type { ConsentScope } from '../consent/ledger.ts';
import { grantedParts, type ConsentRequest } from '../consent/consent-request.ts';
import type { ConsentSubject, createConsentSteps } from '../ui/consent-steps.ts';
import type { Lang } from '../ui/i18n.ts';
import type { BackchannelResults } from '../protocol/provider.ts';
import type { AuthenticationDevice } from './devices.ts';
import type { CibaRequest, CibaRequests } from './requests.ts';
import { cibaConsentSubject, type StoredBackchannelRequest } from './consent-subject.ts';

/** What an approval needs to know of a delegation. */
export interface DelegationView {
  id: string;
  principal: string;
  delegate: string;
  relationship: string;
  constraints: unknown;
}

export interface DelegationRules {
  find(id: string): Promise<DelegationView | undefined>;
  /** Active right now (status, validity window): an ended delegation stops approvals at once. */
  isActive(id: string, principal: string, delegate: string): Promise<boolean>;
  /** The parts of a grant outside the delegation's constraints (none: within them). */
  beyond(constraints: unknown, parts: ConsentScope): string[];
}

/** One request as the device app shows it to the account that may decide it. */
export interface ApprovalView {
  request: CibaRequest;
  subject: ConsentSubject;
  consent: ConsentRequest;
  clientName: string;
  delegation?: DelegationView | undefined;
  /** What the request asks beyond the delegation's constraints (the delegate must untick it, or deny). */
  beyond: string[];
}

export type ApprovalOutcome =
  | { kind: 'approved' | 'denied' }
  | { kind: 'not-found' | 'decided' | 'expired' }
  | { kind: 'shown-again' };

type ConsentSteps = ReturnType<typeof createConsentSteps>;

/**
 * Deciding a backchannel request on an authentication device. Approve needs a fresh passkey
 * assertion (user verification) by the account the device belongs to, strong enough for the
 * request's acr_values; a delegate's approval is re-checked against the delegation at that moment
 * and can never grant beyond its constraints. The decision is taken by one UPDATE (two devices
 * deciding at once: one wins), recorded in the consent ledger with channel ciba (principal and
 * actor), and completes the request for the client.
 */
export function createCibaApprovals(deps: {
  provider: Provider; requests: CibaRequests; passkeys: Passkeys; delegations: DelegationRules; consent: ConsentSteps;
  results: BackchannelResults; audit: AuditLog; apiScopes(resource: string): string[]; clientName(clientId: string): Promise<string>;
  settled(requestId: string, accountIds: string[]): Promise<void>;
  /** Who gave an existing grant (Grant Management merge/replace): a delegation's grant is its delegate's to change, the person's own is theirs. */
  givenUnder(grantId: string): Promise<{ delegationId: string | null } | undefined>;
  /** Ends a grant just written for a request that expired meanwhile. */
  revokeGrant(accountId: string, grantId: string): Promise<void>;
}) {
  const { requests, audit } = deps;
  const passkeyBinding = (requestId: string, device: AuthenticationDevice) => `ciba:${requestId}:${device.id}`;

  async function load(device: AuthenticationDevice, requestId: string): Promise<ApprovalView | { kind: 'not-found' | 'decided' | 'expired' }> {
    if (!/^req_[A-Za-z0-9_-]{22}$/.test(requestId)) return { kind: 'not-found' };
    // Another account's device (or a delegate whose delegation did not route this request) sees nothing.
    const row = await requests.forApprover(requestId, device.accountId);
    if (!row) return { kind: 'not-found' };
    if (row.status !== 'pending') return { kind: 'decided' };
    if (row.expiresAt.getTime() <= Date.now()) return { kind: 'expired' };
    const stored = await deps.provider.BackchannelAuthenticationRequest.find(row.authReqId) as unknown as StoredBackchannelRequest | undefined;
    if (!stored) return { kind: 'expired' };
    const delegation = row.delegationId ? await deps.delegations.find(row.delegationId) : undefined;
    // A delegate whose delegation ended (or lapsed) sees nothing of the person any more, and decides nothing.
    if (row.delegationId && (!delegation || !(await deps.delegations.isActive(row.delegationId, row.subject, device.accountId)))) return { kind: 'not-found' };
    const subject = cibaConsentSubject({
      request: stored, uid: row.id, apiScopes: deps.apiScopes,
      actor: row.delegationId ? { accountId: device.accountId, delegationId: row.delegationId } : undefined,
    });
    const clientName = await deps.clientName(row.clientId);
    const consent = await deps.consent.request(subject, clientName);
    const beyond = delegation ? deps.delegations.beyond(delegation.constraints, everything(consent)) : [];
    return { request: row, subject, consent, clientName, delegation, beyond };
  }

  return {
    view: load,

    /** Options for the passkey prompt of one approval: only the device's account's passkeys, user verification required. */
    async passkeyOptions(device: AuthenticationDevice, requestId: string) {
      const view = await load(device, requestId);
      if (!('request' in view)) return undefined;
      return deps.passkeys.authenticationOptions({ binding: passkeyBinding(requestId, device), accountId: device.accountId });
    },

    async approve(input: { ctx: Context; device: AuthenticationDevice; requestId: string; form: URLSearchParams; lang: Lang; csrf: string; render: (view: ApprovalView, shown: string, problem?: string) => string }): Promise<ApprovalOutcome> {
      const { device, requestId, form } = input;
      const view = await load(device, requestId);
      if (!('request' in view)) return view;
      let assurance: Achieved | undefined;
      const subject: ConsentSubject = view.subject;
      const grantId = await deps.consent.confirm({
        ctx: input.ctx, subject, lang: input.lang, clientName: view.clientName, csrf: input.csrf,
        render: (request, shown, problem) => input.render({ ...view, consent: request }, shown, problem),
        guard: async (request, decision) => {
          // The passkey comes last among the person's inputs, so a form problem never wastes it.
          const response = parseAssertion(form.get('assertion'));
          if (!response) return 'ciba.passkey';
          try {
            assurance = (await deps.passkeys.authenticate({ binding: passkeyBinding(requestId, device), response, accountId: device.accountId })).assurance;
          } catch (err) {
            if (err instanceof PasskeyError) {
              audit.recordInBackground({ type: 'ciba.passkey_failed', outcome: 'failure', subject: device.accountId, ip: input.ctx.ip, details: { request: requestId, reason: err.reason } });
              return 'ciba.passkey';
            }
            throw err;
          }
          if (assurance.level < requiredLevel(subject.params)) return 'ciba.stronger';
          if (view.delegation) {
            if (!(await deps.delegations.isActive(view.delegation.id, view.request.subject, device.accountId))) return 'ciba.delegation_ended';
            if (deps.delegations.beyond(view.delegation.constraints, grantedParts(request, decision)).length) return 'ciba.beyond';
          }
          // A merge or replace changes a grant only by whoever gave it: the person their own, a
          // delegate one given under their delegation (so `act` and its ending stay true).
          if (subject.grantId && request.action !== 'create') {
            const given = await deps.givenUnder(subject.grantId);
            if ((given?.delegationId ?? null) !== (view.delegation?.id ?? null)) return 'ciba.not_your_grant';
          }
          subject.acr = assurance.acr;
          // The decision itself: of two devices deciding at once, one wins; an expired request is nobody's.
          return (await requests.decide(requestId, { status: 'approved', by: device.accountId, deviceId: device.id })) ? undefined : 'ciba.decided';
        },
      }, form).catch(async (err: unknown) => {
        // Decided but not written (a database failure): the request is open again, not stuck.
        await requests.undecide(requestId).catch(() => {});
        throw err;
      });
      if (grantId === undefined) return { kind: 'shown-again' };
      if (grantId === 'already-decided') return { kind: 'decided' };
      if (grantId === 'gone') {
        await deps.results.deny(view.request.authReqId, 'the grant to add to was withdrawn meanwhile');
        return { kind: 'decided' };
      }
      const grant = await deps.provider.Grant.find(grantId) as unknown as { rar?: unknown[] } | undefined;
      await requests.recordGrant(requestId, grantId);
      if (!(await deps.results.approve(view.request.authReqId, grantId, { acr: assurance!.acr, amr: assurance!.amr, authTime: Math.floor(Date.now() / 1000), rar: grant?.rar }))) {
        // The request expired in the last moment: nobody can fetch this grant's tokens; it ends now.
        await deps.revokeGrant(view.request.subject, grantId);
        return { kind: 'expired' };
      }
      audit.recordInBackground({
        type: 'ciba.approved', outcome: 'success', clientId: view.request.clientId, subject: view.request.subject, ip: input.ctx.ip,
        details: { request: requestId, grantId, device: device.id, ...(view.delegation ? { actor: device.accountId, delegation: view.delegation.id } : {}) },
      });
      await deps.settled(requestId, [device.accountId]);
      return { kind: 'approved' };
    },

    /** One tap: no passkey needed to say no. Recorded in the ledger like an approval. */
    async deny(input: { ctx: Context; device: AuthenticationDevice; requestId: string; lang: Lang; csrf: string }): Promise<ApprovalOutcome> {
      const view = await load(input.device, input.requestId);
      if (!('request' in view)) return view;
      if (!(await requests.decide(input.requestId, { status: 'denied', by: input.device.accountId, deviceId: input.device.id }))) return { kind: 'decided' };
      await deps.consent.deny({ ctx: input.ctx, subject: view.subject, lang: input.lang, clientName: view.clientName, csrf: input.csrf });
      await deps.results.deny(view.request.authReqId, view.delegation ? 'the person\'s representative denied the request' : 'the person denied the request');
      audit.recordInBackground({
        type: 'ciba.denied', outcome: 'success', clientId: view.request.clientId, subject: view.request.subject, ip: input.ctx.ip,
        details: { request: input.requestId, device: input.device.id, ...(view.delegation ? { actor: input.device.accountId, delegation: view.delegation.id } : {}) },
      });
      await deps.settled(input.requestId, [input.device.accountId]);
      return { kind: 'denied' };
    },
  };
}
export type CibaApprovals = ReturnType<typeof createCibaApprovals>;

/** Everything a request asks, as grant parts (for the constraints check before the person chooses). */
function everything(request: ConsentRequest): ConsentScope {
  const resources: Record<string, string[]> = {};
  for (const i of request.items) if (i.kind === 'resource') (resources[i.resource!] ??= []).push(i.name);
  return {
    scopes: request.items.filter((i) => i.kind === 'scope').map((i) => i.name),
    claims: request.items.filter((i) => i.kind === 'claim' || i.kind === 'verified').map((i) => i.name),
    resources, authorizationDetails: request.details.map((d) => d.detail),
  };
}

function parseAssertion(value: string | null): AuthenticationResponseJSON | undefined {
  if (!value || value.length > 20_000) return undefined;
  try {
    const parsed = JSON.parse(value) as unknown;
    return typeof parsed === 'object' && parsed !== null && typeof (parsed as { id?: unknown }).id === 'string' ? parsed as AuthenticationResponseJSON : undefined;
  } catch {
    return undefined;
  }
}
