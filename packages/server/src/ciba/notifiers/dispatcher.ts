import type { Logger } from '../../shared/logger.ts';
import { DeliveryError, SubscriptionGoneError, type DeviceMessage, type DeviceTarget, type Notifier } from './types.ts';

export interface NotificationDispatcherOptions {
  notifiers: Notifier[];
  /** Further attempts after a failed one (0: try once). */
  retries: number;
  /** How long one attempt may take; a notifier that ignores its signal is abandoned after it. */
  timeoutMs: number;
  logger: Logger;
  /** The push service said the subscription is gone: the device's subscription should be forgotten. */
  onSubscriptionGone?: (deviceId: string) => void | Promise<void>;
  /** First backoff delay; doubles per attempt (with jitter), capped at 5 s. */
  backoffMs?: number;
  /** Deliveries in flight (retries included) beyond which new ones are dropped. */
  maxInFlight?: number;
}

export interface ChannelStats { delivered: number; failed: number; gone: number }

export interface NotificationDispatcher {
  /** Starts delivering in the background and returns at once; it never throws. */
  notify(targets: DeviceTarget[], message: DeviceMessage): void;
  /** Resolves when every delivery started so far, pending retries included, has finished. */
  idle(): Promise<void>;
  stats(): { channels: Record<string, ChannelStats>; dropped: number; inFlight: number };
}

const MAX_BACKOFF_MS = 5000;

/**
 * A reason for the log that cannot carry a URL, key or secret: only our own codes and error names.
 * (Not named `code`: the logger redacts that field, thinking of authorization codes.)
 */
function reason(err: unknown): Record<string, unknown> {
  if (err instanceof DeliveryError) return { reason: err.code, ...(err.status ? { status: err.status } : {}) };
  return { reason: err instanceof Error ? err.name : 'unknown' };
}

function sleep(ms: number): Promise<void> {
  // unref'd: a retry waiting in the background must not keep a stopping process alive.
  return new Promise((resolve) => { setTimeout(resolve, ms).unref(); });
}

/**
 * One attempt, bounded by the timeout even when the notifier ignores the signal (the `web-push`
 * library cannot be aborted): the dispatcher's bookkeeping must never wait on a stuck socket.
 */
function attempt(notifier: Notifier, target: DeviceTarget, message: DeviceMessage, timeoutMs: number): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(new DeliveryError('timeout', `${notifier.channel} delivery timed out after ${timeoutMs} ms`));
    signal.addEventListener('abort', onAbort, { once: true });
    notifier.deliver(target, message, signal).then(resolve, (err: unknown) => {
      reject(signal.aborted && !(err instanceof SubscriptionGoneError) ? new DeliveryError('timeout', `${notifier.channel} delivery timed out after ${timeoutMs} ms`) : err);
    }).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Fans a message out to every channel that reaches each device, in the background: a backchannel
 * request is answered before any phone is told, and a slow push service delays nobody.
 */
export function createNotificationDispatcher(options: NotificationDispatcherOptions): NotificationDispatcher {
  const { notifiers, retries, timeoutMs, logger } = options;
  const backoffMs = options.backoffMs ?? 200;
  const maxInFlight = options.maxInFlight ?? 10_000;
  const channels: Record<string, ChannelStats> = {};
  for (const n of notifiers) channels[n.channel] = { delivered: 0, failed: 0, gone: 0 };
  let inFlight = 0;
  let dropped = 0;
  let dropping = false;
  let waiters: Array<() => void> = [];

  function finished() {
    inFlight -= 1;
    if (inFlight < maxInFlight) dropping = false;
    if (inFlight === 0) { const ready = waiters; waiters = []; for (const w of ready) w(); }
  }

  async function deliver(notifier: Notifier, target: DeviceTarget, message: DeviceMessage): Promise<void> {
    const stats = channels[notifier.channel] ?? (channels[notifier.channel] = { delivered: 0, failed: 0, gone: 0 });
    const fields = { channel: notifier.channel, deviceId: target.deviceId };
    for (let n = 0; n <= retries; n += 1) {
      try {
        await attempt(notifier, target, message, timeoutMs);
        stats.delivered += 1;
        return;
      } catch (err) {
        if (err instanceof SubscriptionGoneError) {
          stats.gone += 1;
          logger.info('push subscription gone; forgetting it', fields);
          try { await options.onSubscriptionGone?.(target.deviceId); } catch (cause) {
            logger.warn('forgetting a push subscription failed', { ...fields, ...reason(cause) });
          }
          return;
        }
        logger.warn('device notification failed', { ...fields, attempt: n + 1, of: retries + 1, ...reason(err) });
      }
      if (n < retries) {
        const base = Math.min(MAX_BACKOFF_MS, backoffMs * 2 ** n);
        await sleep(base / 2 + Math.random() * base / 2);
      }
    }
    stats.failed += 1;
  }

  return {
    notify(targets, message) {
      for (const target of targets) {
        for (const notifier of notifiers) {
          let reaches = false;
          try { reaches = notifier.reaches(target); } catch { reaches = false; }
          if (!reaches) continue;
          if (inFlight >= maxInFlight) {
            dropped += 1;
            // One line per overflow episode, not one per dropped message.
            if (!dropping) logger.warn('device notifications dropped: too many in flight', { channel: notifier.channel, inFlight, maxInFlight });
            dropping = true;
            continue;
          }
          inFlight += 1;
          deliver(notifier, target, message).catch(() => {}).finally(finished);
        }
      }
    },
    idle() {
      return inFlight === 0 ? Promise.resolve() : new Promise((resolve) => { waiters.push(resolve); });
    },
    stats() {
      const copy: Record<string, ChannelStats> = {};
      for (const [k, v] of Object.entries(channels)) copy[k] = { ...v };
      return { channels: copy, dropped, inFlight };
    },
  };
}
