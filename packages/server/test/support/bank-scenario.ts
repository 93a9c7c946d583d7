import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import { createBankApi, type AccessLogLine } from '../../../../examples/bank/src/bank-api.ts';
import { createFintechApp, type FintechApp } from '../../../../examples/bank/src/fintech-app.ts';
import { createFapiClient, type FapiClient } from '../../../../examples/bank/src/fintech/fapi-client.ts';
import {
  bankIntrospectionClientMetadata, bankResourceServer, fintechClientMetadata, type PrivateEcJwk,
} from '../../../../examples/bank/src/registration.ts';
import { sampleAccounts, SAMPLE_LABELS, SAMPLE_REFS } from '../../../../examples/bank/src/sample-accounts.ts';
import { createLinkedResources } from '../../src/identity/linked-resources.ts';
import { registerClient } from '../../src/protocol/client-registration.ts';
import { createClientsRepository } from '../../src/storage/clients-repo.ts';
import { startTestServer, type TestServer } from './server.ts';
import { createTestUser, type TestUser } from './users.ts';
import { listening, stop } from './listening.ts';

/**
 * The open-banking scenario with its real parts (examples/bank): Sekisho on http://localhost (a
 * secure context, so Chromium allows WebAuthn), the example bank API as an opaque-token resource
 * server that introspects with its own client (private_key_jwt, RFC 9701 answers), and the
 * example fintech app registered as a FAPI 2.0 Message Signing client with exactly the metadata
 * the example prints. A person is an account with two of the sample bank accounts linked, as the
 * bank's operator would link them (`sekisho user link --kind bank_account --ref …`).
 */

export interface BankScenario {
  server: TestServer;
  /** The bank API's base URL, also its audience at Sekisho. */
  apiUrl: string;
  /** One line per request the bank API answered (never a token). */
  apiLog: AccessLogLine[];
  fintech: { url: string; clientId: string; app: FintechApp; privateJwk: PrivateEcJwk; events: Array<Record<string, unknown>> };
  bankClientId: string;
  /**
   * The example's own FAPI client code for the fintech's registration, for tests that need to
   * hold tokens themselves (the app keeps its tokens out of reach, as it should).
   */
  fapiClient(): FapiClient;
  /** A person at Sekisho with 架空 花子's two accounts linked (everyday, savings). */
  addPerson(): Promise<TestUser>;
  close(): Promise<void>;
}

async function newKey(kid: string): Promise<{ jwk: PrivateEcJwk; key: CryptoKey }> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { jwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' } as PrivateEcJwk, key: privateKey };
}

/**
 * `introspectionCacheSeconds` (default 1): how long the bank reuses an introspection answer, the
 * time a revoked consent may still be honoured. Short here so that tests see a disconnect quickly.
 */
export async function startBankScenario(options: { introspectionCacheSeconds?: number } = {}): Promise<BankScenario> {
  const suffix = randomBytes(4).toString('hex');
  const bankClientId = `bank-api-${suffix}`;
  const fintechClientId = `fintech-${suffix}`;

  // The API's URL is its audience, which Sekisho's configuration names: it listens first, and
  // gets its handler once Sekisho (its issuer) is up. The same for the fintech's redirect URI.
  const api = createServer();
  const apiUrl = `http://127.0.0.1:${await listening(api)}/v1`;
  const fintechHttp = createServer();
  const fintechUrl = `http://127.0.0.1:${await listening(fintechHttp)}`;

  const server = await startTestServer({
    https: false,
    config: { resourceServers: [bankResourceServer({ audience: apiUrl, introspectionClientId: bankClientId })] },
  });
  const clients = createClientsRepository(server.app.storage.db);
  const bankKey = await newKey(`bank-${suffix}`);
  const fintechKey = await newKey(`fintech-${suffix}`);
  await registerClient(server.app.provider, clients, bankIntrospectionClientMetadata({ clientId: bankClientId, privateJwk: bankKey.jwk }));

  const apiLog: AccessLogLine[] = [];
  api.on('request', createBankApi({
    issuer: server.issuer, audience: apiUrl, publicUrl: apiUrl, data: sampleAccounts(), log: (line) => apiLog.push(line),
    introspection: { clientId: bankClientId, privateKey: bankKey.key, kid: bankKey.jwk.kid, cacheSeconds: options.introspectionCacheSeconds ?? 1 },
  }));

  const events: Array<Record<string, unknown>> = [];
  const app = createFintechApp({
    issuer: server.issuer, clientId: fintechClientId, privateJwk: fintechKey.jwk, publicUrl: fintechUrl,
    bankApiUrl: apiUrl, bankAudience: apiUrl, log: (event) => events.push(event),
  });
  fintechHttp.on('request', app.handler);
  await registerClient(server.app.provider, clients, fintechClientMetadata({ clientId: fintechClientId, privateJwk: fintechKey.jwk, redirectUri: app.redirectUri }));

  return {
    server, apiUrl, apiLog, bankClientId,
    fintech: { url: fintechUrl, clientId: fintechClientId, app, privateJwk: fintechKey.jwk, events },
    fapiClient: () => createFapiClient({ issuer: server.issuer, clientId: fintechClientId, privateJwk: fintechKey.jwk, redirectUri: app.redirectUri, bankAudience: apiUrl }),
    async addPerson() {
      const user = await createTestUser(server, { name: '架空 花子', given_name: '花子', family_name: '架空' });
      const linked = createLinkedResources(server.app.storage.db);
      for (const ref of [SAMPLE_REFS.hanakoMain, SAMPLE_REFS.hanakoSavings]) {
        await linked.add({ accountId: user.id, kind: 'bank_account', ref, label: SAMPLE_LABELS[ref]! });
      }
      return user;
    },
    async close() {
      app.close();
      await Promise.all([stop(fintechHttp), stop(api)]);
      await server.close();
    },
  };
}
