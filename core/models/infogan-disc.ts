/**
 * InfoGAN discriminator D and recognition network Q sharing one body (Chen et al. 2016): 4×4 stride-2
 * convs with leaky ReLU (batchnorm after the first), a dense layer, then D's real/fake logit and Q's
 * head: logits per categorical code and a Gaussian mean (and optionally a log-variance) per continuous code.
 * Only the trainer uses it, always with batch statistics, so its batchnorms keep no running averages.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { InfoganArch } from './arch.ts';
import type { ParamSpec, Params } from './params.ts';
import { RhodopsError } from '../errors.ts';
import { BATCHNORM_EPSILON } from './layers.ts';

export const DISC_LEAK = 0.1;
const WEIGHT_STD = 0.02;

export interface InfoganDiscArch {
  /** Conv widths from the image down to the generator's start grid: one per stride-2 conv. */
  widths: number[];
  fcUnits: number;
  qUnits: number;
  /** Q also predicts a log-variance per continuous code (else σ = 1). */
  learnVariance: boolean;
}

/** Mirrors the generator: as many convs as it has transposed convs, widths reversed. */
export function defaultDiscArch(g: InfoganArch): InfoganDiscArch {
  return { widths: [...g.widths].reverse(), fcUnits: g.fcUnits || 1024, qUnits: 128, learnVariance: false };
}

export interface QOutput {
  /** One [N, k] logits tensor per categorical code. */
  categorical: tf.Tensor2D[];
  /** [N, continuous] means, or null when there are no continuous codes. */
  mean: tf.Tensor2D | null;
  logVariance: tf.Tensor2D | null;
}

function flatSize(g: InfoganArch, d: InfoganDiscArch): number {
  return g.startResolution * g.startResolution * d.widths[d.widths.length - 1]!;
}

export function qOutputSize(g: InfoganArch, d: InfoganDiscArch): number {
  return g.categorical.reduce((s, c) => s + c, 0) + g.continuous * (d.learnVariance ? 2 : 1);
}

export function infoganDiscSpecs(g: InfoganArch, d: InfoganDiscArch): ParamSpec[] {
  if (d.widths.length !== g.widths.length) {
    throw new RhodopsError('BAD_OPTION', `the discriminator needs ${g.widths.length} conv widths to reach ${g.startResolution}², got ${d.widths.length}`);
  }
  const specs: ParamSpec[] = [];
  const normal = (name: string, shape: number[]): ParamSpec => ({ name, shape, init: 'normal', std: WEIGHT_STD, scale: 1 });
  const zeros = (name: string, shape: number[]): ParamSpec => ({ name, shape, init: 'zeros', scale: 1 });
  const ones = (name: string, shape: number[]): ParamSpec => ({ name, shape, init: 'ones', scale: 1 });
  let cin: number = g.channels;
  d.widths.forEach((c, i) => {
    specs.push(normal(`d/conv${i}/w`, [4, 4, cin, c]));
    if (i === 0) specs.push(zeros(`d/conv${i}/b`, [c]));
    else specs.push(ones(`d/conv${i}/bn/gamma`, [c]), zeros(`d/conv${i}/bn/beta`, [c]));
    cin = c;
  });
  specs.push(normal('d/fc/w', [flatSize(g, d), d.fcUnits]), ones('d/fc/bn/gamma', [d.fcUnits]), zeros('d/fc/bn/beta', [d.fcUnits]));
  specs.push(normal('d/out/w', [d.fcUnits, 1]), zeros('d/out/b', [1]));
  const qOut = qOutputSize(g, d);
  if (qOut > 0) {
    specs.push(normal('q/fc/w', [d.fcUnits, d.qUnits]), ones('q/fc/bn/gamma', [d.qUnits]), zeros('q/fc/bn/beta', [d.qUnits]));
    specs.push(normal('q/out/w', [d.qUnits, qOut]), zeros('q/out/b', [qOut]));
  }
  return specs;
}

function p(params: Params, name: string): tf.Tensor {
  const t = params[name];
  if (!t) throw new RhodopsError('CHECKPOINT_FILE_CORRUPT', `discriminator weight '${name}' is missing`);
  return t;
}

function batchNorm(x: tf.Tensor, params: Params, prefix: string): tf.Tensor {
  const { mean, variance } = tf.moments(x, x.rank === 4 ? [0, 1, 2] : [0]);
  return tf.batchNorm(x, mean, variance, p(params, `${prefix}/bn/beta`), p(params, `${prefix}/bn/gamma`), BATCHNORM_EPSILON);
}

/** D's logits [N, 1] and Q's outputs for images [N, size, size, channels] in [-1, 1]. */
export function infoganDiscriminate(g: InfoganArch, d: InfoganDiscArch, params: Params, images: tf.Tensor4D): { logits: tf.Tensor2D; q: QOutput } {
  const n = images.shape[0];
  let x: tf.Tensor = images;
  d.widths.forEach((_, i) => {
    const y = tf.conv2d(x as tf.Tensor4D, p(params, `d/conv${i}/w`) as tf.Tensor4D, 2, 'same');
    x = tf.leakyRelu(i === 0 ? tf.add(y, p(params, `d/conv${i}/b`)) : batchNorm(y, params, `d/conv${i}`), DISC_LEAK);
  });
  const h = tf.leakyRelu(batchNorm(tf.matMul(tf.reshape(x, [n, -1]), p(params, 'd/fc/w')), params, 'd/fc'), DISC_LEAK) as tf.Tensor2D;
  const logits = tf.add(tf.matMul(h, p(params, 'd/out/w')), p(params, 'd/out/b')) as tf.Tensor2D;
  const q: QOutput = { categorical: [], mean: null, logVariance: null };
  if (qOutputSize(g, d) > 0) {
    const hq = tf.leakyRelu(batchNorm(tf.matMul(h, p(params, 'q/fc/w')), params, 'q/fc'), DISC_LEAK) as tf.Tensor2D;
    const out = tf.add(tf.matMul(hq, p(params, 'q/out/w')), p(params, 'q/out/b')) as tf.Tensor2D;
    let offset = 0;
    for (const k of g.categorical) {
      q.categorical.push(tf.slice(out, [0, offset], [n, k]));
      offset += k;
    }
    if (g.continuous > 0) {
      q.mean = tf.slice(out, [0, offset], [n, g.continuous]);
      if (d.learnVariance) q.logVariance = tf.slice(out, [0, offset + g.continuous], [n, g.continuous]);
    }
  }
  return { logits, q };
}
