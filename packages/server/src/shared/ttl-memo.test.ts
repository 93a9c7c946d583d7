import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ttlMemo } from './ttl-memo.ts';

describe('ttlMemo', () => {
  it('reuses a found value within the time, asks again after it', async (t) => {
    t.mock.timers.enable({ apis: ['Date'] });
    let calls = 0;
    const get = ttlMemo(async (k: string) => { calls++; return `v-${k}`; }, 1000);
    assert.equal(await get('a'), 'v-a');
    assert.equal(await get('a'), 'v-a');
    assert.equal(calls, 1);
    t.mock.timers.tick(1001);
    assert.equal(await get('a'), 'v-a');
    assert.equal(calls, 2);
  });

  it('does not keep misses or failures', async () => {
    let calls = 0;
    const get = ttlMemo(async (k: string) => { calls++; if (k === 'boom') throw new Error('db down'); return undefined; }, 60_000);
    assert.equal(await get('x'), undefined);
    assert.equal(await get('x'), undefined);
    await assert.rejects(get('boom'));
    await assert.rejects(get('boom'));
    assert.equal(calls, 4);
  });

  it('is off with a time of 0', async () => {
    let calls = 0;
    const get = ttlMemo(async () => { calls++; return 1; }, 0);
    await get('a');
    await get('a');
    assert.equal(calls, 2);
  });
});
