import { randomBytes } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { Csrf } from '../../http/csrf.ts';
import { FormBodyError, readFormParams, singleFields } from '../../http/form-body.ts';
import type { Accounts } from '../../identity/accounts.ts';
import type { Passkeys } from '../../identity/passkeys.ts';
import { PasskeyError } from '../../identity/passkeys.ts';
import { DeviceLimitError, type AuthenticationDevice, type AuthenticationDevices } from '../../ciba/devices.ts';
import type { CibaApprovals, ApprovalView } from '../../ciba/approvals.ts';
import type { CibaRequests } from '../../ciba/requests.ts';
import type { Catalogue } from '../../consent/catalogue.ts';
import type { AuthorizationDetailTypes } from '../../consent/authorization-details/registry.ts';
import { consentPage } from '../consent-page.ts';
import { shownHash } from '../../consent/ledger.ts';
import { errorPage } from '../error-page.ts';
import { t, type Lang } from '../i18n.ts';
import { html } from '../html.ts';
import { languageOf } from '../language.ts';
import { readPushSubscription } from './push-subscription.ts';
import { bindPage, devicesPage, listPage, manifest, offlinePage, outcomePage, requestPreface } from './pages.ts';
import { SERVICE_WORKER } from './service-worker.ts';

const APP_COOKIE = 'sekisho.device-app';
const BIND_COOKIE = 'sekisho.device-bind';
/** The device stays linked until removed; browsers cap cookie lifetimes near 400 days, so it is refreshed on use. */
const APP_COOKIE_MS = 395 * 86_400_000;
const REQUEST = /^\/device\/requests\/(req_[A-Za-z0-9_-]{22})(?:\/(passkey|approve|deny))?$/;
const DEVICE = /^\/device\/devices\/(dev_[A-Za-z0-9_-]{16})\/remove$/;

export interface DeviceAppDeps {
  devices: AuthenticationDevices;
  requests: CibaRequests;
  approvals: CibaApprovals;
  passkeys: Passkeys;
  accounts: Accounts;
  csrf: Csrf;
  audit: AuditLog;
  catalogue: Catalogue;
  detailTypes: AuthorizationDetailTypes;
  operator: string;
  /** Opens the live channel (server-sent events) to this device. */
  openLiveChannel(ctx: Context, target: { deviceId: string; accountId: string }): void;
  /** The VAPID public key when Web Push is configured. */
  pushPublicKey: string | undefined;
  /** Push endpoints on loopback (http) are accepted only where outbound.allowPrivateNetworks is on. */
  allowLoopbackPush: boolean;
  /** Refuses an endpoint at a special-use IP address (outbound guard). */
  checkOutboundUrl(url: string): void;
  clientName(clientId: string): Promise<string>;
  /** An item outside a delegation's constraints ("scope:email") in words. */
  labelItem(lang: Lang, item: string): string;
}

/**
 * The authentication device app under /device: a PWA the person installs on their phone, linked to
 * their account by a passkey sign-in. It lists the backchannel requests waiting for them (or for
 * those they act for), shows each with the consent screen, the binding message and the time left,
 * approves with a passkey assertion and denies with one tap.
 */
export function deviceAppRoutes(deps: DeviceAppDeps) {
  const { devices, csrf, audit } = deps;
  const csrfFor = (device: AuthenticationDevice) => csrf.tokenFor(`device:${device.id}`);

  async function currentDevice(ctx: Context): Promise<AuthenticationDevice | undefined> {
    const secret = ctx.cookies.get(APP_COOKIE, { signed: true });
    const device = secret ? await devices.authenticate(secret) : undefined;
    if (device && secret) setAppCookie(ctx, secret);
    return device;
  }

  function setAppCookie(ctx: Context, secret: string | null) {
    ctx.cookies.set(APP_COOKIE, secret, { signed: true, httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/device', maxAge: APP_COOKIE_MS, overwrite: true });
  }

  function html200(ctx: Context, body: string, status = 200) {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.state.scripts = true;
    ctx.state.deviceApp = true;
    ctx.body = body;
  }

  async function showBind(ctx: Context, lang: Lang, problem?: string) {
    const nonce = randomBytes(16).toString('base64url');
    ctx.cookies.set(BIND_COOKIE, nonce, { signed: true, httpOnly: true, sameSite: 'strict', secure: ctx.secure, path: '/device', maxAge: 600_000, overwrite: true });
    const options = await deps.passkeys.authenticationOptions({ binding: `device-bind:${nonce}` });
    html200(ctx, bindPage(lang, { csrf: csrf.tokenFor(`device-bind:${nonce}`), options, problem }), problem ? 400 : 200);
  }

  async function bind(ctx: Context, lang: Lang) {
    const nonce = ctx.cookies.get(BIND_COOKIE, { signed: true });
    const form = singleFields(await readFormParams(ctx), ['csrf', 'credential', 'name'] as const);
    if (!nonce || !csrf.verify(ctx, `device-bind:${nonce}`, form.csrf)) return errorPage(ctx, 403, 'invalid_request', t(lang, 'error.csrf'));
    let accountId: string;
    try {
      const response = JSON.parse(form.credential ?? '') as Parameters<Passkeys['authenticate']>[0]['response'];
      ({ accountId } = await deps.passkeys.authenticate({ binding: `device-bind:${nonce}`, response }));
    } catch (err) {
      if (!(err instanceof PasskeyError) && !(err instanceof SyntaxError)) throw err;
      audit.recordInBackground({ type: 'device.bind_failed', outcome: 'failure', ip: ctx.ip, details: { reason: err instanceof PasskeyError ? err.reason : 'malformed' } });
      return showBind(ctx, lang, 'device.bind.failed');
    }
    try {
      const { device, secret } = await devices.bind(accountId, (form.name ?? '').trim());
      setAppCookie(ctx, secret);
      ctx.cookies.set(BIND_COOKIE, null, { signed: true, path: '/device', overwrite: true });
      audit.recordInBackground({ type: 'device.bound', outcome: 'success', subject: accountId, ip: ctx.ip, details: { device: device.id } });
      ctx.redirect('/device');
    } catch (err) {
      if (err instanceof DeviceLimitError) return showBind(ctx, lang, 'device.bind.limit');
      throw err;
    }
  }

  async function principalName(accountId: string): Promise<string> {
    const account = await deps.accounts.findById(accountId);
    return account?.claims.name ?? account?.username ?? '';
  }

  async function list(ctx: Context, lang: Lang, device: AuthenticationDevice) {
    const pending = await deps.requests.pendingFor(device.accountId);
    const items = await Promise.all(pending.map(async (request) => ({
      request, clientName: await deps.clientName(request.clientId),
      principalName: request.subject !== device.accountId ? await principalName(request.subject) : undefined,
    })));
    html200(ctx, listPage(lang, { device, items, csrf: csrfFor(device), pushAvailable: deps.pushPublicKey !== undefined }));
  }

  function renderRequest(lang: Lang, device: AuthenticationDevice, view: ApprovalView & { principalName?: string | undefined }, shown: string, problem?: string) {
    const base = `/device/requests/${view.request.id}`;
    return consentPage(lang, {
      uid: view.request.id, csrf: csrfFor(device), shown, request: view.consent, catalogue: deps.catalogue, detailType: (type) => deps.detailTypes.get(type),
      operator: deps.operator, problem, onBehalfOf: view.principalName,
      endpoints: { confirm: `${base}/approve`, deny: `${base}/deny`, langSwitch: `${base}?lang=${lang === 'ja' ? 'en' : 'ja'}` },
      preface: requestPreface(lang, { request: view.request, principalName: view.principalName, relationship: view.delegation?.relationship, beyond: view.beyond.map((item) => deps.labelItem(lang, item)) }),
      pageOptions: { head: html`<link rel="manifest" href="/device/manifest.webmanifest">
<meta name="theme-color" content="#1d3557">
<script src="/assets/webauthn.js" defer></script>
<script src="/assets/device.js" defer></script>` },
    });
  }

  function outcome(ctx: Context, lang: Lang, kind: string, clientName = '') {
    const key = { approved: 'device.approved', denied: 'device.denied', decided: 'device.decided', expired: 'device.expired', 'not-found': 'device.gone' }[kind] ?? 'device.gone';
    html200(ctx, outcomePage(lang, key, { client: clientName }), kind === 'not-found' ? 404 : kind === 'decided' || kind === 'expired' ? 409 : 200);
  }

  async function request(ctx: Context, lang: Lang, device: AuthenticationDevice, id: string, action: string | undefined) {
    if (action === undefined) {
      if (ctx.method !== 'GET') return methodNotAllowed(ctx);
      const view = await deps.approvals.view(device, id);
      if (!('request' in view)) return outcome(ctx, lang, view.kind);
      const principal = view.delegation ? await principalName(view.request.subject) : undefined;
      return html200(ctx, renderRequest(lang, device, { ...view, principalName: principal }, shownHash(view.consent)));
    }
    if (ctx.method !== 'POST') return methodNotAllowed(ctx);
    if (action === 'passkey') {
      // JSON for device.js; the CSRF token rides in a header (a cross-site page cannot set one).
      if (!csrf.verify(ctx, `device:${device.id}`, ctx.get('x-csrf-token') || undefined)) return errorJson(ctx, 403, 'csrf');
      const options = await deps.approvals.passkeyOptions(device, id);
      if (!options) return errorJson(ctx, 409, 'not_pending');
      ctx.set('Cache-Control', 'no-store');
      ctx.body = options;
      return;
    }
    const params = await readFormParams(ctx, 64 * 1024);
    if (params.getAll('csrf').length !== 1 || !csrf.verify(ctx, `device:${device.id}`, params.get('csrf') ?? undefined)) {
      audit.recordInBackground({ type: 'csrf.rejected', outcome: 'failure', ip: ctx.ip, details: { path: ctx.path } });
      return errorPage(ctx, 403, 'invalid_request', t(lang, 'error.csrf'));
    }
    // One read of the request row serves the names on the outcome and, for a delegate, the person's name.
    const row = await deps.requests.forApprover(id, device.accountId);
    const clientName = async () => (row ? deps.clientName(row.clientId) : '');
    if (action === 'deny') {
      const result = await deps.approvals.deny({ ctx, device, requestId: id, lang, csrf: csrfFor(device) });
      return outcome(ctx, lang, result.kind, await clientName());
    }
    const named = row?.delegationId ? await principalName(row.subject) : undefined;
    const result = await deps.approvals.approve({
      ctx, device, requestId: id, form: params, lang, csrf: csrfFor(device),
      render: (view, shown, problem) => { ctx.state.scripts = true; ctx.state.deviceApp = true; return renderRequest(lang, device, { ...view, principalName: named }, shown, problem); },
    });
    if (result.kind === 'shown-again') return;
    return outcome(ctx, lang, result.kind, await clientName());
  }

  async function devicesList(ctx: Context, lang: Lang, device: AuthenticationDevice, done = false) {
    html200(ctx, devicesPage(lang, { current: device, devices: await devices.list(device.accountId), csrf: csrfFor(device), done }));
  }

  async function removeDevice(ctx: Context, lang: Lang, device: AuthenticationDevice, id: string) {
    const form = singleFields(await readFormParams(ctx), ['csrf'] as const);
    if (!csrf.verify(ctx, `device:${device.id}`, form.csrf)) return errorPage(ctx, 403, 'invalid_request', t(lang, 'error.csrf'));
    const removed = await devices.remove(device.accountId, id);
    if (removed) audit.recordInBackground({ type: 'device.removed', outcome: 'success', subject: device.accountId, ip: ctx.ip, details: { device: id, from: device.id } });
    if (id === device.id) {
      setAppCookie(ctx, null);
      return ctx.redirect('/device');
    }
    return devicesList(ctx, lang, device, removed);
  }

  async function push(ctx: Context, device: AuthenticationDevice) {
    if (!csrf.verify(ctx, `device:${device.id}`, ctx.get('x-csrf-token') || undefined)) return errorJson(ctx, 403, 'csrf');
    if (!deps.pushPublicKey) return errorJson(ctx, 404, 'push_not_configured');
    const subscription = await readPushSubscription(ctx, { allowLoopback: deps.allowLoopbackPush, checkUrl: deps.checkOutboundUrl });
    if (!subscription) return errorJson(ctx, 400, 'invalid_subscription');
    await devices.setPushSubscription(device.id, subscription);
    ctx.status = 204;
  }

  return async function handle(ctx: Context, next: Next) {
    if (ctx.path !== '/device' && !ctx.path.startsWith('/device/')) return next();
    const lang = languageOf(ctx);
    try {
      if (ctx.path === '/device/manifest.webmanifest') {
        ctx.type = 'application/manifest+json';
        ctx.set('Cache-Control', 'public, max-age=3600');
        ctx.body = manifest(lang);
        return;
      }
      if (ctx.path === '/device/sw.js') {
        ctx.state.deviceApp = true;
        // The worker lives at /device/sw.js but serves the app at /device itself, one level up.
        ctx.set('Service-Worker-Allowed', '/device');
        ctx.type = 'text/javascript; charset=utf-8';
        ctx.set('Cache-Control', 'no-cache');
        ctx.body = SERVICE_WORKER;
        return;
      }
      if (ctx.path === '/device/offline') return html200(ctx, offlinePage(lang));
      if (ctx.path === '/device/push-key') {
        if (!deps.pushPublicKey) return errorJson(ctx, 404, 'push_not_configured');
        ctx.body = { publicKey: deps.pushPublicKey };
        return;
      }
      if (ctx.path === '/device/bind' && ctx.method === 'POST') return await bind(ctx, lang);

      const device = await currentDevice(ctx);
      if (!device) {
        if (ctx.path === '/device' && ctx.method === 'GET') return await showBind(ctx, lang);
        if (ctx.path === '/device/events' || ctx.path.endsWith('/passkey') || ctx.path === '/device/push') return errorJson(ctx, 401, 'device_not_linked');
        return ctx.redirect('/device');
      }
      if (ctx.path === '/device' && ctx.method === 'GET') return await list(ctx, lang, device);
      if (ctx.path === '/device/events' && ctx.method === 'GET') return deps.openLiveChannel(ctx, { deviceId: device.id, accountId: device.accountId });
      if (ctx.path === '/device/push' && ctx.method === 'POST') return await push(ctx, device);
      if (ctx.path === '/device/devices' && ctx.method === 'GET') return await devicesList(ctx, lang, device);
      const removal = DEVICE.exec(ctx.path);
      if (removal && ctx.method === 'POST') return await removeDevice(ctx, lang, device, removal[1]!);
      const match = REQUEST.exec(ctx.path);
      if (match) return await request(ctx, lang, device, match[1]!, match[2]);
      return outcome(ctx, lang, 'not-found');
    } catch (err) {
      if (err instanceof FormBodyError) return errorPage(ctx, err.status, 'invalid_request');
      throw err;
    }
  };
}

function methodNotAllowed(ctx: Context) {
  ctx.status = 405;
  ctx.body = '';
}

function errorJson(ctx: Context, status: number, error: string) {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error };
}
