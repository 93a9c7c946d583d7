import type { Config } from '../config/schema.ts';
import type { Logger } from '../shared/logger.ts';
import { openStorage } from '../storage/db.ts';
import { migrate } from '../storage/migrate.ts';
import { resolveKek } from '../keys/kek-source.ts';
import { createSigningKeyStore } from '../keys/signing-keys.ts';
import { createConsentLedger } from '../consent/ledger.ts';
import { createReceipts } from '../consent/receipts.ts';
import { createCatalogue } from '../consent/catalogue.ts';
import { createAuthorizationDetailTypes } from '../consent/authorization-details/registry.ts';

export const CONSENT_HELP = `  consent verify                check the consent ledger's hash chain; exit 1 at the first record that
                                was changed, removed or inserted
  consent receipt <record id>   print the signed receipt (JWT) of one consent record`;

/** `sekisho consent verify | receipt`: the consent ledger, for operators and auditors. */
export async function consentCommand(sub: string | undefined, args: string[], config: Config, logger: Logger): Promise<number> {
  if (sub !== 'verify' && sub !== 'receipt') {
    process.stderr.write(`${CONSENT_HELP}\n`);
    return 64;
  }
  const storage = await openStorage(config);
  try {
    await migrate(storage.db);
    const ledger = createConsentLedger(storage.db, { retentionDays: config.consent.retentionDays });
    if (sub === 'verify') {
      const check = await ledger.verify();
      process.stdout.write(JSON.stringify(check) + '\n');
      if (!check.ok) {
        process.stderr.write(`consent ledger broken at record ${check.seq} (${check.id}): ${check.reason === 'hash' ? 'its content was changed' : 'a record before it was changed, removed or inserted'}\n`);
        return 1;
      }
      return 0;
    }
    const record = args[0] ? await ledger.find(args[0]) : undefined;
    if (!record) { process.stderr.write(`no consent record ${args[0] ?? ''}\n`); return 1; }
    const keys = await createSigningKeyStore(storage.db, resolveKek(config, logger)).loadPrivateJwks();
    const sensitivity = { catalogue: createCatalogue(config.resourceServers), detailTypes: createAuthorizationDetailTypes(config.consent.authorizationDetailTypes) };
    process.stdout.write(await createReceipts(keys, { issuer: config.issuer, ...config.consent, sensitivity }).sign(record) + '\n');
    return 0;
  } finally {
    await storage.close();
  }
}
