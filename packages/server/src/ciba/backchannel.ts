import type { Config } from '../config/schema.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Throttle } from '../identity/throttle.ts';
import type { CibaHooks } from '../protocol/ciba-policy.ts';
import type { LoginHints } from './login-hints.ts';
import type { CibaRequests, Approver } from './requests.ts';
import type { AuthenticationDevices } from './devices.ts';
import type { CibaUserCodes } from './user-codes.ts';
import type { DeviceMessage } from './notifiers/types.ts';

/** What routing needs of delegations: who may currently act for a person. */
export interface ActiveDelegates {
  activeForPrincipal(principal: string): Promise<Array<{ id: string; delegate: string }>>;
}

export interface NotifyDevices {
  notify(targets: Awaited<ReturnType<AuthenticationDevices['targets']>>, message: DeviceMessage): void;
}

/**
 * The server side of a new backchannel request: who decides it (the person, or their guardian or
 * proxy per ciba.delegateRouting), the row the device app lists, and the notifications to every
 * device of those who decide. Notifications go out in the background: the client's request never
 * waits for a phone.
 */
export function createBackchannel(deps: {
  config: Config; requests: CibaRequests; devices: AuthenticationDevices; delegations: ActiveDelegates;
  loginHints: LoginHints; userCodes: CibaUserCodes; throttle: Throttle; dispatcher: NotifyDevices; audit: AuditLog;
  clientName(clientId: string): Promise<string>;
}): CibaHooks & { pollGate: CibaRequests['pollGate']; settled(requestId: string, accountIds: string[]): Promise<void> } {
  const { config, requests, devices, dispatcher, audit } = deps;

  async function approversFor(principal: string): Promise<Approver[]> {
    const delegations = await deps.delegations.activeForPrincipal(principal);
    const delegates = delegations.map((d) => ({ accountId: d.delegate, delegationId: d.id }));
    // One entry per account: a person with two delegations from the same principal decides once.
    const unique = [...new Map(delegates.map((d) => [d.accountId, d])).values()];
    if (!unique.length) return [{ accountId: principal, delegationId: null }];
    return config.ciba.delegateRouting === 'both' ? [{ accountId: principal, delegationId: null }, ...unique.filter((d) => d.accountId !== principal)] : unique;
  }

  return {
    loginHints: deps.loginHints,

    async checkUserCode(accountId, code, clientId) {
      // Its own counter per person and client (an account-kind key): guessing never locks the
      // person's sign-in, and a client that guesses locks only itself out, not the others.
      const key = [`account:ciba-user-code:${accountId}:${clientId}`];
      if ((await deps.throttle.check(key)).locked) return false;
      const ok = await deps.userCodes.check(accountId, code);
      if (ok) await deps.throttle.recordSuccess(key);
      else await deps.throttle.recordFailure(key);
      return ok;
    },

    async requested(input) {
      const approvers = await approversFor(input.accountId);
      const request = await requests.create({
        authReqId: input.authReqId, clientId: input.clientId, subject: input.accountId, bindingMessage: input.bindingMessage,
        expiresAt: input.expiresAt, pollInterval: config.ciba.pollIntervalSeconds, approvers,
      });
      const targets = await devices.targets(approvers.map((a) => a.accountId));
      audit.recordInBackground({
        type: 'ciba.requested', outcome: 'success', clientId: input.clientId, subject: input.accountId,
        details: { request: request.id, approvers: approvers.map((a) => a.accountId), delegated: approvers.some((a) => a.delegationId), devices: targets.length },
      });
      dispatcher.notify(targets, {
        kind: 'request', requestId: request.id, clientName: await deps.clientName(input.clientId), bindingMessage: input.bindingMessage, expiresAt: input.expiresAt,
      });
    },

    pollGate: (authReqId, clientId) => requests.pollGate(authReqId, clientId),

    async admits(clientId, accountId) {
      return (await requests.pendingCount(clientId, accountId)) < config.ciba.maxPendingPerClientAndPerson;
    },

    /** A request was decided: the other devices drop it from their list. */
    async settled(requestId, accountIds) {
      const request = await requests.approvers(requestId);
      const targets = await devices.targets([...new Set([...request.map((a) => a.accountId), ...accountIds])]);
      dispatcher.notify(targets, { kind: 'settled', requestId, clientName: '', bindingMessage: null, expiresAt: new Date() });
    },
  };
}
export type Backchannel = ReturnType<typeof createBackchannel>;
