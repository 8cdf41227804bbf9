// The purity/coverage evaluation behind the demo model's quality figures, checked on generators whose
// answers are known: they "generate" real MNIST digits chosen by their categorical code.
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { initBackend } from '../core/backend.ts';
import { setLogLevel } from '../core/log.ts';
import type { FloatBatch, Generator, RgbBatch } from '../core/runtime/types.ts';
import { loadDataset, type ImageDataset } from '../trainer/datasets/index.ts';
import { codePurity, trainClassifier, type Classifier } from '../trainer/infogan/evaluate.ts';

/** A generator over real digits: code value v shows digit pick(v), a different image each time. */
function digitGenerator(ds: ImageDataset, pick: (value: number) => number): Generator {
  const byClass = new Map<number, number[]>();
  ds.labels!.forEach((l, i) => byClass.set(l, [...(byClass.get(l) ?? []), i]));
  const spec = { size: 13, noise: 2, categorical: [10], continuous: 1, distribution: 'normal' as const };
  let cursor = 0;
  const px = 28 * 28;
  return {
    info: { name: 'digits', kind: 'onnx', engine: 'test', width: 28, height: 28, channels: 1, latent: spec, output: { layout: 'NHWC', range: '-1..1' } },
    async generateFloat(latents: Float32Array, batch: number): Promise<FloatBatch> {
      const data = new Float32Array(batch * px);
      for (let b = 0; b < batch; b++) {
        const value = latents.subarray(b * 13 + 2, b * 13 + 12).indexOf(1);
        const pool = byClass.get(pick(value))!;
        const src = pool[cursor++ % pool.length]!;
        for (let p = 0; p < px; p++) data[b * px + p] = ds.pixels[src * px + p]! / 127.5 - 1;
      }
      return { batch, width: 28, height: 28, channels: 1, data };
    },
    generate: async (): Promise<RgbBatch> => {
      throw new Error('not used');
    },
    dispose: async () => {},
  };
}

describe('InfoGAN code purity', () => {
  let ds: ImageDataset;
  let classifier: Classifier;
  before(async () => {
    setLogLevel('silent');
    await initBackend('wasm');
    ds = await loadDataset('mnist', { size: 28, channels: 1, cacheDir: path.join(os.tmpdir(), 'rhodops-test-cache') });
    classifier = await trainClassifier(ds, { epochs: 1 });
  });

  it('the judging classifier learns MNIST', () => {
    assert.ok(classifier.heldOutAccuracy > 0.9, `held-out accuracy ${classifier.heldOutAccuracy}`);
  });

  it('a code that picks digits scores high purity and full coverage, and finds which digit each value shows', async () => {
    const r = await codePurity(digitGenerator(ds, (v) => (v + 3) % 10), classifier, 0, 100);
    assert.ok(r.meanPurity > 0.85, `mean purity ${r.meanPurity}`);
    assert.equal(r.coverage, 10);
    assert.deepEqual(r.values.map((v) => v.majority), [3, 4, 5, 6, 7, 8, 9, 0, 1, 2]);
  });

  it('a code the generator ignores covers one class', async () => {
    const r = await codePurity(digitGenerator(ds, () => 5), classifier, 0, 50);
    assert.equal(r.coverage, 1);
  });

  it('two values that show the same digit lose coverage, not purity', async () => {
    const r = await codePurity(digitGenerator(ds, (v) => (v === 9 ? 4 : v)), classifier, 0, 50);
    assert.equal(r.coverage, 9);
    assert.ok(r.meanPurity > 0.85);
  });
});
