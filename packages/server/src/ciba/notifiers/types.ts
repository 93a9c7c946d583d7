/**
 * How the device app hears of a request: the notifiers (live channel, Web Push, signed webhook)
 * deliver one message to one device. The dispatcher fans a message out to a person's devices and
 * retries failures in the background: a backchannel request never waits for a phone.
 */

/** What a device is told. Nothing here is a credential: the app fetches the request itself, signed in. */
export interface DeviceMessage {
  /** 'request': a new request to decide; 'settled': decided (on any device), so the app drops it. An expiry needs no message: the app counts down to it. */
  kind: 'request' | 'settled';
  /** The device app's id of the request (never the client's auth_req_id). */
  requestId: string;
  /** The client asking, as the person knows it. */
  clientName: string;
  bindingMessage: string | null;
  expiresAt: Date;
}

/** One authentication device, with what each channel needs to reach it. */
export interface DeviceTarget {
  deviceId: string;
  accountId: string;
  /** A Web Push subscription (PushSubscription.toJSON()), when the app has one. */
  push?: { endpoint: string; keys: { p256dh: string; auth: string } } | undefined;
}

/** Why a delivery failed for good: the subscription is gone (404/410) and should be forgotten. */
export class SubscriptionGoneError extends Error {
  constructor(message = 'push subscription expired or unsubscribed') { super(message); this.name = 'SubscriptionGoneError'; }
}

/** One channel. `deliver` resolves when the message was handed over, throws when it was not. */
export interface Notifier {
  readonly channel: 'live' | 'web-push' | 'webhook';
  /** Whether this channel can reach the device at all (a push subscription, an open app …). */
  reaches(target: DeviceTarget): boolean;
  deliver(target: DeviceTarget, message: DeviceMessage, signal: AbortSignal): Promise<void>;
}

/** A stable reason for a failed attempt, safe to log: it never carries a URL, a key or a secret. */
export type DeliveryErrorCode = 'unreachable' | 'status' | 'redirect' | 'timeout' | 'network' | 'no-stream';

/**
 * A failed attempt that may succeed later (the dispatcher retries it). Its message is written for
 * logs: push endpoints and webhook URLs are capability URLs, so notifiers never put them here.
 */
export class DeliveryError extends Error {
  readonly code: DeliveryErrorCode;
  /** The HTTP status the far side answered, when it answered. */
  readonly status: number | undefined;
  constructor(code: DeliveryErrorCode, message: string, status?: number) {
    super(message);
    this.name = 'DeliveryError';
    this.code = code;
    this.status = status;
  }
}
