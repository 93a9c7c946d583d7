import { it } from 'node:test';
import assert from 'node:assert/strict';
import { toWire } from './wire.ts';

const message = { kind: 'request' as const, requestId: 'r', clientName: 'クライアント'.repeat(200), bindingMessage: '確認'.repeat(50), expiresAt: new Date('2030-01-01T00:00:00Z') };

it('serialises expiresAt as ISO and leaves a message that fits untouched', () => {
  assert.deepEqual(toWire(message), { ...message, expiresAt: '2030-01-01T00:00:00.000Z' });
});

it('cuts the binding message, then the client name, to fit a byte limit', () => {
  const full = Buffer.byteLength(JSON.stringify(toWire(message)));
  const a = toWire(message, full - 10);
  assert.ok(Buffer.byteLength(JSON.stringify(a)) <= full - 10);
  assert.ok(a.bindingMessage?.endsWith('…'));
  assert.equal(a.clientName, message.clientName);
  const b = toWire(message, 1000);
  assert.ok(Buffer.byteLength(JSON.stringify(b)) <= 1000);
  assert.equal(b.bindingMessage, '');
  assert.ok(b.clientName.endsWith('…') && b.clientName.length > 200, 'keeps as much as fits');
  assert.throws(() => toWire(message, 50), /does not fit/);
});
