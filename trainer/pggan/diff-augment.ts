/**
 * Differentiable augmentation (DiffAugment, Zhao et al. 2020): the critic sees real and generated images through
 * the same kind of random colour change, translation and cutout, each image with its own draw, and the
 * generator's gradient flows back through them. With a few hundred images a critic otherwise learns the
 * training set by heart and the generator stops improving; augmenting both sides keeps the distributions it
 * compares alike, so nothing augmented leaks into the generator's output.
 *   colour: brightness + U(−0.5, 0.5), saturation × U(0, 2) about the pixel's mean, contrast × U(0.5, 1.5) about
 *     the image's mean;
 *   translation: a shift of up to 1/8 of the side each way, zeros shifted in;
 *   cutout: a zeroed square of half the side at a random place.
 * Every draw comes from the seed given, so a resumed run augments exactly as an uninterrupted one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { rng } from '../../core/random.ts';

export const AUGMENTS = ['color', 'translation', 'cutout'] as const;
export type Augment = (typeof AUGMENTS)[number];

/** One image's draws, in [0, 1) each. */
interface Draws {
  brightness: number;
  saturation: number;
  contrast: number;
  dx: number;
  dy: number;
  cx: number;
  cy: number;
}

/** The draws of images first … first + n − 1 of a minibatch, so a micro-batch draws what one pass would. */
function draws(n: number, seed: number, first: number): Draws[] {
  const r = rng(seed);
  const all = Array.from({ length: first + n }, () => ({ brightness: r(), saturation: r(), contrast: r(), dx: r(), dy: r(), cx: r(), cy: r() }));
  return all.slice(first);
}

const perImage = (values: number[]) => tf.tensor4d(values, [values.length, 1, 1, 1]);

function colour(x: tf.Tensor4D, d: Draws[]): tf.Tensor4D {
  let y = tf.add(x, perImage(d.map((v) => v.brightness - 0.5))) as tf.Tensor4D;
  const pixelMean = tf.mean(y, 3, true);
  y = tf.add(tf.mul(tf.sub(y, pixelMean), perImage(d.map((v) => v.saturation * 2))), pixelMean) as tf.Tensor4D;
  const imageMean = tf.mean(y, [1, 2, 3], true);
  return tf.add(tf.mul(tf.sub(y, imageMean), perImage(d.map((v) => v.contrast + 0.5))), imageMean) as tf.Tensor4D;
}

/** Shifts of −side/8 … +side/8 pixels (rounded), one per image. */
export function shiftOf(u: number, side: number): number {
  const max = Math.round(side / 8);
  return Math.min(max, Math.floor(u * (2 * max + 1)) - max);
}

function translation(x: tf.Tensor4D, d: Draws[]): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const ph = Math.round(h / 8);
  const pw = Math.round(w / 8);
  if (ph === 0 && pw === 0) return x;
  const padded = tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]]);
  // A shift right by s shows the padded image from column pw − s: slices of the padded image, one per image.
  const parts = d.map((v, i) => tf.slice(padded, [i, ph - shiftOf(v.dy, h), pw - shiftOf(v.dx, w), 0], [1, h, w, c]));
  return (n === 1 ? parts[0]! : tf.concat(parts, 0)) as tf.Tensor4D;
}

/** The zeroed square's top-left corner for a draw: anywhere the square's centre lands inside the image. */
export function cutoutAt(u: number, side: number): number {
  const size = Math.floor(side / 2);
  return Math.floor(u * (side + 1 - (side % 2))) - Math.floor(size / 2);
}

function cutout(x: tf.Tensor4D, d: Draws[]): tf.Tensor4D {
  const [n, h, w] = x.shape;
  const sh = Math.floor(h / 2);
  const sw = Math.floor(w / 2);
  const mask = new Float32Array(n * h * w).fill(1);
  d.forEach((v, i) => {
    const top = cutoutAt(v.cy, h);
    const left = cutoutAt(v.cx, w);
    for (let y = Math.max(0, top); y < Math.min(h, top + sh); y++) for (let xx = Math.max(0, left); xx < Math.min(w, left + sw); xx++) mask[(i * h + y) * w + xx] = 0;
  });
  return tf.mul(x, tf.tensor4d(mask, [n, h, w, 1])) as tf.Tensor4D;
}

/**
 * `x` through the augmentations in `policy`, with draws from `seed`: one set per image, `x` being images
 * `first`, `first` + 1, … of the minibatch the seed is for.
 */
export function diffAugment(x: tf.Tensor4D, policy: readonly Augment[], seed: number, first = 0): tf.Tensor4D {
  if (policy.length === 0) return x;
  const d = draws(x.shape[0], seed, first);
  let y = x;
  if (policy.includes('color')) y = colour(y, d);
  if (policy.includes('translation')) y = translation(y, d);
  if (policy.includes('cutout')) y = cutout(y, d);
  return y;
}
