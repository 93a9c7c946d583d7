/**
 * `npm run demo` in one process: everything it prints is reachable, the generated people and
 * example clients exist in Sekisho, and the data lives only in the folder the demo was given.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemo, type Demo } from '../src/demo-world.ts';
import { freePort } from '../src/listen.ts';
import { instructions } from '../src/instructions.ts';
import { createClientsRepository } from '../../../packages/server/src/storage/clients-repo.ts';

describe('npm run demo', () => {
  let demo: Demo;
  let dataDir: string;
  const host = '127.0.0.1';

  before(async () => {
    dataDir = join(mkdtempSync(join(tmpdir(), 'sekisho-demo-test-')), 'demo-data');
    demo = await startDemo({
      host, dataDir,
      ports: {
        sekisho: await freePort(host), clinic: await freePort(host), healthApi: await freePort(host), portal: await freePort(host),
        fintech: await freePort(host), bankApi: await freePort(host),
      },
    });
  });
  after(async () => {
    await demo?.close();
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('serves Sekisho with the example clients registered and its data in the folder it was given', async () => {
    const discovery = await (await fetch(`${demo.urls.sekisho}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
    assert.equal(discovery.issuer, demo.urls.sekisho);
    assert.deepEqual(discovery.backchannel_token_delivery_modes_supported, ['poll', 'ping']);
    assert.ok(existsSync(dataDir), 'the demo keeps its data in the folder it was given');
    const clients = await createClientsRepository(demo.sekisho.storage.db).list();
    for (const id of ['clinic-demo', 'portal-demo', 'fintech-demo', 'bank-api-demo']) assert.ok(clients.some((c) => c.client_id === id), id);
  });

  it('the fintech app offers to connect a bank, and the bank API refuses a request without a token', async () => {
    const home = await fetch(`${demo.urls.fintech}/`);
    assert.equal(home.status, 200);
    assert.match(await home.text(), /架空銀行/);
    const api = await fetch(`${demo.urls.bankApi}/accounts`);
    assert.equal(api.status, 401);
    assert.match(api.headers.get('www-authenticate') ?? '', /DPoP/);
  });

  it('the clinic asks its doctor to sign in, the patient portal answers, and the health API refuses a request without a token', async () => {
    const clinic = await fetch(`${demo.urls.clinic}/`, { redirect: 'manual' });
    assert.equal(clinic.status, 303);
    assert.equal(new URL(clinic.headers.get('location')!, demo.urls.clinic).pathname, '/login');
    assert.equal((await fetch(`${demo.urls.portal}/`)).status, 200);
    const api = await fetch(`${demo.urls.healthApi}/Patient/p-0001`);
    assert.equal(api.status, 401);
    assert.match(api.headers.get('www-authenticate') ?? '', /DPoP/);
  });

  it('every printed person can sign in with the printed password; no two runs share a password', async () => {
    assert.ok(demo.people.length >= 2);
    for (const person of demo.people) {
      assert.match(person.password, /^[A-Za-z0-9_-]{12}$/);
      const account = await demo.sekisho.accounts.findByLogin(person.username);
      assert.equal(await demo.sekisho.accounts.checkPassword(account, person.password), true, person.username);
      assert.equal(await demo.sekisho.accounts.checkPassword(account, `${person.password}x`), false);
      assert.ok(instructions(demo).includes(person.password));
    }
    assert.equal(new Set(demo.people.map((p) => p.password)).size, demo.people.length);
  });
});
