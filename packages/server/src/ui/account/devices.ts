import { PasswordHashingBusyError } from '../../identity/password.ts';
import { t } from '../i18n.ts';
import { render, seeOther, type AccountRequest } from './context.ts';
import { devicesPage } from './devices-pages.ts';

/** CIBA §7.1 leaves the user_code's form to the server; long enough not to guess, short enough to say aloud. */
const REQUEST_CODE_LENGTH = { min: 8, max: 64 } as const;

export async function showDevices(r: AccountRequest, problem?: { error?: string; codeError?: string }, status = 200) {
  render(r.ctx, devicesPage(r.lang, {
    csrf: r.csrf, done: typeof r.ctx.query.done === 'string' ? r.ctx.query.done : undefined,
    devices: await r.deps.devices.list(r.account.id), requestCode: await r.deps.userCodes.isSet(r.account.id), ...problem,
  }), status);
}

/**
 * Removes one of the person's approval devices (a lost phone): from now on it receives nothing
 * and decides nothing. Another account's device is not found, like one that never existed.
 */
export async function removeDevice(r: AccountRequest) {
  const id = (r.form.id ?? '').slice(0, 100);
  if (id && await r.deps.devices.remove(r.account.id, id)) {
    r.deps.audit.recordInBackground({ type: 'device.removed', outcome: 'success', subject: r.account.id, ip: r.ctx.ip, details: { device: id, via: 'account' } });
    return seeOther(r.ctx, '/account/devices', 'device-removed');
  }
  // Only to say why: the removal itself was the one atomic statement above.
  const gone = id ? (await r.deps.devices.list(r.account.id)).some((d) => d.id === id && d.removedAt) : false;
  return gone
    ? showDevices(r, { error: t(r.lang, 'approval-devices.already-removed') }, 409)
    : showDevices(r, { error: t(r.lang, 'approval-devices.not-found') }, 404);
}

/** Sets or changes the request code; it is hashed (createCibaUserCodes) and never shown again. */
export async function setRequestCode(r: AccountRequest) {
  const code = r.form.code ?? '';
  const length = [...code].length;
  if (length < REQUEST_CODE_LENGTH.min || length > REQUEST_CODE_LENGTH.max) return showDevices(r, { codeError: t(r.lang, 'request-code.length') }, 400);
  if (code !== (r.form.confirm ?? '')) return showDevices(r, { codeError: t(r.lang, 'request-code.mismatch') }, 400);
  const changed = await r.deps.userCodes.isSet(r.account.id);
  try {
    await r.deps.userCodes.set(r.account.id, code);
  } catch (err) {
    if (!(err instanceof PasswordHashingBusyError)) throw err;
    r.ctx.set('Retry-After', '5');
    return showDevices(r, { codeError: t(r.lang, 'request-code.busy') }, 503);
  }
  r.deps.audit.recordInBackground({ type: 'ciba.user_code_set', outcome: 'success', subject: r.account.id, ip: r.ctx.ip, details: { changed, via: 'account' } });
  seeOther(r.ctx, '/account/devices', 'request-code-set');
}

/** From now on a client that requires a user_code cannot reach this person's phone. */
export async function removeRequestCode(r: AccountRequest) {
  if (await r.deps.userCodes.isSet(r.account.id)) {
    await r.deps.userCodes.clear(r.account.id);
    r.deps.audit.recordInBackground({ type: 'ciba.user_code_removed', outcome: 'success', subject: r.account.id, ip: r.ctx.ip, details: { via: 'account' } });
  }
  seeOther(r.ctx, '/account/devices', 'request-code-removed');
}
