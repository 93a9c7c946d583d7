import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { DeliveryError, type Notifier } from './types.ts';

export interface WebhookOptions {
  /** The deployment's mobile backend, which tells its native app (through FCM, APNs …). */
  url: string;
  /** HMAC-SHA256 key shared with that backend. */
  secret: string;
  /** Per-request limit, on top of the dispatcher's signal. */
  timeoutMs?: number;
}

/** What the backend receives (JSON, snake_case like the rest of the protocol surface). */
export interface WebhookBody {
  type: 'ciba.request' | 'ciba.settled';
  /** Unique per delivery attempt sequence; a backend can drop a replay it has already seen. */
  id: string;
  device_id: string;
  request_id: string;
  client_name: string;
  binding_message: string | null;
  expires_at: string;
}

export const SIGNATURE_HEADER = 'Sekisho-Signature';

function sign(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The header value: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. */
export function signWebhook(secret: string, body: string, now = new Date()): string {
  const t = Math.floor(now.getTime() / 1000);
  return `t=${t},v1=${sign(secret, t, body)}`;
}

/**
 * For the deployment's backend: whether `header` signs `body` (the raw request bytes, before any
 * JSON parsing) with `secret`, within `toleranceSeconds` of `now` (a replayed old delivery fails).
 * Several v1 values are accepted, so a secret can be rotated. Compares in constant time.
 */
export function verifyWebhookSignature(
  secret: string, header: string | null | undefined, body: string,
  options: { toleranceSeconds?: number; now?: Date } = {},
): boolean {
  if (!header) return false;
  let t: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const [key, value, ...rest] = part.trim().split('=');
    if (!key || value === undefined || rest.length > 0) return false;
    if (key === 't') {
      if (t !== undefined || !/^\d{1,12}$/.test(value)) return false;
      t = Number(value);
    } else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) candidates.push(value);
  }
  if (t === undefined || candidates.length === 0) return false;
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(sign(secret, t, body), 'hex');
  let ok = false;
  for (const c of candidates) ok = timingSafeEqual(expected, Buffer.from(c, 'hex')) || ok;
  return ok;
}

/**
 * A signed webhook to the deployment's own backend, for a native app that a browser push cannot
 * reach. A redirect is a failure and is never followed: the signed body must go only where it was
 * configured to go.
 */
export function createWebhookNotifier(options: WebhookOptions): Notifier {
  const timeoutMs = options.timeoutMs ?? 5000;
  return {
    channel: 'webhook',
    // The backend decides how to reach the app; Sekisho cannot tell whether it can.
    reaches: () => true,
    async deliver(target, message, signal) {
      const payload: WebhookBody = {
        type: message.kind === 'request' ? 'ciba.request' : 'ciba.settled',
        // The same for every attempt at one delivery, so a backend can drop a retry it already handled.
        id: createHash('sha256').update(`${message.kind}:${message.requestId}:${target.deviceId}`).digest('base64url').slice(0, 22),
        device_id: target.deviceId,
        request_id: message.requestId,
        client_name: message.clientName,
        binding_message: message.bindingMessage,
        expires_at: message.expiresAt.toISOString(),
      };
      const body = JSON.stringify(payload);
      const limit = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
      let response: Response;
      try {
        response = await fetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signWebhook(options.secret, body) },
          body,
          redirect: 'manual',
          signal: limit,
        });
      } catch (err) {
        // The cause may quote the URL; the message says only what kind of failure it was.
        if (limit.aborted) throw new DeliveryError('timeout', 'webhook timed out');
        throw new DeliveryError('network', `webhook request failed (${networkCode(err)})`);
      }
      await response.body?.cancel().catch(() => {});
      if (response.status >= 300 && response.status < 400) throw new DeliveryError('redirect', `webhook answered a redirect (${response.status}); redirects are not followed`, response.status);
      if (!response.ok) throw new DeliveryError('status', `webhook answered ${response.status}`, response.status);
    },
  };
}

/** A system error code (ECONNREFUSED …) from fetch's cause chain, never its message. */
export function networkCode(err: unknown): string {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code)) return code;
  }
  return 'unknown';
}
