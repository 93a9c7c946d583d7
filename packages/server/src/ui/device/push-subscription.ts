import type { Context } from 'koa';
import { z } from 'zod';

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

const subscription = z.object({
  endpoint: z.string().max(2000),
  expirationTime: z.number().nullable().optional(),
  keys: z.object({
    // A P-256 public key (65 bytes uncompressed) and a 16-byte auth secret, base64url (RFC 8291).
    p256dh: z.string().regex(/^[A-Za-z0-9_-]{87}$/),
    auth: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
  }).strict(),
}).strict();

/**
 * A Web Push subscription posted by the device app (PushSubscription.toJSON()). The endpoint is
 * where Sekisho will POST: https only (http on loopback only where outbound.allowPrivateNetworks
 * lets calls reach private addresses), never a special-use IP address otherwise; names are checked
 * when they are resolved (http/outbound.ts).
 */
export async function readPushSubscription(ctx: Context, options: { allowLoopback: boolean; checkUrl(url: string): void }) {
  if (!ctx.is('application/json')) return undefined;
  let raw = '';
  for await (const chunk of ctx.req) {
    raw += String(chunk);
    if (raw.length > 4096) return undefined;
  }
  let parsed: z.infer<typeof subscription>;
  try { parsed = subscription.parse(JSON.parse(raw)); } catch { return undefined; }
  if (!URL.canParse(parsed.endpoint)) return undefined;
  const url = new URL(parsed.endpoint);
  const loopback = url.protocol === 'http:' && LOOPBACK.has(url.hostname);
  if (url.protocol !== 'https:' && !(loopback && options.allowLoopback)) return undefined;
  if (url.username || url.password) return undefined;
  try { options.checkUrl(parsed.endpoint); } catch { return undefined; }
  // Stored as parsed, so every later reader sees the URL this check saw.
  return { endpoint: url.href, keys: parsed.keys };
}
