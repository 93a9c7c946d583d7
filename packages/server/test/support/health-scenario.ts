import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { createClinicApp, type ClientPrivateJwk, type ClinicApp } from '../../../../examples/health/src/clinic-app.ts';
import { createHealthApi, type AccessLogLine } from '../../../../examples/health/src/health-api.ts';
import { createPatientPortal, type PatientPortal } from '../../../../examples/health/src/patient-portal.ts';
import { clinicClientMetadata, healthResourceServer, portalClientMetadata } from '../../../../examples/health/src/registration.ts';
import { SAMPLE_RECORDS } from '../../../../examples/health/src/sample-records.ts';
import { registerClient } from '../../src/protocol/client-registration.ts';
import { createClientsRepository } from '../../src/storage/clients-repo.ts';
import { startTestServer, testPki, type TestServer } from './server.ts';
import { listening, stop } from './listening.ts';

/**
 * The healthcare scenario with its real parts (examples/health): Sekisho on http://localhost (a
 * secure context, so Chromium allows WebAuthn on the device app), the example health-record API
 * as a JWT resource server with its SMART scopes, the example clinic app registered as a CIBA
 * client and the example patient portal as a code-flow client, each with exactly the metadata the
 * example prints. A ping-mode clinic listens on HTTPS with a certificate from the test CA, which
 * Sekisho is told to trust (outbound.caFile; loopback needs allowPrivateNetworks).
 */

export const DOCTOR = { id: 'dr-sato', name: '佐藤 医師 (Dr Sato, fictional)', password: randomBytes(12).toString('base64url') };

export interface RunningClinic {
  url: string;
  clientId: string;
  app: ClinicApp;
  /** The clinic's log (no tokens in it): ciba.started, ciba.notified, ciba.finished … */
  events: Array<Record<string, unknown>>;
}

export interface RunningPortal {
  url: string;
  clientId: string;
  portal: PatientPortal;
  /** The portal's log (no tokens in it): portal.signed_in, portal.record_added, portal.disconnected … */
  events: Array<Record<string, unknown>>;
}

export interface HealthScenario {
  server: TestServer;
  /** The health API's FHIR base URL, also its audience at Sekisho. */
  apiUrl: string;
  /** One line per request the API answered. */
  apiLog: AccessLogLine[];
  /** Starts a clinic app and registers it as a CIBA client (ping: on https). */
  startClinic(options: { mode: 'poll' | 'ping'; requestedExpiry?: number }): Promise<RunningClinic>;
  /** Starts the patient portal (http on loopback) and registers it as a FAPI 2.0 code-flow client. */
  startPortal(): Promise<RunningPortal>;
  close(): Promise<void>;
}

export async function startHealthScenario(): Promise<HealthScenario> {
  const pki = await testPki();
  const caFile = join(mkdtempSync(join(tmpdir(), 'sekisho-health-')), 'ca.pem');
  writeFileSync(caFile, pki.caPem);

  // The API's URL is its audience, which Sekisho's configuration names: it listens first, and
  // gets its handler once Sekisho (its issuer) is up.
  const api = createServer();
  const apiUrl = `http://127.0.0.1:${await listening(api)}/fhir`;
  const server = await startTestServer({
    https: false,
    config: {
      resourceServers: [healthResourceServer({ audience: apiUrl })],
      ciba: { pollIntervalSeconds: 1, loginHint: ['linked:fhir_patient', 'username'] },
      outbound: { caFile, allowPrivateNetworks: true },
    },
  });
  const apiLog: AccessLogLine[] = [];
  api.on('request', createHealthApi({ issuer: server.issuer, audience: apiUrl, publicUrl: apiUrl, data: SAMPLE_RECORDS, log: (line) => apiLog.push(line) }));

  const clinics: Array<{ app: ClinicApp; http: Server }> = [];
  const portals: Array<{ portal: PatientPortal; http: Server }> = [];

  async function newKey(prefix: string): Promise<ClientPrivateJwk> {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    return { ...(await exportJWK(privateKey)), kid: `${prefix}-${randomBytes(4).toString('hex')}`, alg: 'ES256' } as ClientPrivateJwk;
  }

  return {
    server, apiUrl, apiLog,

    async startClinic({ mode, requestedExpiry }) {
      const privateJwk = await newKey('clinic');
      const clientId = `clinic-${mode}-${randomBytes(4).toString('hex')}`;
      const http = mode === 'ping' ? createHttpsServer({ cert: pki.server.certPem, key: pki.server.keyPem }) : createServer();
      const port = await listening(http);
      // Sekisho notifies https endpoints only; the test CA's certificate is for localhost.
      const url = mode === 'ping' ? `https://localhost:${port}` : `http://127.0.0.1:${port}`;
      const events: Array<Record<string, unknown>> = [];
      const app = createClinicApp({
        issuer: server.issuer, clientId, privateJwk, healthApiUrl: apiUrl, healthApiAudience: apiUrl, deliveryMode: mode, publicUrl: url,
        doctors: [DOCTOR], log: (event) => events.push(event), ...(requestedExpiry ? { requestedExpiry } : {}),
      });
      http.on('request', app.handler);
      clinics.push({ app, http });
      await registerClient(server.app.provider, createClientsRepository(server.app.storage.db),
        clinicClientMetadata({ clientId, privateJwk, deliveryMode: mode, notificationEndpoint: app.notificationEndpoint }));
      return { url, clientId, app, events };
    },

    async startPortal() {
      const privateJwk = await newKey('portal');
      const clientId = `portal-${randomBytes(4).toString('hex')}`;
      const http = createServer();
      const url = `http://127.0.0.1:${await listening(http)}`;
      const events: Array<Record<string, unknown>> = [];
      const portal = createPatientPortal({
        issuer: server.issuer, clientId, privateJwk, healthApiUrl: apiUrl, healthApiAudience: apiUrl, publicUrl: url, log: (event) => events.push(event),
      });
      http.on('request', portal.handler);
      portals.push({ portal, http });
      await registerClient(server.app.provider, createClientsRepository(server.app.storage.db), portalClientMetadata({ clientId, privateJwk, publicUrl: url }));
      return { url, clientId, portal, events };
    },

    async close() {
      for (const c of clinics) c.app.close();
      for (const p of portals) p.portal.close();
      await Promise.all([...clinics.map((c) => stop(c.http)), ...portals.map((p) => stop(p.http)), stop(api)]);
      await server.close();
    },
  };
}
