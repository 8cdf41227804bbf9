// Generator graphs: shapes, FLOP counts against docs/architecture.md, fade-in endpoints, no tensor leaks.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { before, describe, it } from 'node:test';
import { generate, generatorFlops, generatorSpecs } from '../core/models/generator.ts';
import { disposeParams, initParams } from '../core/models/params.ts';
import { infoganArch, pgganArch } from '../core/models/architectures.ts';
import { upsample2x } from '../core/models/layers.ts';
import { pgganArchSchema } from '../core/models/arch.ts';
import { relativeRms, useBackend } from './helpers/models.ts';

describe('generator graphs', () => {
  before(() => useBackend('cpu'));

  it('PGGAN FLOPs per image match the presets measured in docs/architecture.md', () => {
    const gflop = (a: Parameters<typeof generatorFlops>[0]) => Math.round(generatorFlops(a) / 1e8) / 10;
    assert.equal(gflop(pgganArch('full', 64)), 27.3);
    assert.equal(gflop(pgganArch('full', 256)), 56.3);
    assert.equal(gflop(pgganArch('mid', 128)), 3.5);
    assert.equal(gflop(pgganArch('mid', 256)), 4.4);
    assert.equal(gflop(pgganArch('narrow', 256)), 1.3);
  });

  it('InfoGAN produces [N, size, size, C] in [-1, 1] at every size, and leaks no tensors', () => {
    for (const size of [28, 32, 64] as const) {
      const arch = infoganArch(size);
      const params = initParams(generatorSpecs(arch), 1);
      const before = tf.memory().numTensors;
      const img = tf.tidy(() => generate(arch, params, tf.randomNormal([2, 74]) as tf.Tensor2D));
      assert.deepEqual(img.shape, [2, size, size, size === 28 ? 1 : 3]);
      const v = img.dataSync();
      assert.ok(v.every((x) => x >= -1 && x <= 1));
      img.dispose();
      assert.equal(tf.memory().numTensors, before);
      disposeParams(params);
    }
  });

  it('PGGAN fade-in: α=0 is the previous resolution upsampled, α=1 the new block alone', () => {
    const arch = pgganArch('narrow', 16, { latentSize: 16 });
    const params = initParams(generatorSpecs(arch), 2);
    const z = tf.randomNormal([2, 16], 0, 1, 'float32', 4) as tf.Tensor2D;
    const at = (resolution: number, alpha: number) => generate(arch, params, z, { resolution, alpha }).dataSync();
    const previousUp = tf.tidy(() => upsample2x(generate(arch, params, z, { resolution: 8, alpha: 1 })).dataSync());
    assert.ok(relativeRms(at(16, 0), previousUp) < 1e-6);
    const full = at(16, 1);
    assert.ok(relativeRms(full, previousUp) > 0.1, 'the new block changes the output');
    const half = at(16, 0.5);
    const mid = full.map((v, i) => (v + previousUp[i]!) / 2);
    assert.ok(relativeRms(half, mid) < 1e-5);
    z.dispose();
    disposeParams(params);
  });

  it('upsample2x equals nearest-neighbour resize and differentiates twice (gradient penalties need it)', async () => {
    await import('../core/tfjs-gradients.ts');
    const x = tf.randomNormal([2, 3, 5, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
    const ref = tf.image.resizeNearestNeighbor(x, [6, 10]);
    assert.deepEqual(upsample2x(x).dataSync(), ref.dataSync());
    // d/dx Σ up(x)² = 8x (each value appears 4 times); d/dx Σ (8x)² = 128x.
    const first = tf.grad((v: tf.Tensor) => tf.sum(tf.square(upsample2x(v as tf.Tensor4D))))(x);
    assert.ok(relativeRms(first.dataSync(), tf.mul(x, 8).dataSync()) < 1e-6);
    const second = tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.grad((u: tf.Tensor) => tf.sum(tf.square(upsample2x(u as tf.Tensor4D))))(v))))(x);
    assert.ok(relativeRms(second.dataSync(), tf.mul(x, 128).dataSync()) < 1e-6);
    tf.dispose([x, ref, first, second]);
  });

  it('rejects an architecture whose widths do not fit its resolution, naming the field', () => {
    const bad = { ...pgganArch('mid', 64), widths: [256, 256] };
    const r = pgganArchSchema.safeParse(bad);
    assert.equal(r.success, false);
    assert.deepEqual(r.error?.issues[0]?.path, ['widths']);
  });
});
