import type { Config } from '../config/schema.ts';
import type { Logger } from '../shared/logger.ts';
import { createAuditLog } from '../audit/audit-log.ts';
import { createIdentityAssurance, IdentityAssuranceError, type VerificationInput } from '../identity/identity-assurance.ts';
import { VERIFIABLE_CLAIMS, VERIFICATION_METHODS } from '../identity/identity-evidence.ts';
import { createAccountDeletion } from '../identity/account-deletion.ts';
import { fail, flag, out, positional, withAccount } from './user-command.ts';

/**
 * `sekisho user verify | verifications | unverify | delete`: identity assurance records and
 * account deletion, for operators. Each change is written to the audit log.
 */
export const USER_IDENTITY_HELP = `  user verify <username> --level ial1|ial2|ial3 --trust-framework <id> --method <id> --verifier <who>
        [--document-type <type>] [--claims <json>] [--verified-at <ISO 8601>]
        [--assurance-level <level>] [--verification-process <reference>] [--evidence <json array>]
                                record an identity verification (the claims default to the identity
                                claims the account holds: names, birthdate, address)
  user verifications <username> list identity verifications, revoked ones included
  user unverify <username> <id> [--reason <text>]
                                withdraw an identity verification
  user delete <username>        delete an account: ends its sessions, grants and tokens, erases its data`;

export const USER_IDENTITY_SUBCOMMANDS: readonly string[] = ['verify', 'verifications', 'unverify', 'delete'];

function parseJson(raw: string | undefined, name: string): { ok: true; value: unknown } | { ok: false } {
  if (raw === undefined) return { ok: true, value: undefined };
  try { return { ok: true, value: JSON.parse(raw) }; } catch { process.stderr.write(`${name} must be JSON\n`); return { ok: false }; }
}

export async function userIdentityCommand(sub: string, args: string[], config: Config, logger: Logger): Promise<number> {
  const username = positional(args, 0);
  if (!username) return fail(64, `user ${sub} needs a username\n\n${USER_IDENTITY_HELP}`);
  // The service validates every field (and names the one at fault); here only flags are read.
  let input: Record<string, unknown> & { claims: unknown } | undefined;
  if (sub === 'verify') {
    const [level, trustFramework, method, verifier] = ['--level', '--trust-framework', '--method', '--verifier'].map((f) => flag(args, f));
    if (!level || !trustFramework || !method || !verifier) return fail(64, `user verify needs --level, --trust-framework, --method and --verifier\n\n${USER_IDENTITY_HELP}`);
    const claims = parseJson(flag(args, '--claims'), '--claims');
    const evidence = parseJson(flag(args, '--evidence'), '--evidence');
    if (!claims.ok || !evidence.ok) return 65;
    const verifiedAt = flag(args, '--verified-at') ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const documentType = flag(args, '--document-type');
    input = {
      level, trustFramework, method, verifier, verifiedAt,
      assuranceLevel: flag(args, '--assurance-level'), verificationProcess: flag(args, '--verification-process'),
      claims: claims.value,
      // What was checked, as OpenID Connect for Identity Assurance evidence: a document, checked
      // by the method (an identity verification method of earlier drafts goes in `method`).
      evidence: evidence.value ?? [{
        type: 'document',
        ...(Object.hasOwn(VERIFICATION_METHODS, method) ? { method, time: verifiedAt } : { check_details: [{ check_method: method, time: verifiedAt }] }),
        ...(documentType ? { document_details: { type: documentType } } : {}),
      }],
    };
  }

  return withAccount(config, username, async (db, account) => {
    const audit = createAuditLog(db, logger);
    const assurance = createIdentityAssurance(db);

    if (sub === 'verify' && input) {
      const { claims, ...rest } = input;
      const defaults = Object.fromEntries(VERIFIABLE_CLAIMS.filter((c) => account.claims[c as keyof typeof account.claims] !== undefined)
        .map((c) => [c, account.claims[c as keyof typeof account.claims]]));
      const verifiedClaims = claims ?? defaults;
      if (Object.keys(verifiedClaims as object).length === 0) {
        return fail(65, `user verify: ${username} has no name, birthdate or address to verify; pass --claims`);
      }
      try {
        const v = await assurance.record({ ...rest, accountId: account.id, verifiedClaims } as VerificationInput);
        await audit.record({
          type: 'identity.verified', outcome: 'success', subject: account.id,
          details: { via: 'cli', verification: v.id, level: v.level, trust_framework: v.trustFramework, method: v.method, verifier: v.verifier, claims: Object.keys(v.verifiedClaims) },
        });
        out({ id: v.id, level: v.level, trustFramework: v.trustFramework, verifiedAt: v.verifiedAt.toISOString(), claims: Object.keys(v.verifiedClaims) });
        return 0;
      } catch (err) {
        if (err instanceof IdentityAssuranceError) return fail(err.code === 'unknown-account' ? 1 : 65, `user verify: ${err.issues.join('; ') || err.message}`);
        throw err;
      }
    }

    if (sub === 'verifications') {
      const list = await assurance.list(account.id);
      if (!list.length) return fail(0, `${username} has no identity verification: ial1 (self-asserted)`);
      for (const v of list) {
        out([v.id, v.level, v.trustFramework, v.method, v.verifiedAt.toISOString(), v.revokedAt ? `revoked ${v.revokedAt.toISOString()}` : 'in force',
          v.verifier, Object.keys(v.verifiedClaims).join(',')].join('\t'));
      }
      return 0;
    }

    if (sub === 'unverify') {
      const id = positional(args, 1);
      if (!id) return fail(64, 'user unverify needs a username and a verification id (see user verifications)');
      if (!(await assurance.revoke(account.id, id))) return fail(1, `${username} has no verification ${id} in force`);
      const reason = flag(args, '--reason');
      await audit.record({ type: 'identity.verification_revoked', outcome: 'success', subject: account.id, details: { via: 'cli', verification: id, ...(reason ? { reason } : {}) } });
      out(`revoked ${id}; ${username} is now ${await assurance.levelOf(account.id)}`);
      return 0;
    }

    if (sub === 'delete') {
      const deleted = await createAccountDeletion(db).deleteAccount(account.id, 'admin');
      if (!deleted) return fail(1, `no account ${username}`);
      await audit.record({ type: 'account.deleted', outcome: 'success', subject: account.id, details: { by: 'admin', via: 'cli', counts: deleted.counts } });
      out({ id: account.id, deleted: deleted.counts });
      return 0;
    }
    return fail(64, USER_IDENTITY_HELP);
  });
}
