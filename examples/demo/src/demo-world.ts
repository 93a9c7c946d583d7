import { randomBytes } from 'node:crypto';
import { createClinicApp } from '../../health/src/clinic-app.ts';
import { createHealthApi } from '../../health/src/health-api.ts';
import { createPatientPortal } from '../../health/src/patient-portal.ts';
import { clinicClientMetadata, healthResourceServer, portalClientMetadata } from '../../health/src/registration.ts';
import { SAMPLE_RECORDS } from '../../health/src/sample-records.ts';
import { createBankApi } from '../../bank/src/bank-api.ts';
import { createFintechApp } from '../../bank/src/fintech-app.ts';
import { bankIntrospectionClientMetadata, bankResourceServer, fintechClientMetadata } from '../../bank/src/registration.ts';
import { SAMPLE_LABELS, SAMPLE_REFS, sampleAccounts } from '../../bank/src/sample-accounts.ts';
import { importJWK } from 'jose';
import { newClientKey, registerDemoClient } from './clients.ts';
import { CLINIC_NOTICE, FINTECH_NOTICE, PORTAL_NOTICE } from './notices.ts';
import { createPeople, registerParent, type DemoPerson } from './people.ts';
import { serve } from './listen.ts';
import { startDemoSekisho, type DemoSekisho } from './sekisho.ts';

export interface DemoPorts {
  sekisho: number;
  clinic: number;
  healthApi: number;
  portal: number;
  fintech: number;
  bankApi: number;
}

export interface DemoOptions {
  host: string;
  ports: DemoPorts;
  /** Emptied at start: the demo's own store, never Sekisho's `./data`. */
  dataDir: string;
  /** Where the example apps write their one-line-per-request logs; default: nowhere. */
  log?: (app: string, line: unknown) => void;
}

export interface Demo {
  /** The running Sekisho, for what the demo's own test checks. */
  sekisho: DemoSekisho['app'];
  urls: { sekisho: string; clinic: string; healthApi: string; portal: string; fintech: string; bankApi: string };
  people: DemoPerson[];
  doctor: { id: string; password: string };
  close(): Promise<void>;
}

/**
 * Everything `npm run demo` runs, in one process: Sekisho (development mode, its own PGlite
 * folder) with the example clients registered and fictional people created, the healthcare example
 * (clinic records system, health-record API) and the open-banking example (fintech app, bank API).
 * Every key and password is generated for this run.
 */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const { host, ports } = options;
  const log = options.log ?? (() => {});
  const local = (port: number) => `http://127.0.0.1:${port}`;
  const urls = {
    sekisho: `http://localhost:${ports.sekisho}`,
    clinic: local(ports.clinic),
    healthApi: `${local(ports.healthApi)}/fhir`,
    portal: local(ports.portal),
    fintech: local(ports.fintech),
    bankApi: `${local(ports.bankApi)}/v1`,
  };

  const sekisho = await startDemoSekisho({
    port: ports.sekisho, host, dataDir: options.dataDir,
    resourceServers: [
      healthResourceServer({ audience: urls.healthApi }),
      bankResourceServer({ audience: urls.bankApi, introspectionClientId: 'bank-api-demo' }),
    ],
  });
  const closers: Array<() => Promise<void> | void> = [() => sekisho.close()];
  try {
    const bankAccount = (ref: string) => ({ kind: 'bank_account', ref, label: SAMPLE_LABELS[ref]! });
    const people = await createPeople(sekisho.app, [
      { username: 'hanako', name: '架空 花子', role: 'bank customer with two accounts', email: 'hanako@kakuu.example',
        links: [bankAccount(SAMPLE_REFS.hanakoMain), bankAccount(SAMPLE_REFS.hanakoSavings)] },
      { username: 'taro', name: '架空 太郎', role: 'patient p-0001; parent of jiro', email: 'taro@kakuu.example',
        links: [{ kind: 'fhir_patient', ref: 'p-0001', label: '架空 太郎 (p-0001)' }, bankAccount(SAMPLE_REFS.taroMain)] },
      { username: 'jiro', name: '架空 次郎', role: 'child, patient p-0003 (taro decides for him)', email: 'jiro@kakuu.example',
        links: [{ kind: 'fhir_patient', ref: 'p-0003', label: '架空 次郎 (p-0003)' }] },
    ]);
    await registerParent(sekisho.app, people.find((p) => p.username === 'taro')!, people.find((p) => p.username === 'jiro')!);

    // Healthcare: the clinic (a CIBA client) and the health-record API (RFC 9068 JWTs).
    const clinicKey = await newClientKey('clinic');
    const doctor = { id: 'dr-sato', name: '佐藤 医師 (Dr Sato, fictional)', password: randomBytes(9).toString('base64url') };
    const clinic = createClinicApp({
      issuer: urls.sekisho, clientId: 'clinic-demo', privateJwk: clinicKey, deliveryMode: 'poll', doctors: [doctor],
      publicUrl: urls.clinic, healthApiUrl: urls.healthApi, healthApiAudience: urls.healthApi, log: (e) => log('clinic', e),
    });
    closers.push(() => clinic.close());
    await registerDemoClient(sekisho.app, clinicClientMetadata({ clientId: 'clinic-demo', privateJwk: clinicKey, deliveryMode: 'poll' }), CLINIC_NOTICE);
    const healthApi = createHealthApi({
      issuer: urls.sekisho, audience: urls.healthApi, publicUrl: urls.healthApi, data: SAMPLE_RECORDS, log: (l) => log('health-api', l),
    });
    // The health-record service's own patient portal (an OpenID Connect client of Sekisho, FAPI 2.0).
    const portalKey = await newClientKey('portal');
    const portal = createPatientPortal({
      issuer: urls.sekisho, clientId: 'portal-demo', privateJwk: portalKey, publicUrl: urls.portal,
      healthApiUrl: urls.healthApi, healthApiAudience: urls.healthApi, log: (e) => log('portal', e),
    });
    closers.push(() => portal.close());
    await registerDemoClient(sekisho.app, portalClientMetadata({ clientId: 'portal-demo', privateJwk: portalKey, publicUrl: urls.portal }), PORTAL_NOTICE);
    for (const [handler, port] of [[clinic.handler, ports.clinic], [healthApi, ports.healthApi], [portal.handler, ports.portal]] as const) {
      const s = await serve(handler, host, port);
      closers.push(() => s.close());
    }

    // Open banking: the fintech app (FAPI 2.0 Message Signing) and the bank API (opaque tokens,
    // introspected as its own client, so a disconnect stops access at once).
    const fintechKey = await newClientKey('fintech');
    const bankKey = await newClientKey('bank-api');
    // One name wherever a person meets the app: its own pages, Sekisho's consent screen (the
    // notice) and My consents (the client name).
    const fintech = createFintechApp({
      issuer: urls.sekisho, clientId: 'fintech-demo', privateJwk: fintechKey, publicUrl: urls.fintech,
      bankApiUrl: urls.bankApi, bankAudience: urls.bankApi, log: (e) => log('fintech', e),
      appName: `${FINTECH_NOTICE.serviceName.ja} ${FINTECH_NOTICE.serviceName.en}`,
    });
    closers.push(() => fintech.close());
    await registerDemoClient(sekisho.app, fintechClientMetadata({
      clientId: 'fintech-demo', privateJwk: fintechKey, redirectUri: fintech.redirectUri,
      clientName: `${FINTECH_NOTICE.serviceName.ja} ${FINTECH_NOTICE.serviceName.en}`,
    }), FINTECH_NOTICE);
    await registerDemoClient(sekisho.app, bankIntrospectionClientMetadata({ clientId: 'bank-api-demo', privateJwk: bankKey }));
    const bankApi = createBankApi({
      issuer: urls.sekisho, audience: urls.bankApi, publicUrl: urls.bankApi, data: sampleAccounts(),
      // No reuse of an introspection answer: the printed instructions promise that a consent
      // withdrawn at Sekisho stops the app at once, and one person's demo has no load to spare.
      introspection: { clientId: 'bank-api-demo', privateKey: await importJWK(bankKey, 'ES256') as CryptoKey, kid: bankKey.kid, cacheSeconds: 0 },
      log: (l) => log('bank-api', l),
    });
    for (const [handler, port] of [[fintech.handler, ports.fintech], [bankApi, ports.bankApi]] as const) {
      const s = await serve(handler, host, port);
      closers.push(() => s.close());
    }

    return {
      sekisho: sekisho.app, urls, people, doctor: { id: doctor.id, password: doctor.password },
      async close() {
        for (const close of closers.reverse()) await close();
      },
    };
  } catch (err) {
    for (const close of closers.reverse()) await close();
    throw err;
  }
}
