import type { DeviceMessage } from './types.ts';

/** A DeviceMessage as the device app receives it (SSE data, Web Push payload, NOTIFY payload). */
export interface WireMessage {
  kind: DeviceMessage['kind'];
  requestId: string;
  clientName: string;
  bindingMessage: string | null;
  expiresAt: string;
}

const ELLIPSIS = '…';

function cut(text: string, codePoints: number): string {
  const chars = Array.from(text);
  return chars.length <= codePoints ? text : chars.slice(0, Math.max(0, codePoints)).join('') + ELLIPSIS;
}

/**
 * The JSON form of a message, shortened to fit `maxBytes` when a channel has a hard limit (a Web
 * Push payload ~4 KB, a NOTIFY payload 8000 bytes). Only the texts meant for display are cut: the
 * binding message first, then the client name. The app re-reads the full request when opened, so a
 * shortened text only affects the notification banner.
 */
export function toWire(message: DeviceMessage, maxBytes = Number.POSITIVE_INFINITY): WireMessage {
  const wire: WireMessage = {
    kind: message.kind,
    requestId: message.requestId,
    clientName: message.clientName,
    bindingMessage: message.bindingMessage,
    expiresAt: message.expiresAt.toISOString(),
  };
  const size = () => Buffer.byteLength(JSON.stringify(wire));
  // A code point is at most 4 bytes in UTF-8 and at most 12 as JSON (\uXXXX pairs), so cutting
  // `excess` code points per round always converges; rounds are few since the texts are short.
  for (const field of ['bindingMessage', 'clientName'] as const) {
    while (size() > maxBytes && wire[field]) {
      const keep = Array.from(wire[field]).length - Math.max(1, Math.ceil((size() - maxBytes) / 12)) - 1;
      wire[field] = keep > 0 ? cut(wire[field], keep) : '';
    }
  }
  if (size() > maxBytes) throw new Error(`device message does not fit in ${maxBytes} bytes`);
  return wire;
}
