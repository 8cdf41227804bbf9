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

function batchNorm(x: tf.Tensor, params: Params, prefix: string, training: boolean): tf.Tensor {
  const axes = x.rank === 4 ? [0, 1, 2] : [0];
  const { mean, variance } = training
    ? tf.moments(x, axes)
    : { mean: param(params, `${prefix}/bn/mean`), variance: param(params, `${prefix}/bn/variance`) };
  return tf.batchNorm(x, mean, variance, param(params, `${prefix}/bn/beta`), param(params, `${prefix}/bn/gamma`), BATCHNORM_EPSILON);
}

/**
 * Images [N, size, size, channels] in [-1, 1] from latents [N, latentSize]. `training` normalises
 * with batch statistics (the trainer keeps the running averages); otherwise the stored ones are used.
 */
export function infoganGenerate(
  arch: InfoganArch,
  params: Params,
  latents: tf.Tensor2D,
  opts: { training?: boolean } = {},
): tf.Tensor4D {
  const training = opts.training ?? false;
  return tf.tidy(() => {
    const n = latents.shape[0];
    let x: tf.Tensor = latents;
    for (const l of infoganLayers(arch)) {
      if (l.type === 'dense') {
        x = tf.relu(batchNorm(tf.matMul(x as tf.Tensor2D, param(params, `${l.name}/w`) as tf.Tensor2D), params, l.name, training));
        if (l.name === 'g/fc2') x = tf.reshape(x, [n, arch.startResolution, arch.startResolution, arch.widths[0]!]);
      } else {
        const out = l.inSize * 2;
        const y = tf.conv2dTranspose(x as tf.Tensor4D, param(params, `${l.name}/w`) as tf.Tensor4D, [n, out, out, l.outChannels], 2, 'same');
        x = l.last ? tf.tanh(tf.add(y, param(params, `${l.name}/b`))) : tf.relu(batchNorm(y, params, l.name, training));
      }
    }
    return x as tf.Tensor4D;
  });
}

export function infoganFlops(arch: InfoganArch): number {
  let flops = 0;
  for (const l of infoganLayers(arch)) {
    flops += l.type === 'dense' ? 2 * l.inUnits * l.units : 2 * l.inSize * l.inSize * 16 * l.inChannels * l.outChannels;
  }
  return flops;
}
