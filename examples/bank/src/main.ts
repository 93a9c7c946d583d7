#!/usr/bin/env node
/**
 * Runs the two example apps: the fintech app and the bank API.
 *
 *   node examples/bank/src/main.ts        (or `npm start` in examples/bank)
 *
 * Configuration, from environment variables:
 *
 *   SEKISHO_ISSUER                    required  Sekisho's issuer, e.g. http://localhost:3000
 *   FINTECH_CLIENT_ID                 the fintech's client_id at Sekisho (default fintech-example)
 *   FINTECH_PRIVATE_JWK               the fintech's ES256 private key as a JWK (JSON, with "kid")
 *   BANK_CLIENT_ID                    the bank API's own client_id, for introspection (default bank-api-example)
 *   BANK_PRIVATE_JWK                  the bank API's ES256 private key as a JWK (JSON, with "kid").
 *                                     Either key unset: new keys and everything to register are
 *                                     printed, and nothing starts.
 *   FINTECH_PORT                      default 4100
 *   FINTECH_PUBLIC_URL                where browsers reach the fintech; default http://127.0.0.1:$FINTECH_PORT
 *                                     (the redirect URI is $FINTECH_PUBLIC_URL/callback)
 *   BANK_API_PORT                     default 4101
 *   BANK_API_PUBLIC_URL               the API's base URL as clients reach it; default http://127.0.0.1:$BANK_API_PORT/v1
 *   BANK_API_AUDIENCE                 the API's resource identifier at Sekisho; default BANK_API_PUBLIC_URL
 *   BANK_INTROSPECTION_CACHE_SECONDS  how long an introspection answer is reused (default 5; 0: never).
 *                                     It bounds how long a revoked consent is still honoured.
 *   HOST                              address both listen on (default 127.0.0.1)
 *
 * http is accepted for loopback hosts only; anything else must be https. The bank's balances live
 * in memory and start again from the fictional sample data on every start.
 */
import { createServer } from 'node:http';
import { newClientKey } from '@sekisho/example-kit/client-key';
import { fail, jsonVariable, portVariable } from '@sekisho/example-kit/env';
import { importJWK } from 'jose';
import { createBankApi } from './bank-api.ts';
import { createFintechApp } from './fintech-app.ts';
import { bankIntrospectionClientMetadata, bankResourceServer, fintechClientMetadata, type PrivateEcJwk } from './registration.ts';
import { sampleAccounts } from './sample-accounts.ts';

const env = process.env;

const issuer = env.SEKISHO_ISSUER ?? fail('SEKISHO_ISSUER is required (Sekisho\'s issuer URL)');
const fintechClientId = env.FINTECH_CLIENT_ID ?? 'fintech-example';
const bankClientId = env.BANK_CLIENT_ID ?? 'bank-api-example';
const host = env.HOST ?? '127.0.0.1';
const fintechPort = portVariable('FINTECH_PORT', 4100);
const apiPort = portVariable('BANK_API_PORT', 4101);
const fintechUrl = env.FINTECH_PUBLIC_URL ?? `http://127.0.0.1:${fintechPort}`;
const apiUrl = env.BANK_API_PUBLIC_URL ?? `http://127.0.0.1:${apiPort}/v1`;
const audience = env.BANK_API_AUDIENCE ?? apiUrl;
const cacheSeconds = Number(env.BANK_INTROSPECTION_CACHE_SECONDS ?? 5);
if (!(Number.isInteger(cacheSeconds) && cacheSeconds >= 0 && cacheSeconds <= 300)) fail('BANK_INTROSPECTION_CACHE_SECONDS must be a whole number of seconds (0-300)');
const redirectUri = new URL('/callback', fintechUrl).href;

const fintechJwk = jsonVariable<PrivateEcJwk>('FINTECH_PRIVATE_JWK');
const bankJwk = jsonVariable<PrivateEcJwk>('BANK_PRIVATE_JWK');
if (!fintechJwk || !bankJwk) {
  // First run: make the keys, say what to register, start nothing.
  const fintech = fintechJwk ?? await newClientKey('fintech');
  const bank = bankJwk ?? await newClientKey('bank-api');
  process.stdout.write([
    'FINTECH_PRIVATE_JWK or BANK_PRIVATE_JWK is not set. Keys for the two apps (keep them secret):',
    '',
    `  export FINTECH_PRIVATE_JWK='${JSON.stringify(fintech)}'`,
    `  export BANK_PRIVATE_JWK='${JSON.stringify(bank)}'`,
    '',
    'Register the fintech app in Sekisho (save as fintech.json; npm run sekisho -- client add --file fintech.json):',
    '',
    JSON.stringify(fintechClientMetadata({ clientId: fintechClientId, privateJwk: fintech, redirectUri }), null, 2),
    '',
    'and the bank API\'s own client, which introspects tokens (bank-api.json):',
    '',
    JSON.stringify(bankIntrospectionClientMetadata({ clientId: bankClientId, privateJwk: bank }), null, 2),
    '',
    'and add the bank API to Sekisho\'s resourceServers (SEKISHO_CONFIG file):',
    '',
    JSON.stringify({ resourceServers: [bankResourceServer({ audience, introspectionClientId: bankClientId })] }, null, 2),
    '',
  ].join('\n'));
  process.exit(2);
}

let fintech: ReturnType<typeof createFintechApp>;
let bankApi: ReturnType<typeof createBankApi>;
try {
  const privateKey = await importJWK({ ...bankJwk, alg: 'ES256' }, 'ES256');
  if (!(privateKey instanceof CryptoKey)) throw new TypeError('BANK_PRIVATE_JWK must be an ES256 private key');
  fintech = createFintechApp({ issuer, clientId: fintechClientId, privateJwk: fintechJwk, publicUrl: fintechUrl, bankApiUrl: apiUrl, bankAudience: audience });
  bankApi = createBankApi({
    issuer, audience, publicUrl: apiUrl, data: sampleAccounts(),
    introspection: { clientId: bankClientId, privateKey, kid: bankJwk.kid, cacheSeconds },
  });
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}

const fintechServer = createServer(fintech.handler);
const apiServer = createServer(bankApi);
await Promise.all([
  new Promise<void>((resolve) => fintechServer.listen(fintechPort, host, resolve)),
  new Promise<void>((resolve) => apiServer.listen(apiPort, host, resolve)),
]);

process.stdout.write([
  `fintech app   ${fintechUrl}  (client ${fintechClientId}, redirect URI ${redirectUri})`,
  `bank API      ${apiUrl}  (audience ${audience}, introspects as ${bankClientId}, cache ${cacheSeconds} s)`,
  `Sekisho       ${issuer}`,
  '',
].join('\n'));

function stop(): void {
  fintech.close();
  fintechServer.close();
  apiServer.close();
  fintechServer.closeAllConnections();
  apiServer.closeAllConnections();
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
