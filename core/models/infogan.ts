/**
 * InfoGAN generator (Chen et al. 2016): dense layers with batchnorm and ReLU to a small grid, then
 * 4×4 stride-2 transposed convs (batchnorm + ReLU) up to the image, tanh at the end. The latent is
 * [noise | one-hot per categorical code | continuous codes], concatenated in that order.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { InfoganArch } from './arch.ts';
import { latentSizeOf } from './arch.ts';
import { BATCHNORM_EPSILON } from './layers.ts';
import type { ParamSpec, Params } from './params.ts';
import { RhodopsError } from '../errors.ts';

const WEIGHT_STD = 0.02;

function batchNormSpecs(prefix: string, c: number): ParamSpec[] {
  return [
    { name: `${prefix}/bn/gamma`, shape: [c], init: 'ones', scale: 1 },
    { name: `${prefix}/bn/beta`, shape: [c], init: 'zeros', scale: 1 },
    { name: `${prefix}/bn/mean`, shape: [c], init: 'zeros', scale: 1, stat: true },
    { name: `${prefix}/bn/variance`, shape: [c], init: 'ones', scale: 1, stat: true },
  ];
}

/** The layers in order, as the forward pass and the exporter both walk them. */
export type InfoganLayer =
  | { type: 'dense'; name: string; units: number; inUnits: number }
  | { type: 'deconv'; name: string; inChannels: number; outChannels: number; inSize: number; last: boolean };

export function infoganLayers(arch: InfoganArch): InfoganLayer[] {
  const layers: InfoganLayer[] = [];
  const s = arch.startResolution;
  const w0 = arch.widths[0]!;
  let units = latentSizeOf(arch);
  if (arch.fcUnits > 0) {
    layers.push({ type: 'dense', name: 'g/fc1', units: arch.fcUnits, inUnits: units });
    units = arch.fcUnits;
  }
  layers.push({ type: 'dense', name: 'g/fc2', units: s * s * w0, inUnits: units });
  const chans = [...arch.widths, arch.channels];
  for (let i = 0; i < arch.widths.length; i++) {
    layers.push({
      type: 'deconv',
      name: `g/deconv${i}`,
      inChannels: chans[i]!,
      outChannels: chans[i + 1]!,
      inSize: s * 2 ** i,
      last: i === arch.widths.length - 1,
    });
  }
  return layers;
}

export function infoganGeneratorSpecs(arch: InfoganArch): ParamSpec[] {
  const specs: ParamSpec[] = [];
  for (const l of infoganLayers(arch)) {
    if (l.type === 'dense') {
      // No bias: batchnorm's beta follows.
      specs.push({ name: `${l.name}/w`, shape: [l.inUnits, l.units], init: 'normal', std: WEIGHT_STD, scale: 1 });
      specs.push(...batchNormSpecs(l.name, l.units));
    } else {
      // tfjs conv2dTranspose filters are [kh, kw, out, in].
      specs.push({ name: `${l.name}/w`, shape: [4, 4, l.outChannels, l.inChannels], init: 'normal', std: WEIGHT_STD, scale: 1 });
      if (l.last) specs.push({ name: `${l.name}/b`, shape: [l.outChannels], init: 'zeros', scale: 1 });
      else specs.push(...batchNormSpecs(l.name, l.outChannels));
    }
  }
  return specs;
}

function param(params: Params, name: string): tf.Tensor {
  const t = params[name];
  if (!t) throw new RhodopsError('CHECKPOINT_FILE_CORRUPT', `weight '${name}' is missing`);
  return t;
}

/** Per-layer batch moments seen in training mode: what running averages and recalibration are made of. */
export type BatchMoments = Record<string, { mean: tf.Tensor1D; variance: tf.Tensor1D }>;

/**
 * Images [N, size, size, channels] in [-1, 1] from latents [N, latentSize], normalising with the stored
 * batchnorm statistics (inference, export).
 */
export function infoganGenerate(arch: InfoganArch, params: Params, latents: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => forward(arch, params, latents, null));
}

/** Training mode: batchnorm uses the batch's own moments, which are returned for the running averages. */
export function infoganGenerateTraining(arch: InfoganArch, params: Params, latents: tf.Tensor2D): { images: tf.Tensor4D; moments: BatchMoments } {
  const moments: BatchMoments = {};
  const images = forward(arch, params, latents, moments);
  return { images, moments };
}

function forward(arch: InfoganArch, params: Params, latents: tf.Tensor2D, moments: BatchMoments | null): tf.Tensor4D {
  const batchNorm = (x: tf.Tensor, prefix: string): tf.Tensor => {
    let mean: tf.Tensor;
    let variance: tf.Tensor;
    if (moments) {
      ({ mean, variance } = tf.moments(x, x.rank === 4 ? [0, 1, 2] : [0]));
      moments[prefix] = { mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
    } else {
      mean = param(params, `${prefix}/bn/mean`);
      variance = param(params, `${prefix}/bn/variance`);
    }
    return tf.batchNorm(x, mean, variance, param(params, `${prefix}/bn/beta`), param(params, `${prefix}/bn/gamma`), BATCHNORM_EPSILON);
  };
  const n = latents.shape[0];
  let x: tf.Tensor = latents;
  for (const l of infoganLayers(arch)) {
    if (l.type === 'dense') {
      x = tf.relu(batchNorm(tf.matMul(x as tf.Tensor2D, param(params, `${l.name}/w`) as tf.Tensor2D), l.name));
      if (l.name === 'g/fc2') x = tf.reshape(x, [n, arch.startResolution, arch.startResolution, arch.widths[0]!]);
    } else {
      const out = l.inSize * 2;
      const y = tf.conv2dTranspose(x as tf.Tensor4D, param(params, `${l.name}/w`) as tf.Tensor4D, [n, out, out, l.outChannels], 2, 'same');
      x = l.last ? tf.tanh(tf.add(y, param(params, `${l.name}/b`))) : tf.relu(batchNorm(y, l.name));
    }
  }
  return x as tf.Tensor4D;
}

export function infoganFlops(arch: InfoganArch): number {
  let flops = 0;
  for (const l of infoganLayers(arch)) {
    flops += l.type === 'dense' ? 2 * l.inUnits * l.units : 2 * l.inSize * l.inSize * 16 * l.inChannels * l.outChannels;
  }
  return flops;
}
