import { createServer } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type JWKS } from 'oidc-provider';
import { applyFapiCorrections, buildFapiConfiguration } from '../../packages/server/src/protocol/provider.ts';
import { parseConfig } from '../../packages/server/src/config/load.ts';
import { listen } from '../../packages/server/src/http/server.ts';
import { accountClaims } from '../../packages/server/src/identity/claims.ts';
import { registerClient } from '../../packages/server/src/protocol/client-registration.ts';
import { SIGNING_ALGS } from '../../packages/server/src/keys/signing-keys.ts';
import type { ClientsRepository } from '../../packages/server/src/storage/clients-repo.ts';
import { bareInteractions, type BareAccount } from './bare-interactions.ts';
import { freePort } from './free-port.ts';
import { benchClaims, RESOURCE_SERVER, type BenchTarget } from './types.ts';

/**
 * The baseline: `new Provider(issuer, configuration)` with Sekisho's own FAPI configuration
 * (buildFapiConfiguration, no adapter: oidc-provider's default in-memory one) and Sekisho's
 * corrections of library behaviour (applyFapiCorrections), the same signing algorithms as
 * Sekisho's key store (one ES256, PS256-3072 and Ed25519 key), served by node:http on 127.0.0.1.
 * What it does not have is what the comparison is about: the database (protocol records, replay
 * ids, clients, accounts), the audit log, and Sekisho's own middleware.
 */
export async function startBare(): Promise<BenchTarget> {
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const config = parseConfig({ issuer, port, host: '127.0.0.1', resourceServers: [RESOURCE_SERVER] });

  const accounts = new Map<string, BareAccount>();
  const claimsById = new Map<string, Record<string, unknown>>();
  const provider = new Provider(issuer, buildFapiConfiguration({
    config,
    jwks: await signingKeys(),
    cookieKeys: [randomBytes(32).toString('base64url')],
    dpopNonceSecret: randomBytes(32),
    async findAccount(_ctx, sub) {
      const claims = claimsById.get(sub);
      if (!claims) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...claims }) };
    },
  }));
  provider.proxy = config.trustProxy;
  applyFapiCorrections(provider);
  provider.use(bareInteractions(provider, accounts));

  const server = createServer(provider.callback());
  await listen(server, port, '127.0.0.1');

  // Clients live in the provider's own adapter (the in-memory one), like Sekisho's live in its
  // database: both are read through Client.find → adapter.find on every request.
  const clientAdapter = (provider.Client as unknown as { adapter: { upsert(id: string, payload: object): Promise<void> } }).adapter;
  const clients = {
    async insert(metadata: { client_id: string }) {
      await clientAdapter.upsert(metadata.client_id, metadata);
      return true;
    },
  } as unknown as ClientsRepository;
  let users = 0;

  return {
    name: 'bare',
    issuer,
    origin: `http://127.0.0.1:${port}`,
    async registerClient(metadata) {
      await registerClient(provider, clients, metadata);
    },
    async createUser() {
      const username = `bench-user-${++users}`;
      const password = `bench-password-${users}-${randomBytes(6).toString('hex')}`;
      const id = randomUUID();
      accounts.set(username, { id, password });
      claimsById.set(id, accountClaims({ id, username, email: null, hasPassword: true, claims: benchClaims(username), updatedAt: new Date() }));
      return { username, password };
    },
    async close() {
      await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
    },
  };
}

/**
 * One private JWK per algorithm Sekisho signs with, generated as its key store does and in the
 * order it loads them (newest first: it creates them in SIGNING_ALGS order).
 */
async function signingKeys(): Promise<JWKS> {
  const keys = [];
  for (const alg of [...SIGNING_ALGS].reverse()) {
    const options = alg === 'PS256' ? { modulusLength: 3072, extractable: true } : alg === 'EdDSA' ? { crv: 'Ed25519', extractable: true } : { extractable: true };
    const { privateKey } = await generateKeyPair(alg, options);
    keys.push({ ...(await exportJWK(privateKey)), kid: `bare-${alg}`, alg, use: 'sig' });
  }
  return { keys } as unknown as JWKS;
}
