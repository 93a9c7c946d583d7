import type { Config } from '../config/schema.ts';
import type { Logger } from '../shared/logger.ts';
import { createAuditLog } from '../audit/audit-log.ts';
import { createAuthenticationDevices, type AuthenticationDevice } from '../ciba/devices.ts';
import { fail, out, positional, withAccount } from './user-command.ts';

/**
 * `sekisho user devices | device-remove`: the phones that approve CIBA requests for a person, for
 * the help desk a person calls when they lost their only phone and cannot remove it from another.
 * Removal is written to the audit log, as when the person does it.
 */
export const USER_DEVICE_HELP = `  user devices <username>       list the person's approval devices (CIBA), removed ones included,
                                one JSON object a line
  user device-remove <username> <device-id>
                                remove one (a lost phone): it receives and approves nothing from now on`;

export const USER_DEVICE_SUBCOMMANDS: readonly string[] = ['devices', 'device-remove'];

const line = (d: AuthenticationDevice) => JSON.stringify({
  id: d.id, name: d.name, linkedAt: d.createdAt.toISOString(), lastUsedAt: d.lastSeenAt?.toISOString() ?? null,
  notifications: d.push, removedAt: d.removedAt?.toISOString() ?? null,
});

export async function userDeviceCommand(sub: string, args: string[], config: Config, logger: Logger): Promise<number> {
  const username = positional(args, 0);
  if (!username) return fail(64, `user ${sub} needs a username\n\n${USER_DEVICE_HELP}`);
  const id = positional(args, 1);
  if (sub === 'device-remove' && !id) return fail(64, 'user device-remove needs a username and a device id (see user devices)');

  return withAccount(config, username, async (db, account) => {
    const devices = createAuthenticationDevices(db);

    if (sub === 'devices') {
      const list = await devices.list(account.id);
      if (!list.length) return fail(0, `${username} has no approval devices`);
      for (const d of list) out(line(d));
      return 0;
    }

    if (sub === 'device-remove') {
      if (await devices.remove(account.id, id!)) {
        await createAuditLog(db, logger).record({ type: 'device.removed', outcome: 'success', subject: account.id, details: { device: id, via: 'cli' } });
        out(`removed ${id}`);
        return 0;
      }
      // Only to name the problem: the removal itself was the one atomic statement above.
      const removed = (await devices.list(account.id)).find((d) => d.id === id)?.removedAt;
      return removed
        ? fail(1, `${username}'s device ${id} was already removed (${removed.toISOString()})`)
        : fail(1, `${username} has no device ${id} (see user devices)`);
    }
    return fail(64, USER_DEVICE_HELP);
  });
}
