/**
 * Guardian and proxy consent over CIBA (consent.md delegations): a request for a child goes to
 * the parent's phone, the screen says on whose behalf, the ledger names principal and actor, the
 * tokens carry `act`; a delegate can never allow more than the constraints, and an ended
 * delegation stops approvals at once and ends what was given under it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { decodeJwt } from 'jose';
import { startTestServer, type TestServer } from './support/server.ts';
import { createTestUser, type TestUser } from './support/users.ts';
import { addPasskey, linkDevice, nextRequest, type LinkedDevice } from './support/device.ts';
import { registerCibaClient, startCiba, pollOnce, pollError } from './support/ciba.ts';
import { discover } from './support/flow.ts';
import type { TestClient } from './support/clients.ts';
import { createDelegations } from '../src/consent/delegations.ts';
import { endDelegation, endGrantsOfLapsedDelegations } from '../src/consent/delegation-endings.ts';
import { createGrants } from '../src/consent/grants.ts';
import { createConsentLedger } from '../src/consent/ledger.ts';
import { createLinkedResources } from '../src/identity/linked-resources.ts';

const RS = 'https://records.example.jp/fhir';
const FHIR = JSON.stringify([{ type: 'fhir_record_access', resource_types: ['Patient', 'Observation'], actions: ['read', 'search'] }]);
let server: TestServer;
let as: oauth.AuthorizationServer;
let tc: TestClient;
let child: TestUser;
let parent: TestUser;
let childPhone: LinkedDevice;
let parentPhone: LinkedDevice;
let delegationId: string;

before(async () => {
  server = await startTestServer({
    config: {
      ciba: { pollIntervalSeconds: 1, loginHint: ['username'], maxPendingPerClientAndPerson: 50 },
      resourceServers: [{ identifier: RS, scopes: ['patient/Observation.read'], accessTokenFormat: 'jwt' }],
    },
  });
  tc = await registerCibaClient(server, 'poll', { authorization_details_types: ['fhir_record_access'] });
  as = await discover(server, tc);
  child = await createTestUser(server, { name: '架空 こども' });
  parent = await createTestUser(server, { name: '架空 おや' });
  await createLinkedResources(server.app.storage.db).add({ accountId: child.id, kind: 'fhir_patient', ref: 'p-child-1', label: '架空 こども (2018-05-05)' });
  childPhone = await linkDevice(server, await addPasskey(server, child.id, child.username), 'Child tablet');
  parentPhone = await linkDevice(server, await addPasskey(server, parent.id, parent.username), 'Parent phone');
  const d = await createDelegations(server.app.storage.db).register({
    principal: child.id, delegate: parent.id, relationship: 'parent', evidence: '戸籍謄本 2026-11-01 #A-123', verifiedBy: '窓口 佐藤',
    verifiedAt: new Date(), constraints: { scopes: ['patient/Observation.read'], authorizationDetailTypes: ['fhir_record_access'] }, validFrom: new Date(Date.now() - 60_000),
  });
  delegationId = d.id;
});
after(() => server.close());

const next = (device: LinkedDevice) => nextRequest(device);

describe('guardian consent over CIBA', () => {
  it('the request goes to the parent\'s phone, which decides for the child; the tokens carry act and the ledger names both', async () => {
    const started = await startCiba(as, server, tc, { login_hint: child.username, binding_message: 'OYA-1', resource: RS, authorization_details: FHIR });
    const id = await next(parentPhone);
    assert.deepEqual(await childPhone.pending(), [], 'routed to the delegate only (ciba.delegateRouting = delegates)');
    const page = await parentPhone.page(id);
    assert.match(page.body, /deciding for 架空 こども, as parent|架空 こども さんの親権者として判断します/);
    assert.match(page.body, /架空 こども \(2018-05-05\)/, 'the child\'s own patient record is offered');
    const approved = await parentPhone.approve(id);
    assert.equal(approved.status, 200, approved.body);

    await new Promise((r) => setTimeout(r, 1100));
    const tokens = await pollOnce(as, tc, started.auth_req_id);
    const access = decodeJwt(tokens.access_token);
    assert.equal(access.sub, child.id);
    assert.deepEqual(access.act, { sub: parent.id });
    assert.deepEqual(decodeJwt(tokens.id_token!).act, { sub: parent.id });
    const granted = (tokens.authorization_details as Array<{ patient?: { ref?: string } }> | undefined)?.[0];
    assert.equal(granted?.patient?.ref, 'p-child-1');

    const records = await server.app.storage.db.selectFrom('consent_records').selectAll().where('subject', '=', child.id).where('channel', '=', 'ciba').execute();
    const approval = records.find((r) => r.decision === 'approved');
    assert.equal(approval?.actor, parent.id);
    assert.equal((approval?.context as { delegation?: string }).delegation, delegationId);
    const terms = await server.app.storage.db.selectFrom('consent_grants').select(['actor', 'delegation_id']).where('id', '=', String(tokens.grant_id)).executeTakeFirstOrThrow();
    assert.deepEqual(terms, { actor: parent.id, delegation_id: delegationId });
    const grants = await createGrants(server.app.storage.db).listEnded(child.id);
    assert.equal(grants.find((g) => g.id === String(tokens.grant_id))?.actor, parent.id, 'My consents can say who gave it');
  });

  it('a delegate cannot change a consent the child gave themself (Grant Management merge): nothing is granted', async () => {
    // The child's own ongoing consent, given while no delegation routes requests away from them.
    const db = server.app.storage.db;
    await db.updateTable('delegations').set({ status: 'ended', ended_at: new Date(), ended_by: 'operator', end_reason: 'paused for the test' }).where('id', '=', delegationId).execute();
    const own = await startCiba(as, server, tc, { login_hint: child.username, binding_message: 'SELF', scope: 'openid offline_access' });
    assert.equal((await childPhone.approve(await next(childPhone), { duration: 'ongoing' })).status, 200);
    await db.updateTable('delegations').set({ status: 'active', ended_at: null, ended_by: null, end_reason: null }).where('id', '=', delegationId).execute();
    await new Promise((r) => setTimeout(r, 1100));
    const grantId = String((await pollOnce(as, tc, own.auth_req_id)).grant_id);

    const merge = await startCiba(as, server, tc, { login_hint: child.username, binding_message: 'MERGE', resource: RS, authorization_details: FHIR, grant_management_action: 'merge', grant_id: grantId });
    const id = await next(parentPhone);
    const refused = await parentPhone.approve(id);
    assert.equal(refused.status, 400);
    assert.match(refused.body, /someone else gave|別の方が行った同意/);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(await pollError(as, tc, merge.auth_req_id), 'authorization_pending');
    await parentPhone.deny(id);
  });

  it('a delegate cannot allow what the delegation does not cover: the screen says so and an approval grants nothing', async () => {
    const started = await startCiba(as, server, tc, { login_hint: child.username, binding_message: 'OYA-2', scope: 'openid email' });
    const id = await next(parentPhone);
    const page = await parentPhone.page(id);
    assert.match(page.body, /As parent you cannot allow|親権者として許可できないもの/);
    const refused = await parentPhone.approve(id);
    assert.equal(refused.status, 400);
    assert.match(refused.body, /authority does not cover|権限の範囲外/);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(await pollError(as, tc, started.auth_req_id), 'authorization_pending');
    await parentPhone.deny(id);
  });

  it('an ended delegation stops an approval at once, new requests go to the child, and the grants given under it end', async () => {
    const pending = await startCiba(as, server, tc, { login_hint: child.username, binding_message: 'OYA-3', resource: RS, authorization_details: FHIR });
    const id = await next(parentPhone);
    const db = server.app.storage.db;
    const given = await db.selectFrom('consent_grants').select(['id', 'status']).where('delegation_id', '=', delegationId).execute();
    assert.ok(given.length >= 1);
    const result = await endDelegation({ delegations: createDelegations(db), grants: createGrants(db), ledger: createConsentLedger(db, { retentionDays: 1096 }) }, delegationId, { by: 'operator', reason: '親権の変更 (fictional)' });
    assert.equal(result.ended, true);

    // The former delegate sees nothing of the child any more: neither approve nor deny.
    assert.equal((await parentPhone.approve(id)).status, 404);
    assert.equal((await parentPhone.deny(id)).status, 404);
    assert.equal((await parentPhone.page(id)).status, 404);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(await pollError(as, tc, pending.auth_req_id), 'authorization_pending');

    for (const g of given) {
      const row = await db.selectFrom('consent_grants').select('status').where('id', '=', g.id).executeTakeFirstOrThrow();
      assert.notEqual(row.status, 'active', 'a grant the delegate gave ended with the delegation');
    }
    const revoked = await db.selectFrom('consent_records').selectAll().where('subject', '=', child.id).where('action', '=', 'revoke').execute();
    assert.ok(revoked.some((r) => (r.context as { delegation?: string }).delegation === delegationId));

    await startCiba(as, server, tc, { login_hint: child.username, binding_message: 'OYA-4' });
    assert.ok((await next(childPhone)).startsWith('req_'), 'without a delegation the request goes to the person');
    assert.deepEqual((await parentPhone.pending()).length, 0);
  });

  it('a delegation past its end date stops approvals, and the background sweep ends the grants given under it', async () => {
    const db = server.app.storage.db;
    const caregiver = await createTestUser(server, { name: '架空 介護' });
    const caregiverPhone = await linkDevice(server, await addPasskey(server, caregiver.id, caregiver.username), 'Caregiver phone');
    const d = await createDelegations(db).register({
      principal: child.id, delegate: caregiver.id, relationship: 'caregiver', evidence: '委任状 #C-9 (fictional)', verifiedBy: '窓口 佐藤',
      verifiedAt: new Date(), constraints: { authorizationDetailTypes: ['fhir_record_access'] }, validFrom: new Date(Date.now() - 60_000), validUntil: new Date(Date.now() + 4000),
    });
    const started = await startCiba(as, server, tc, { login_hint: child.username, binding_message: 'KAIGO', resource: RS, authorization_details: FHIR });
    assert.equal((await caregiverPhone.approve(await next(caregiverPhone))).status, 200);
    await new Promise((r) => setTimeout(r, 1100));
    const tokens = await pollOnce(as, tc, started.auth_req_id);
    const grantId = String(tokens.grant_id);
    const grants = createGrants(db);
    const ledger = createConsentLedger(db, { retentionDays: 1096 });
    assert.equal(await endGrantsOfLapsedDelegations({ db, grants, ledger }), 0, 'still valid: nothing ends');
    await new Promise((r) => setTimeout(r, Math.max(0, d.validUntil!.getTime() - Date.now() + 200)));
    assert.equal(await endGrantsOfLapsedDelegations({ db, grants, ledger }), 1);
    const row = await db.selectFrom('consent_grants').select('status').where('id', '=', grantId).executeTakeFirstOrThrow();
    assert.equal(row.status, 'revoked');
    assert.equal(await endGrantsOfLapsedDelegations({ db, grants, ledger }), 0, 'once');
  });
});
