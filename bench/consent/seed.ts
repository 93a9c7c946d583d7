/**
 * One person with a long consent history, for the My consents page (bench/consent/run.ts, part B):
 * `grants` active grants spread over `clients` registered services (oidc-provider Grant rows saved
 * through the provider's own model, so the payloads are the library's; consent_grants terms
 * through Sekisho's store; a refresh token under every ongoing grant, an access token under some),
 * and `records` consent-ledger records appended through the ledger itself (so the hash chain is
 * the real one), then the whole chain verified.
 */
import { randomUUID } from 'node:crypto';
import type { JWK } from 'jose';
import type { Sekisho } from '../../packages/server/src/app.ts';
import { createConsentLedger, type ChainCheck, type ConsentRecordInput, type ConsentScope } from '../../packages/server/src/consent/ledger.ts';
import { createGrantTerms } from '../../packages/server/src/consent/grant-terms.ts';
import { registerClient } from '../../packages/server/src/protocol/client-registration.ts';
import { createClientsRepository } from '../../packages/server/src/storage/clients-repo.ts';
import { REDIRECT_URI } from '../../packages/server/test/support/clients.ts';
import { benchClaims, RESOURCE_SERVER } from '../targets/types.ts';

export interface SeedSettings { grants: number; records: number; clients: number }
export interface SeedResult {
  username: string;
  password: string;
  accountId: string;
  grants: number;
  grantsWithDetails: number;
  refreshTokens: number;
  accessTokens: number;
  records: number;
  seconds: { clients: number; grants: number; records: number; verify: number };
  chain: ChainCheck;
}

const DAY = 86_400;
const now = () => Math.floor(Date.now() / 1000);
/** What oidc-provider puts in a grant's openid.claims at every sign-in (not consent items). */
const SIGN_IN_CLAIMS = ['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss'];
const SERVICES = ['家計簿アプリ', 'Kakeibo Pro', '健康記録ノート', 'Fintech Aggregator', 'ポイント管理', 'Tax Helper', 'クリニック予約', 'Insurance Quotes'];
const USER_AGENT = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1';

/** An `account_information` detail as granted (enriched with the accounts the person picked). */
function accountInformation(i: number): Record<string, unknown> {
  return {
    type: 'account_information', actions: ['list_accounts', 'read_balances', 'read_transactions'], transaction_history_days: 90 + (i % 4) * 90,
    locations: ['https://api.bank.example/'],
    accounts: [{ id: `acct-${i % 7}-main`, label: '普通 ****4567 (Main)' }, ...(i % 2 ? [{ id: `acct-${i % 7}-savings`, label: '貯蓄 ****1234' }] : [])],
  };
}

/** Grant `i`'s shape: 15 % with an authorization detail, 25 % with an API's scope, the rest OpenID scopes. */
function shapeOf(i: number) {
  const rar = i % 20 < 3 ? accountInformation(i) : undefined;
  const resource = !rar && i % 4 === 1;
  const ongoing = i % 10 !== 9;
  const scopes = ['openid', 'profile', ...(i % 3 ? ['email'] : []), ...(ongoing ? ['offline_access'] : [])];
  const claims = i % 5 === 0 ? ['birthdate'] : [];
  const parts: ConsentScope = {
    scopes, claims, resources: resource ? { [RESOURCE_SERVER.identifier]: ['read'] } : {}, authorizationDetails: rar ? [rar] : [],
  };
  return { rar, resource, ongoing, parts };
}

export async function seedConsentHistory(app: Sekisho, settings: SeedSettings, signingJwk: JWK, retentionDays: number): Promise<SeedResult> {
  const db = app.storage.db;
  const ledger = createConsentLedger(db, { retentionDays });
  const terms = createGrantTerms(db);
  const t0 = performance.now();

  const username = 'bench-consents';
  const password = `bench-consents-${randomUUID()}`;
  const account = await app.accounts.create({ username, password, claims: benchClaims(username) });

  const clientIds: string[] = [];
  const repo = createClientsRepository(db);
  for (let c = 0; c < settings.clients; c++) {
    const clientId = `bench-service-${c + 1}`;
    await registerClient(app.provider, repo, {
      client_id: clientId, client_name: `${SERVICES[c % SERVICES.length]} ${Math.floor(c / SERVICES.length) + 1}`,
      token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256', dpop_bound_access_tokens: true,
      grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [REDIRECT_URI],
      jwks: { keys: [{ ...signingJwk, kid: `service-${c + 1}`, alg: 'ES256', use: 'sig' }] },
    });
    clientIds.push(clientId);
  }
  const t1 = performance.now();

  // Grants, 50 at a time (the adapter folds concurrent saves into one statement), with their terms.
  const grantIds: string[] = [];
  let withDetails = 0;
  const tokenRows: Array<{ model: string; id: string; payload: string; grant_id: string; expires_at: Date }> = [];
  for (let start = 0; start < settings.grants; start += 50) {
    await Promise.all(Array.from({ length: Math.min(50, settings.grants - start) }, async (_, k) => {
      const i = start + k;
      const clientId = clientIds[i % clientIds.length]!;
      const { rar, resource, ongoing, parts } = shapeOf(i);
      const iat = now() - (settings.grants - i) * 3600; // one every hour, the newest last
      const exp = now() + (ongoing ? 30 + (i % 335) : 1) * DAY;
      const grant = new app.provider.Grant({ accountId: account.id, clientId, iat, exp } as never);
      grant.addOIDCScope(parts.scopes.join(' '));
      grant.addOIDCClaims([...SIGN_IN_CLAIMS, ...parts.claims]);
      if (resource) grant.addResourceScope(RESOURCE_SERVER.identifier, 'read');
      if (rar) { grant.addRar(rar as { type: string }); withDetails++; }
      const grantId = await grant.save();
      grantIds[i] = grantId;
      await terms.record({
        id: grantId, accountId: account.id, clientId, duration: ongoing ? 'ongoing' : 'once', parts, noticeVersion: null,
        expiresAt: new Date(exp * 1000),
      });
      const token = (model: string, ttl: number) => ({
        model, id: randomUUID().replace(/-/g, ''), grant_id: grantId, expires_at: new Date((now() + ttl) * 1000),
        payload: JSON.stringify({ kind: model, jti: '', accountId: account.id, clientId, grantId, iat: now() - (i % 48) * 3600, exp: now() + ttl, scope: parts.scopes.join(' '), sessionUid: randomUUID() }),
      });
      if (ongoing) tokenRows.push(token('RefreshToken', 30 * DAY));
      if (i % 5 === 0) tokenRows.push(token('AccessToken', 600));
    }));
  }
  for (let k = 0; k < tokenRows.length; k += 500) {
    await db.insertInto('oidc_models').values(tokenRows.slice(k, k + 500).map((r) => ({ ...r, payload: r.payload.replace('"jti":""', `"jti":"${r.id}"`) }))).execute();
  }
  const t2 = performance.now();

  // Ledger records: each grant's creation, then re-consents that added something, withdrawals of a
  // part, and denials, in the proportions of a long-lived account; 8 appends in flight (the
  // ledger's advisory lock orders them).
  let next = 0;
  const record = (n: number): ConsentRecordInput => {
    const g = n % settings.grants;
    const clientId = clientIds[g % clientIds.length]!;
    const { parts } = shapeOf(g);
    const kind = n < settings.grants ? 'create' : ['merge', 'merge', 'merge', 'revoke', 'denied'][n % 5]!;
    const empty: ConsentScope = { scopes: [], claims: [], resources: {}, authorizationDetails: [] };
    const context = { ip: `203.0.113.${n % 250}`, userAgent: USER_AGENT, acr: 'urn:sekisho:aal1', lang: 'ja', interaction: `seed-${randomUUID()}` };
    const base = { subject: account.id, clientId, channel: 'web' as const, context, shown: { clientId, parts, n } };
    if (kind === 'create') return { ...base, grantId: grantIds[g], action: 'create', decision: 'approved', requested: parts, granted: parts };
    if (kind === 'merge') return { ...base, grantId: grantIds[g], action: 'merge', decision: 'approved', requested: { ...empty, scopes: ['email'] }, granted: parts };
    if (kind === 'revoke') return { ...base, grantId: grantIds[g], action: 'revoke', decision: 'revoked', requested: { ...empty, claims: ['birthdate'] }, granted: parts, context: { ...context, partial: true } };
    return { ...base, action: 'create', decision: 'denied', requested: parts, granted: empty };
  };
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let n = next++; n < settings.records; n = next++) await ledger.append(record(n));
  }));
  const t3 = performance.now();
  const chain = await ledger.verify();
  const t4 = performance.now();

  const s = (a: number, b: number) => Math.round(b - a) / 1000;
  return {
    username, password, accountId: account.id, grants: grantIds.length, grantsWithDetails: withDetails,
    refreshTokens: tokenRows.filter((r) => r.model === 'RefreshToken').length, accessTokens: tokenRows.filter((r) => r.model === 'AccessToken').length,
    records: settings.records, seconds: { clients: s(t0, t1), grants: s(t1, t2), records: s(t2, t3), verify: s(t3, t4) }, chain,
  };
}
