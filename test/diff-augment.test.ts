// Differentiable augmentation (trainer/pggan/diff-augment.ts): what each augmentation does to an image, the same
// draws for a micro-batch as for the whole minibatch, and gradients that flow back through it.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { before, describe, it } from 'node:test';
import { initBackend } from '../core/backend.ts';
import { setLogLevel } from '../core/log.ts';
import { gaussianArray } from '../core/random.ts';
import { AUGMENTS, diffAugment } from '../trainer/pggan/diff-augment.ts';

const N = 6;
const S = 16;
const images = () => tf.tensor4d(gaussianArray(N * S * S * 3, 5).map(Math.tanh), [N, S, S, 3]);
const pixel = (d: Float32Array | Int32Array | Uint8Array, i: number, y: number, x: number, c: number) => d[((i * S + y) * S + x) * 3 + c]!;

describe('differentiable augmentation', () => {
  before(async () => {
    setLogLevel('silent');
    await initBackend('wasm');
  });

  it('translation shifts each image by its own whole number of pixels, up to 1/8 of the side, zeros shifted in', () => {
    const x = images();
    const y = diffAugment(x, ['translation'], 11);
    const [a, b] = [x.dataSync(), y.dataSync()];
    const shifts = new Set<string>();
    for (let i = 0; i < N; i++) {
      let found: string | null = null;
      for (let dy = -2; dy <= 2 && !found; dy++) {
        for (let dx = -2; dx <= 2 && !found; dx++) {
          let same = true;
          for (let yy = 0; yy < S && same; yy++) for (let xx = 0; xx < S && same; xx++) for (let c = 0; c < 3 && same; c++) {
            const sy = yy - dy;
            const sx = xx - dx;
            const want = sy >= 0 && sy < S && sx >= 0 && sx < S ? pixel(a, i, sy, sx, c) : 0;
            same = pixel(b, i, yy, xx, c) === want;
          }
          if (same) found = `${dy},${dx}`;
        }
      }
      assert.ok(found, `image ${i} is no shift of its original by up to 2 pixels`);
      shifts.add(found);
    }
    assert.ok(shifts.size > 1, `every image shifted alike (${[...shifts]}): the draws are not per image`);
    tf.dispose([x, y]);
  });

  it('cutout zeroes one square of half the side (clipped at the edges) and leaves the rest', () => {
    const x = images();
    const y = diffAugment(x, ['cutout'], 12);
    const [a, b] = [x.dataSync(), y.dataSync()];
    for (let i = 0; i < N; i++) {
      let zeroed = 0;
      let ys: number[] = [];
      let xs: number[] = [];
      for (let yy = 0; yy < S; yy++) for (let xx = 0; xx < S; xx++) {
        if (pixel(b, i, yy, xx, 0) === 0 && pixel(a, i, yy, xx, 0) !== 0) {
          zeroed++;
          ys.push(yy);
          xs.push(xx);
        } else for (let c = 0; c < 3; c++) assert.equal(pixel(b, i, yy, xx, c), pixel(a, i, yy, xx, c));
      }
      const h = Math.max(...ys) - Math.min(...ys) + 1;
      const w = Math.max(...xs) - Math.min(...xs) + 1;
      assert.equal(zeroed, h * w, `image ${i}: the zeroed pixels form a rectangle`);
      assert.ok(h <= S / 2 && w <= S / 2 && h * w >= S / 4, `image ${i}: a ${h}×${w} hole`);
    }
    tf.dispose([x, y]);
  });

  it('the same seed gives the same draws; a micro-batch draws what its images draw in the whole minibatch', () => {
    const x = images();
    const all = [...AUGMENTS];
    const whole = diffAugment(x, all, 13);
    assert.deepEqual(diffAugment(x, all, 13).dataSync(), whole.dataSync(), 'deterministic');
    const part = diffAugment(tf.slice(x, [2, 0, 0, 0], [3, S, S, 3]), all, 13, 2);
    assert.deepEqual(part.dataSync(), tf.slice(whole, [2, 0, 0, 0], [3, S, S, 3]).dataSync());
    assert.notDeepEqual(diffAugment(x, all, 14).dataSync(), whole.dataSync(), 'another seed, other draws');
    assert.equal(diffAugment(x, [], 13), x, 'no policy: the images themselves');
    tf.dispose([x, whole, part]);
  });

  it('gradients flow back through every augmentation, finite; zero exactly where cutout or translation hid a pixel', () => {
    const x = images();
    const before = tf.memory().numTensors;
    const gradOf = (policy: typeof AUGMENTS[number][]) => tf.tidy(() => tf.grad((v: tf.Tensor) => tf.sum(tf.square(diffAugment(v as tf.Tensor4D, policy, 15))))(x).dataSync());
    const all = gradOf([...AUGMENTS]);
    assert.ok(all.every(Number.isFinite) && all.some((v) => v !== 0), 'finite and not all zero through colour, translation and cutout');
    // Without colour (whose image mean reaches every pixel), the pixels hidden by the cutout or shifted out of
    // view have no gradient, and those on show have 2·x, as if untouched.
    const hid = gradOf(['translation', 'cutout']);
    const zero = hid.filter((v) => v === 0).length;
    assert.ok(zero > 0 && zero < hid.length / 2, `${zero} of ${hid.length} entries are exactly zero`);
    const xs = x.dataSync();
    const shown = hid.filter((v, i) => v !== 0 && Math.abs(v - 2 * xs[i]!) > 1e-6).length;
    assert.equal(shown, 0, 'a pixel on show passes its gradient through unchanged');
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
  });
});
