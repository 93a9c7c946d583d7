import type { Config } from '../config/schema.ts';
import type { Logger } from '../shared/logger.ts';
import { createAuditLog } from '../audit/audit-log.ts';
import { createLinkedResources, LinkedResourceError } from '../identity/linked-resources.ts';
import { LINKED_RESOURCE_KINDS } from '../consent/authorization-details/registry.ts';
import { fail, flag, out, positional, withAccount } from './user-command.ts';

/**
 * `sekisho user link | links | unlink`: the bank accounts and patient records a person holds,
 * which the consent screen offers when a client asks for authorization_details ("which accounts
 * may it see?"). Each change is written to the audit log (without the ref: an account number
 * stays in linked_resources).
 */
export const USER_LINK_HELP = `  user link <username> --kind ${LINKED_RESOURCE_KINDS.join('|')} --ref <ref> --label <label>
                                link a resource the person holds (ref: the bank's or FHIR server's own
                                identifier, e.g. 0001-001-1234567; label: what the person sees, e.g.
                                "普通 ****4567")
  user links <username> [--kind <kind>]
                                list the person's linked resources
  user unlink <username> <id>   unlink one (the id from user links)`;

export const USER_LINK_SUBCOMMANDS: readonly string[] = ['link', 'links', 'unlink'];

export async function userLinkCommand(sub: string, args: string[], config: Config, logger: Logger): Promise<number> {
  const username = positional(args, 0);
  if (!username) return fail(64, `user ${sub} needs a username\n\n${USER_LINK_HELP}`);
  const kind = flag(args, '--kind');
  const [ref, label] = [flag(args, '--ref'), flag(args, '--label')];
  if (sub === 'link' && (kind === undefined || ref === undefined || label === undefined)) {
    return fail(64, `user link needs --kind, --ref and --label\n\n${USER_LINK_HELP}`);
  }
  if (kind !== undefined && !LINKED_RESOURCE_KINDS.includes(kind)) {
    return fail(64, `user ${sub}: --kind must be one of ${LINKED_RESOURCE_KINDS.join(', ')}`);
  }
  const id = positional(args, 1);
  if (sub === 'unlink' && !id) return fail(64, 'user unlink needs a username and an id (see user links)');

  return withAccount(config, username, async (db, account) => {
    const linked = createLinkedResources(db);
    const audit = createAuditLog(db, logger);

    if (sub === 'link') {
      try {
        const r = await linked.add({ accountId: account.id, kind: kind!, ref: ref!, label: label! });
        await audit.record({ type: 'account.resource_linked', outcome: 'success', subject: account.id, details: { via: 'cli', id: r.id, kind: r.kind } });
        out({ id: r.id, kind: r.kind, ref: r.ref, label: r.label });
        return 0;
      } catch (err) {
        if (!(err instanceof LinkedResourceError)) throw err;
        if (err.code === 'duplicate') return fail(1, `user link: ${username} already has ${kind} ${ref} linked (see user links)`);
        if (err.code === 'unknown-account') return fail(1, `no account ${username}`);
        return fail(65, `user link: ${err.issues.join('; ')}`);
      }
    }

    if (sub === 'links') {
      const list = await linked.list(account.id, kind);
      if (!list.length) return fail(0, `${username} has no linked ${kind ?? 'resource'}`);
      for (const r of list) out([r.id, r.kind, r.ref, r.label, r.createdAt.toISOString()].join('\t'));
      return 0;
    }

    if (sub === 'unlink') {
      if (!(await linked.remove(account.id, id!))) return fail(1, `${username} has no linked resource ${id}`);
      await audit.record({ type: 'account.resource_unlinked', outcome: 'success', subject: account.id, details: { via: 'cli', id } });
      out(`unlinked ${id}`);
      return 0;
    }
    return fail(64, USER_LINK_HELP);
  });
}
