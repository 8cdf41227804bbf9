// LatestOnly: one task at a time; of those waiting, only the newest runs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LatestOnly } from '../core/serial.ts';

describe('LatestOnly', () => {
  it('runs the one under way and the newest waiting one, never two at once; a failure does not stop the next', async () => {
    const q = new LatestOnly();
    const ran: number[] = [];
    let running = 0;
    let most = 0;
    const task = (n: number, fail = false) => async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      ran.push(n);
      running--;
      if (fail) throw new Error(`task ${n}`);
    };
    const first = q.run(task(1, true));
    await new Promise((r) => setImmediate(r)); // task 1 is under way
    const all = [first, q.run(task(2)), q.run(task(3)), q.run(task(4))];
    const results = await Promise.allSettled(all);
    assert.deepEqual(ran, [1, 4]);
    assert.equal(most, 1);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    await q.settled();
    // Asked for together, before any started: only the newest runs.
    ran.length = 0;
    await Promise.all([q.run(task(5)), q.run(task(6))]);
    assert.deepEqual(ran, [6]);
  });
});
