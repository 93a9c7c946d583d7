import { it } from 'node:test';
import assert from 'node:assert/strict';
import { coalesce } from './coalesce.ts';

it('runs an idle call at once and groups calls that arrive while batches are in flight', async () => {
  const batches: number[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const double = coalesce<number, number>(async (items) => {
    batches.push(items);
    if (batches.length === 1) await gate;
    return items.map((i) => i * 2);
  }, 1);
  const first = double(1);
  const rest = [double(2), double(3), double(4)];
  release();
  assert.deepEqual(await Promise.all([first, ...rest]), [2, 4, 6, 8]);
  assert.deepEqual(batches, [[1], [2, 3, 4]]);
});

it('a failing batch rejects every caller in it, and the next batch still runs', async () => {
  let calls = 0;
  const run = coalesce<number, number>(async (items) => {
    calls++;
    if (items.includes(13)) throw new Error('unlucky');
    return items;
  }, 1);
  await assert.rejects(run(13), /unlucky/);
  assert.equal(await run(7), 7);
  assert.equal(calls, 2);
});
