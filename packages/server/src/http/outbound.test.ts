import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createOutbound, isSpecialUseAddress, OutboundAddressError, publicOnlyLookup } from './outbound.ts';

describe('outbound guard (SSRF)', () => {
  it('knows the special-use addresses, IPv4-mapped IPv6 included', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', 'not-an-ip']) {
      assert.equal(isSpecialUseAddress(a), true, a);
    }
    for (const a of ['8.8.8.8', '203.0.114.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) assert.equal(isSpecialUseAddress(a), false, a);
  });

  it('refuses a name that resolves to loopback', async () => {
    const err = await new Promise<Error | null>((resolve) => publicOnlyLookup('localhost', {}, (e) => resolve(e)));
    assert.ok(err instanceof OutboundAddressError);
  });

  it('refuses an IP literal before connecting, unless private networks are allowed', async () => {
    const guarded = createOutbound({ allowPrivateNetworks: false });
    await assert.rejects(guarded.fetch('https://127.0.0.1:65000/x', {}), OutboundAddressError);
    await assert.rejects(guarded.fetch('https://[::1]:65000/x', {}), OutboundAddressError);
    await assert.rejects(guarded.fetch('https://localhost:65000/x', {}), (err: Error) => /special-use/.test(String((err as { cause?: Error }).cause?.message ?? err.message)));
    await guarded.close();
    const open = createOutbound({ allowPrivateNetworks: true });
    // Allowed: it gets as far as connecting (nothing listens on port 65000).
    await assert.rejects(open.fetch('https://127.0.0.1:65000/x', {}), (err: Error) => !(err instanceof OutboundAddressError));
    await open.close();
  });
});
