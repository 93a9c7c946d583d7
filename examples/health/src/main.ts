#!/usr/bin/env node
/**
 * Runs the example apps: the clinic's records system, the health-record API and, when
 * PORTAL_CLIENT_ID is set, the health-record service's patient portal.
 *
 *   node examples/health/src/main.ts        (or `npm start` in examples/health)
 *
 * Configuration, from environment variables:
 *
 *   SEKISHO_ISSUER                 required  Sekisho's issuer, e.g. http://localhost:3000
 *   CLINIC_CLIENT_ID               required  the clinic's client_id at Sekisho
 *   CLINIC_PRIVATE_JWK             required  the clinic's ES256 private key as a JWK (JSON, with "kid").
 *                                            Unset: a new key and the client metadata to register are
 *                                            printed, and nothing starts.
 *   CLINIC_DELIVERY_MODE           poll | ping (default poll), as registered
 *   CLINIC_PORT                    default 4000
 *   CLINIC_PUBLIC_URL              where browsers (and, in ping mode, Sekisho) reach the clinic;
 *                                  default http://127.0.0.1:$CLINIC_PORT (https://localhost:… with TLS)
 *   CLINIC_TLS_CERT_FILE           PEM certificate (chain) and key: the clinic listens on https. Ping
 *   CLINIC_TLS_KEY_FILE            mode needs it (or a TLS proxy): Sekisho notifies https endpoints only
 *   CLINIC_DOCTORS                 JSON [{"id","name","password"}]; default: one fictional doctor,
 *                                  dr-sato, with a random password printed at start
 *   CLINIC_POLL_INTERVAL_FALLBACK  seconds between polls when Sekisho gives no interval (default 5)
 *   HEALTH_API_PORT                default 4001
 *   HEALTH_API_PUBLIC_URL          the FHIR base URL as clients reach it; default http://127.0.0.1:$HEALTH_API_PORT/fhir
 *   HEALTH_API_AUDIENCE            the API's resource identifier at Sekisho; default HEALTH_API_PUBLIC_URL
 *   HEALTH_API_JWKS_URI            Sekisho's JWKS URL; default: from Sekisho's discovery document
 *   PORTAL_CLIENT_ID               the patient portal's client_id at Sekisho; unset: no portal
 *   PORTAL_PRIVATE_JWK             the portal's ES256 private key as a JWK (JSON, with "kid"). Unset
 *                                  (with PORTAL_CLIENT_ID set): a new key and the metadata to register
 *                                  are printed, and nothing starts.
 *   PORTAL_PORT                    default 4002
 *   PORTAL_PUBLIC_URL              where browsers reach the portal (its redirect URI is {this}/callback);
 *                                  default http://127.0.0.1:$PORTAL_PORT
 *   PORTAL_UTC_OFFSET              the patients' UTC offset for the time of home readings (default +09:00)
 *   HOST                           address all listen on (default 127.0.0.1)
 *
 * http is accepted for loopback hosts only; anything else must be https.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { newClientKey } from '@sekisho/example-kit/client-key';
import { fail, jsonVariable, portVariable } from '@sekisho/example-kit/env';
import { createClinicApp, type ClientPrivateJwk, type DoctorAccount } from './clinic-app.ts';
import { createHealthApi } from './health-api.ts';
import { createPatientPortal } from './patient-portal.ts';
import { clinicClientMetadata, healthResourceServer, portalClientMetadata } from './registration.ts';
import { SAMPLE_RECORDS } from './sample-records.ts';

const env = process.env;

const issuer = env.SEKISHO_ISSUER ?? fail('SEKISHO_ISSUER is required (Sekisho\'s issuer URL)');
const clientId = env.CLINIC_CLIENT_ID ?? fail('CLINIC_CLIENT_ID is required');
const deliveryMode = (env.CLINIC_DELIVERY_MODE ?? 'poll') as 'poll' | 'ping';
if (deliveryMode !== 'poll' && deliveryMode !== 'ping') fail('CLINIC_DELIVERY_MODE must be poll or ping');
const host = env.HOST ?? '127.0.0.1';
const clinicPort = portVariable('CLINIC_PORT', 4000);
const apiPort = portVariable('HEALTH_API_PORT', 4001);
const portalPort = portVariable('PORTAL_PORT', 4002);
const portalClientId = env.PORTAL_CLIENT_ID || undefined;
const portalUrl = env.PORTAL_PUBLIC_URL ?? `http://127.0.0.1:${portalPort}`;
const tlsFiles = env.CLINIC_TLS_CERT_FILE && env.CLINIC_TLS_KEY_FILE ? { cert: env.CLINIC_TLS_CERT_FILE, key: env.CLINIC_TLS_KEY_FILE } : undefined;
if (!tlsFiles && (env.CLINIC_TLS_CERT_FILE || env.CLINIC_TLS_KEY_FILE)) fail('CLINIC_TLS_CERT_FILE and CLINIC_TLS_KEY_FILE go together');
const clinicUrl = env.CLINIC_PUBLIC_URL ?? (tlsFiles ? `https://localhost:${clinicPort}` : `http://127.0.0.1:${clinicPort}`);
const apiUrl = env.HEALTH_API_PUBLIC_URL ?? `http://127.0.0.1:${apiPort}/fhir`;
const audience = env.HEALTH_API_AUDIENCE ?? apiUrl;
const notificationEndpoint = new URL('/ciba/notify', clinicUrl).href;
if (deliveryMode === 'ping' && !notificationEndpoint.startsWith('https:')) {
  process.stderr.write('note: Sekisho registers only https notification endpoints; set CLINIC_TLS_* or an https CLINIC_PUBLIC_URL for ping mode\n');
}

const privateJwk = jsonVariable<ClientPrivateJwk>('CLINIC_PRIVATE_JWK');
const portalJwk = jsonVariable<ClientPrivateJwk>('PORTAL_PRIVATE_JWK');
if (!privateJwk || (portalClientId && !portalJwk)) {
  // First run: make the keys that are missing, say what to register, start nothing.
  const lines: string[] = [];
  if (!privateJwk) {
    const fresh = await newClientKey('clinic');
    lines.push(
      'CLINIC_PRIVATE_JWK is not set. A new key for the clinic (keep it secret):', '', `  export CLINIC_PRIVATE_JWK='${JSON.stringify(fresh)}'`, '',
      'Register the clinic in Sekisho with this metadata (npm run sekisho -- client add --file clinic.json):', '',
      JSON.stringify(clinicClientMetadata({ clientId, privateJwk: fresh, deliveryMode, notificationEndpoint }), null, 2), '',
    );
  }
  if (portalClientId && !portalJwk) {
    const fresh = await newClientKey('portal');
    lines.push(
      'PORTAL_PRIVATE_JWK is not set. A new key for the patient portal (keep it secret):', '', `  export PORTAL_PRIVATE_JWK='${JSON.stringify(fresh)}'`, '',
      'Register the portal in Sekisho with this metadata (npm run sekisho -- client add --file portal.json):', '',
      JSON.stringify(portalClientMetadata({ clientId: portalClientId, privateJwk: fresh, publicUrl: portalUrl }), null, 2), '',
    );
  }
  lines.push('and add the health API to Sekisho\'s resourceServers:', '', JSON.stringify(healthResourceServer({ audience }), null, 2), '');
  process.stdout.write(lines.join('\n'));
  process.exit(2);
}

let doctors = jsonVariable<DoctorAccount[]>('CLINIC_DOCTORS');
let generatedPassword: string | undefined;
if (!doctors) {
  generatedPassword = randomBytes(12).toString('base64url');
  doctors = [{ id: 'dr-sato', name: '佐藤 医師 (Dr Sato, fictional)', password: generatedPassword }];
}

const pollIntervalFallback = Number(env.CLINIC_POLL_INTERVAL_FALLBACK ?? 5);
if (!(pollIntervalFallback > 0 && pollIntervalFallback <= 60)) fail('CLINIC_POLL_INTERVAL_FALLBACK must be a number of seconds (0-60)');

let clinic: ReturnType<typeof createClinicApp>;
let healthApi: ReturnType<typeof createHealthApi>;
let portal: ReturnType<typeof createPatientPortal> | undefined;
try {
  clinic = createClinicApp({
    issuer, clientId, privateJwk, deliveryMode, doctors, publicUrl: clinicUrl, healthApiUrl: apiUrl, healthApiAudience: audience, pollIntervalFallback,
  });
  healthApi = createHealthApi({
    issuer, audience, publicUrl: apiUrl, data: SAMPLE_RECORDS,
    ...(env.HEALTH_API_JWKS_URI ? { jwksUri: env.HEALTH_API_JWKS_URI } : {}),
  });
  if (portalClientId && portalJwk) {
    portal = createPatientPortal({
      issuer, clientId: portalClientId, privateJwk: portalJwk, healthApiUrl: apiUrl, healthApiAudience: audience, publicUrl: portalUrl,
      ...(env.PORTAL_UTC_OFFSET ? { utcOffset: env.PORTAL_UTC_OFFSET } : {}),
    });
  }
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}

const clinicServer = tlsFiles
  ? createHttpsServer({ cert: readFileSync(tlsFiles.cert), key: readFileSync(tlsFiles.key) }, clinic.handler)
  : createServer(clinic.handler);
const apiServer = createServer(healthApi);
const portalServer = portal ? createServer(portal.handler) : undefined;
await Promise.all([
  new Promise<void>((resolve) => clinicServer.listen(clinicPort, host, resolve)),
  new Promise<void>((resolve) => apiServer.listen(apiPort, host, resolve)),
  ...(portalServer ? [new Promise<void>((resolve) => portalServer.listen(portalPort, host, resolve))] : []),
]);

process.stdout.write([
  `clinic records system  ${clinicUrl}  (${deliveryMode} mode${deliveryMode === 'ping' ? `, notifications at ${notificationEndpoint}` : ''})`,
  `health-record API      ${apiUrl}  (audience ${audience})`,
  ...(portal ? [`patient portal         ${portalUrl}  (client ${portalClientId}, redirect URI ${portal.redirectUri})`] : []),
  `Sekisho                ${issuer}  (client ${clientId})`,
  ...(generatedPassword ? [`sign in as dr-sato with password ${generatedPassword}`] : []),
  '',
].join('\n'));

function stop(): void {
  clinic.close();
  portal?.close();
  for (const server of [clinicServer, apiServer, ...(portalServer ? [portalServer] : [])]) {
    server.close();
    server.closeAllConnections();
  }
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
