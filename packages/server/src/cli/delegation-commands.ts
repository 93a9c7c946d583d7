import type { Kysely } from 'kysely';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../shared/logger.ts';
import type { Database } from '../storage/schema.ts';
import { openStorage } from '../storage/db.ts';
import { migrate } from '../storage/migrate.ts';
import { createAuditLog } from '../audit/audit-log.ts';
import { createAccounts } from '../identity/accounts.ts';
import { BUILT_IN_SCOPES } from '../consent/catalogue.ts';
import { createAuthorizationDetailTypes } from '../consent/authorization-details/registry.ts';
import { createDelegations, DelegationError, RELATIONSHIPS, type DelegationListing } from '../consent/delegations.ts';
import { fail, flag, out, positional } from './user-command.ts';
import { createConsentLedger } from '../consent/ledger.ts';
import { createGrants } from '../consent/grants.ts';
import { endDelegation } from '../consent/delegation-endings.ts';
import { delegationRow, parseAddFlags } from './delegation-flags.ts';

export const DELEGATION_HELP = `  delegation add --principal <username> --delegate <username> --relationship ${RELATIONSHIPS.join('|')}
                 --evidence <ref> --verified-by <name> [--verified-at <ISO>] [--scopes a,b]
                 [--types fhir_record_access,...] [--exclude-sensitive] [--from <ISO>] [--until <ISO>]
                                register that the delegate may decide for the principal, from evidence
                                you checked (evidence: a reference to the document, never the document);
                                without --scopes or --types the delegate can only sign in for them
  delegation list [--account <username>]
                                list delegations (all, or those given by or to one person)
  delegation end <id> --reason <text>
                                end a delegation at once (e.g. a court ended a guardianship)`;

/** The flag each input field comes from, so a refusal names what the operator typed. */
const FLAG_OF: Record<string, string> = {
  principal: '--principal', delegate: '--delegate', relationship: '--relationship', evidence: '--evidence', verifiedBy: '--verified-by',
  verifiedAt: '--verified-at', validFrom: '--from', validUntil: '--until', 'constraints.scopes': '--scopes',
  'constraints.authorizationDetailTypes': '--types', reason: '--reason',
};
const flagOf = (field: string) => FLAG_OF[field] ?? FLAG_OF[field.replace(/\.\d+$/, '')] ?? field;

/**
 * `sekisho delegation add | list | end`: who may decide for whom (a parent, a court-appointed
 * guardian, an appointed proxy, a caregiver), registered by an operator who checked the evidence.
 * Each change is in the audit log (without the evidence reference, which stays in delegations).
 */
export async function delegationCommand(sub: string | undefined, args: string[], config: Config, logger: Logger): Promise<number> {
  if (sub !== 'add' && sub !== 'list' && sub !== 'end') return fail(64, DELEGATION_HELP);
  const parsed = sub === 'add' ? parseAddFlags(args, knownNames(config)) : undefined;
  if (parsed && 'error' in parsed) return fail(parsed.code, `delegation add: ${parsed.error}`);
  const id = positional(args, 0);
  const reason = flag(args, '--reason');
  if (sub === 'end' && (!id || reason === undefined || reason.startsWith('--'))) return fail(64, 'delegation end needs an id and --reason <text>');
  const accountFilter = flag(args, '--account');
  if (sub === 'list' && args.includes('--account') && !accountFilter) return fail(64, 'delegation list: --account needs a username');

  const storage = await openStorage(config);
  try {
    await migrate(storage.db);
    const delegations = createDelegations(storage.db);
    const audit = createAuditLog(storage.db, logger);
    const accounts = createAccounts(storage.db);

    if (parsed) {
      const principal = await accounts.findByLogin(parsed.principal);
      const delegate = await accounts.findByLogin(parsed.delegate);
      if (!principal) return fail(1, `--principal: no account ${parsed.principal}`);
      if (!delegate) return fail(1, `--delegate: no account ${parsed.delegate}`);
      try {
        const d = await delegations.register({ ...parsed.input, principal: principal.id, delegate: delegate.id });
        await audit.record({
          type: 'delegation.registered', outcome: 'success', subject: principal.id,
          details: { via: 'cli', id: d.id, delegate: delegate.id, relationship: d.relationship, verifiedBy: d.verifiedBy, constraints: d.constraints, validFrom: d.validFrom.toISOString(), validUntil: d.validUntil?.toISOString() ?? null },
        });
        if (!d.constraints.scopes?.length && !d.constraints.authorizationDetailTypes?.length) {
          process.stderr.write('note: without --scopes or --types the delegate can only sign in for the principal, not allow any data\n');
        }
        out({ ...d, principal: principal.username, delegate: delegate.username });
        return 0;
      } catch (err) {
        if (!(err instanceof DelegationError)) throw err;
        return fail(err.code === 'duplicate' || err.code === 'unknown-account' ? 1 : 65,
          err.issues.map((i) => `delegation add: ${flagOf(i.field)}: ${i.message}`).join('\n'));
      }
    }

    if (sub === 'list') return await list(storage.db, delegations, accountFilter);

    const found = await delegations.find(id!);
    if (!found) return fail(1, `no delegation ${id}`);
    try {
      const ledger = createConsentLedger(storage.db, { retentionDays: config.consent.retentionDays });
      const { ended, grantsEnded } = await endDelegation({ delegations, grants: createGrants(storage.db), ledger }, found.id, { by: 'operator', reason: reason! });
      if (!ended) return fail(1, `delegation ${id} has already ended`);
      if (grantsEnded) process.stderr.write(`${grantsEnded} consent(s) the delegate gave under it ended with it\n`);
    } catch (err) {
      if (!(err instanceof DelegationError)) throw err;
      return fail(65, err.issues.map((i) => `delegation end: ${flagOf(i.field)}: ${i.message}`).join('\n'));
    }
    await audit.record({
      type: 'delegation.ended', outcome: 'success', subject: found.principal,
      details: { via: 'cli', id: found.id, by: 'operator', reason: reason!.trim(), delegate: found.delegate, relationship: found.relationship },
    });
    out(`ended ${found.id}`);
    return 0;
  } finally { await storage.close(); }
}

async function list(db: Kysely<Database>, delegations: ReturnType<typeof createDelegations>, username: string | undefined): Promise<number> {
  let rows: DelegationListing[];
  if (username) {
    const account = await createAccounts(db).findByLogin(username);
    if (!account) return fail(1, `--account: no account ${username}`);
    const mine = await delegations.listForAccount(account.id);
    rows = [...mine.actingForMe, ...mine.iActFor];
  } else {
    rows = await delegations.list();
  }
  if (!rows.length) return fail(0, username ? `${username} has no delegations` : 'there are no delegations');
  const now = new Date();
  for (const d of rows) out(delegationRow(d, now));
  return 0;
}

/** The scopes and authorization_details types this deployment knows, so a typo is refused, not silently useless. */
function knownNames(config: Config): { scopes: Set<string>; types: Set<string> } {
  return {
    scopes: new Set([...Object.keys(BUILT_IN_SCOPES), ...config.resourceServers.flatMap((rs) => rs.scopes)]),
    types: new Set(createAuthorizationDetailTypes(config.consent.authorizationDetailTypes).all().map((t) => t.type)),
  };
}
