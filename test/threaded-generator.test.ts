// A generator on its own thread gives the frames the same generator gives on the main thread, passes
// errors through with their code and hint, and ends its thread on dispose.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setLogLevel } from '../core/log.ts';
import { openGenerator } from '../core/runtime/open.ts';
import { ThreadedGenerator } from '../core/runtime/threaded.ts';
import { gaussianArray } from '../core/random.ts';
import { DEFAULT_MODEL } from '../presets/bundled.ts';

let root: string;

describe('ThreadedGenerator', () => {
  before(async () => {
    setLogLevel('silent');
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-threaded-'));
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  it('makes the same frames as the generator on the main thread, and leaves the caller its latents', async () => {
    const [here, there] = [await openGenerator(DEFAULT_MODEL), await ThreadedGenerator.open(DEFAULT_MODEL)];
    try {
      assert.deepEqual(there.info, here.info);
      const z = gaussianArray(5 * here.info.latent.size, 8);
      const copy = Float32Array.from(z);
      const [a, b] = await Promise.all([here.generate(z, 5), there.generate(z, 5)]);
      assert.deepEqual(z, copy, 'the latents were not transferred away');
      assert.deepEqual([b.batch, b.width, b.height], [a.batch, a.width, a.height]);
      assert.ok(Buffer.from(a.data).equals(Buffer.from(b.data)), 'identical bytes');
      // Requests in flight together come back to their own callers.
      const [f1, f2] = await Promise.all([there.generateFloat(z.subarray(0, here.info.latent.size), 1), there.generateFloat(z.subarray(here.info.latent.size, 2 * here.info.latent.size), 1)]);
      assert.notDeepEqual(f1.data, f2.data);
      assert.deepEqual(f1.data, (await here.generateFloat(z.subarray(0, here.info.latent.size), 1)).data);
    } finally {
      await here.dispose();
      await there.dispose();
    }
  });

  it('passes errors through with their code: a bad request, then a model that does not open', async () => {
    const gen = await ThreadedGenerator.open(DEFAULT_MODEL);
    try {
      await assert.rejects(gen.generate(new Float32Array(3), 1), (e: Error & { code?: string }) => e.code === 'LATENT_SHAPE_MISMATCH');
      assert.equal((await gen.generate(gaussianArray(gen.info.latent.size, 1), 1)).batch, 1, 'still serving after the error');
    } finally {
      await gen.dispose();
    }
    await assert.rejects(gen.generate(gaussianArray(gen.info.latent.size, 1), 1), /exited/, 'after dispose the thread is gone');
    await assert.rejects(ThreadedGenerator.open(path.join(root, 'nothing-here')), (e: Error & { code?: string; hint?: string }) => e.code === 'CHECKPOINT_NOT_FOUND' && !!e.hint);
  });
});
