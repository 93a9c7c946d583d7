import type { Agent } from 'node:https';
import webpush from 'web-push';
import { networkCode } from './webhook.ts';
import { DeliveryError, SubscriptionGoneError, type Notifier } from './types.ts';
import { toWire } from './wire.ts';

export interface VapidDetails {
  /** VAPID `sub`: a mailto: or https: contact for the push service's operator. */
  subject: string;
  publicKey: string;
  privateKey: string;
}

export interface WebPushOptions {
  vapid: VapidDetails;
  /** Socket timeout of one request to the push service. */
  timeoutMs?: number;
  /** An HTTPS agent for an egress setup or a private CA (tests); the default agent otherwise. */
  agent?: Agent;
}

/**
 * RFC 8291 allows 4096 bytes of ciphertext; aes128gcm adds a 86-byte header, a 16-byte tag and a
 * padding delimiter. What remains is kept with a margin.
 */
const MAX_PAYLOAD_BYTES = 3800;

/**
 * Web Push (RFC 8030, encrypted per RFC 8291, signed per RFC 8292 VAPID) to the device app when it
 * is not open. The push service sees only ciphertext; the payload says which request to show.
 */
export function createWebPushNotifier(options: WebPushOptions): Notifier {
  const timeoutMs = options.timeoutMs ?? 5000;
  return {
    channel: 'web-push',
    reaches: (target) => Boolean(target.push?.endpoint),
    async deliver(target, message, signal) {
      const subscription = target.push;
      if (!subscription) throw new DeliveryError('unreachable', 'device has no push subscription');
      signal.throwIfAborted();
      const ttl = Math.max(0, Math.floor((message.expiresAt.getTime() - Date.now()) / 1000));
      const sending = webpush.sendNotification(subscription, JSON.stringify(toWire(message, MAX_PAYLOAD_BYTES)), {
        vapidDetails: options.vapid,
        // The push service keeps the message no longer than the request lives.
        TTL: ttl,
        urgency: 'high',
        contentEncoding: 'aes128gcm',
        timeout: timeoutMs,
        ...(options.agent ? { agent: options.agent } : {}),
      });
      // The library cannot be cancelled; stop waiting on abort and let its socket timeout end it.
      sending.catch(() => {});
      try {
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => reject(new DeliveryError('timeout', 'web push timed out'));
          signal.addEventListener('abort', onAbort, { once: true });
          sending.then(() => resolve(), reject).finally(() => signal.removeEventListener('abort', onAbort));
        });
      } catch (err) {
        throw safeError(err);
      }
    },
  };
}

/**
 * The library's errors quote the endpoint, a capability URL (whoever holds it can push to the
 * device), so they are replaced by one that says only what happened.
 */
function safeError(err: unknown): Error {
  if (err instanceof DeliveryError) return err;
  if (err instanceof webpush.WebPushError) {
    if (err.statusCode === 404 || err.statusCode === 410) return new SubscriptionGoneError(`push service answered ${err.statusCode}: subscription gone`);
    return new DeliveryError('status', `push service answered ${err.statusCode}`, err.statusCode);
  }
  if (err instanceof Error && err.message === 'Socket timeout') return new DeliveryError('timeout', 'web push socket timed out');
  return new DeliveryError('network', `web push request failed (${networkCode(err)})`);
}
