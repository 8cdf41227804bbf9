/**
 * PGGAN discriminator (critic), the generator mirrored (Karras et al. 2018): a 1×1 fromRGB at the current
 * resolution, then per resolution two 3×3 convs (the second narrows to the next level's width) and a 2×2
 * average pool, down to 4×4, where a minibatch-standard-deviation channel is appended before a 3×3 conv and two
 * dense layers. Equalized learning rate on every weight. During a transition the new block's output is faded in
 * over fromRGB of the half-resolution image.
 *
 * WGAN-GP differentiates the critic twice, so every op here must have a differentiable gradient on every tfjs
 * backend: leaky ReLU (its mask's comparison gets a zero gradient from core/wasm-patches), reshape+mean pooling
 * (avgPool has no second derivative), and the stddev map broadcast by a multiply rather than tile.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Phase, PgganArch } from './arch.ts';
import { conv, downsample2x, lrelu } from './layers.ts';
import { checkPhase, resolutionsUpTo, widthAt } from './pggan.ts';
import { heScale, scaled, specIndex, type ParamSpec, type Params } from './params.ts';

/** The paper's group size for the minibatch standard deviation. */
export const MBSTD_GROUP = 4;
const MBSTD_EPSILON = 1e-8;

export function pgganDiscSpecs(arch: PgganArch): ParamSpec[] {
  const specs: ParamSpec[] = [];
  const normal = (name: string, shape: number[], fanIn: number, gain = Math.SQRT2): void => {
    specs.push({ name, shape, init: 'normal', scale: heScale(fanIn, gain) });
  };
  const bias = (name: string, n: number): void => {
    specs.push({ name, shape: [n], init: 'zeros', scale: 1 });
  };
  for (const r of resolutionsUpTo(arch.maxResolution)) {
    const c = widthAt(arch, r);
    normal(`d/${r}/fromrgb/w`, [1, 1, arch.channels, c], arch.channels);
    bias(`d/${r}/fromrgb/b`, c);
  }
  for (const r of resolutionsUpTo(arch.maxResolution).slice(1)) {
    const c = widthAt(arch, r);
    const next = widthAt(arch, r / 2);
    normal(`d/${r}/conv0/w`, [3, 3, c, c], 9 * c);
    bias(`d/${r}/conv0/b`, c);
    normal(`d/${r}/conv1/w`, [3, 3, c, next], 9 * c);
    bias(`d/${r}/conv1/b`, next);
  }
  const w4 = widthAt(arch, 4);
  normal('d/4/conv/w', [3, 3, w4 + 1, w4], 9 * (w4 + 1));
  bias('d/4/conv/b', w4);
  normal('d/4/dense0/w', [16 * w4, w4], 16 * w4);
  bias('d/4/dense0/b', w4);
  // The output layer has gain 1, as in the official code: a linear critic score.
  normal('d/4/dense1/w', [w4, 1], w4, 1);
  bias('d/4/dense1/b', 1);
  return specs;
}

/** The largest group size ≤ `preferred` that divides the batch (the statistic is taken within groups). */
export function mbstdGroupSize(batch: number, preferred = MBSTD_GROUP): number {
  for (let g = Math.min(preferred, batch); g > 1; g--) if (batch % g === 0) return g;
  return 1;
}

/**
 * Appends one feature map: the standard deviation of each feature over a group of samples, averaged over
 * features and pixels, the same value for every member of the group. Groups are samples n, n + M, n + 2M, …
 * (M = N / group), as in the official code. A batch with no divisor ≤ `group` gets a zero map (group 1).
 */
export function minibatchStddev(x: tf.Tensor4D, group = MBSTD_GROUP): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const g = mbstdGroupSize(n, group);
    const m = n / g;
    const y = tf.reshape(x, [g, m, h, w, c]);
    const centred = tf.sub(y, tf.mean(y, 0, true));
    const std = tf.sqrt(tf.add(tf.mean(tf.square(centred), 0), MBSTD_EPSILON)); // [m, h, w, c]
    const perGroup = tf.mean(std, [1, 2, 3]); // [m]
    const map = tf.mul(tf.reshape(perGroup, [1, m, 1, 1, 1]), tf.ones([g, 1, h, w, 1]));
    return tf.concat([x, tf.reshape(map, [n, h, w, 1]) as tf.Tensor4D], 3);
  });
}

/** Critic scores [N, 1] for images [N, res, res, channels] in [-1, 1], at `phase`. Not wrapped in tidy: callers differentiate it. */
export function pgganDiscriminate(arch: PgganArch, params: Params, images: tf.Tensor4D, phase: Phase, group = MBSTD_GROUP): tf.Tensor2D {
  checkPhase(arch, phase);
  if (images.shape[1] !== phase.resolution || images.shape[2] !== phase.resolution || images.shape[3] !== arch.channels) {
    throw new Error(`pgganDiscriminate: images [${images.shape}] do not fit phase ${phase.resolution}² with ${arch.channels} channel(s)`);
  }
  const spec = specIndex(pgganDiscSpecs(arch));
  const w = (name: string) => scaled(params, spec.get(name)!);
  const fromRgb = (img: tf.Tensor4D, r: number) => lrelu(conv(img, w(`d/${r}/fromrgb/w`), w(`d/${r}/fromrgb/b`))) as tf.Tensor4D;
  const block = (x: tf.Tensor4D, r: number): tf.Tensor4D => {
    const h = lrelu(conv(x, w(`d/${r}/conv0/w`), w(`d/${r}/conv0/b`))) as tf.Tensor4D;
    return downsample2x(lrelu(conv(h, w(`d/${r}/conv1/w`), w(`d/${r}/conv1/b`))) as tf.Tensor4D);
  };
  const res = phase.resolution;
  let x = fromRgb(images, res);
  if (res > 4) {
    x = block(x, res);
    if (phase.alpha < 1) {
      const old = fromRgb(downsample2x(images), res / 2);
      x = tf.add(old, tf.mul(tf.sub(x, old), phase.alpha)) as tf.Tensor4D;
    }
    for (let r = res / 2; r > 4; r /= 2) x = block(x, r);
  }
  const n = images.shape[0];
  x = lrelu(conv(minibatchStddev(x, group), w('d/4/conv/w'), w('d/4/conv/b'))) as tf.Tensor4D;
  const h = lrelu(tf.add(tf.matMul(tf.reshape(x, [n, -1]), w('d/4/dense0/w')), w('d/4/dense0/b'))) as tf.Tensor2D;
  return tf.add(tf.matMul(h, w('d/4/dense1/w')), w('d/4/dense1/b')) as tf.Tensor2D;
}
