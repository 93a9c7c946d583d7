import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createBackchannel } from './backchannel.ts';
import type { Config } from '../config/schema.ts';
import type { Approver } from './requests.ts';

/** The routing rule only: who decides a request, and whose devices are told, with the stores faked. */
function setup(routing: 'delegates' | 'both', delegates: Array<{ id: string; delegate: string }>) {
  const created: Approver[][] = [];
  const told: string[][] = [];
  const backchannel = createBackchannel({
    config: { ciba: { delegateRouting: routing, pollIntervalSeconds: 5 } } as unknown as Config,
    requests: { create: async (input: { approvers: Approver[] }) => { created.push(input.approvers); return { id: 'req_x' }; } } as never,
    devices: { targets: async (ids: string[]) => ids.map((accountId) => ({ deviceId: `dev-${accountId}`, accountId })) } as never,
    delegations: { activeForPrincipal: async () => delegates },
    loginHints: {} as never, userCodes: {} as never, throttle: {} as never,
    dispatcher: { notify: (targets) => { told.push(targets.map((t) => t.accountId)); } },
    audit: { recordInBackground: () => {} } as never,
    clientName: async () => 'Clinic',
  });
  const request = () => backchannel.requested({ authReqId: 'a', clientId: 'c', accountId: 'child', bindingMessage: 'X', expiresAt: new Date(Date.now() + 60_000) });
  return { created, told, request };
}

describe('CIBA routing to the person or their delegates', () => {
  it('without a delegation, the person decides on their own devices', async () => {
    const s = setup('delegates', []);
    await s.request();
    assert.deepEqual(s.created[0], [{ accountId: 'child', delegationId: null }]);
    assert.deepEqual(s.told[0], ['child']);
  });

  it('with delegates and routing "delegates", only the delegates decide (one entry each)', async () => {
    const s = setup('delegates', [{ id: 'd1', delegate: 'mother' }, { id: 'd2', delegate: 'father' }, { id: 'd3', delegate: 'mother' }]);
    await s.request();
    assert.deepEqual(s.created[0], [{ accountId: 'mother', delegationId: 'd3' }, { accountId: 'father', delegationId: 'd2' }]);
    assert.deepEqual(s.told[0], ['mother', 'father']);
  });

  it('with routing "both", the person and the delegates decide', async () => {
    const s = setup('both', [{ id: 'd1', delegate: 'guardian' }]);
    await s.request();
    assert.deepEqual(s.created[0], [{ accountId: 'child', delegationId: null }, { accountId: 'guardian', delegationId: 'd1' }]);
    assert.deepEqual(s.told[0], ['child', 'guardian']);
  });
});
