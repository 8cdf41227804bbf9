/**
 * PGGAN generator (Karras et al. 2018): pixelnorm on the latent, a dense 4×4 block, then per
 * resolution nearest ×2 upsampling and two 3×3 convs, each followed by leaky ReLU and pixelnorm;
 * a 1×1 toRGB per resolution. Equalized learning rate on every weight. During a transition the new
 * block's output is faded in over the upsampled output of the previous resolution.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Phase, PgganArch } from './arch.ts';
import { conv, lrelu, pixelNorm, upsample2x } from './layers.ts';
import { heScale, scaled, specIndex, type ParamSpec, type Params } from './params.ts';
import { RhodopsError } from '../errors.ts';

/** Resolutions from 4 up to and including `max`. */
export function resolutionsUpTo(max: number): number[] {
  const out: number[] = [];
  for (let r = 4; r <= max; r *= 2) out.push(r);
  return out;
}

export function widthAt(arch: PgganArch, res: number): number {
  const w = arch.widths[Math.log2(res) - 2];
  if (w === undefined) throw new RhodopsError('BAD_OPTION', `resolution ${res} is beyond this model's ${arch.maxResolution}`);
  return w;
}

export function checkPhase(arch: PgganArch, phase: Phase): void {
  const ok = resolutionsUpTo(arch.maxResolution).includes(phase.resolution);
  if (!ok || !(phase.alpha >= 0 && phase.alpha <= 1)) {
    throw new RhodopsError(
      'BAD_OPTION',
      `PGGAN phase {resolution: ${phase.resolution}, alpha: ${phase.alpha}} is invalid for a ${arch.maxResolution}² model.`,
      { hint: 'resolution must be a power of two from 4 to the model maximum, alpha within [0, 1].' },
    );
  }
}

export function pgganGeneratorSpecs(arch: PgganArch): ParamSpec[] {
  const specs: ParamSpec[] = [];
  const w4 = widthAt(arch, 4);
  // The 4×4 "conv from a 1×1 latent" is a dense layer; the official code uses gain sqrt(2)/4 here.
  specs.push({ name: 'g/4/dense/w', shape: [arch.latentSize, 16 * w4], init: 'normal', scale: heScale(arch.latentSize, Math.SQRT2 / 4) });
  specs.push({ name: 'g/4/dense/b', shape: [w4], init: 'zeros', scale: 1 });
  specs.push({ name: 'g/4/conv/w', shape: [3, 3, w4, w4], init: 'normal', scale: heScale(9 * w4) });
  specs.push({ name: 'g/4/conv/b', shape: [w4], init: 'zeros', scale: 1 });
  for (const r of resolutionsUpTo(arch.maxResolution).slice(1)) {
    const cin = widthAt(arch, r / 2);
    const c = widthAt(arch, r);
    specs.push({ name: `g/${r}/conv0/w`, shape: [3, 3, cin, c], init: 'normal', scale: heScale(9 * cin) });
    specs.push({ name: `g/${r}/conv0/b`, shape: [c], init: 'zeros', scale: 1 });
    specs.push({ name: `g/${r}/conv1/w`, shape: [3, 3, c, c], init: 'normal', scale: heScale(9 * c) });
    specs.push({ name: `g/${r}/conv1/b`, shape: [c], init: 'zeros', scale: 1 });
  }
  for (const r of resolutionsUpTo(arch.maxResolution)) {
    const c = widthAt(arch, r);
    specs.push({ name: `g/${r}/torgb/w`, shape: [1, 1, c, arch.channels], init: 'normal', scale: heScale(c, 1) });
    specs.push({ name: `g/${r}/torgb/b`, shape: [arch.channels], init: 'zeros', scale: 1 });
  }
  return specs;
}

/** Generates images [N, res, res, channels] (roughly in [-1, 1], unclamped) from latents [N, latentSize]. */
export function pgganGenerate(arch: PgganArch, params: Params, latents: tf.Tensor2D, phase: Phase): tf.Tensor4D {
  checkPhase(arch, phase);
  const spec = specIndex(pgganGeneratorSpecs(arch));
  const w = (name: string) => scaled(params, spec.get(name)!);
  return tf.tidy(() => {
    const n = latents.shape[0];
    const w4 = widthAt(arch, 4);
    let x = tf.reshape(tf.matMul(pixelNorm(latents), w('g/4/dense/w')), [n, 4, 4, w4]) as tf.Tensor4D;
    x = pixelNorm(lrelu(tf.add(x, w('g/4/dense/b')))) as tf.Tensor4D;
    x = pixelNorm(lrelu(conv(x, w('g/4/conv/w'), w('g/4/conv/b')))) as tf.Tensor4D;
    let previous: tf.Tensor4D | null = null;
    for (const r of resolutionsUpTo(phase.resolution).slice(1)) {
      previous = x;
      x = upsample2x(x);
      x = pixelNorm(lrelu(conv(x, w(`g/${r}/conv0/w`), w(`g/${r}/conv0/b`)))) as tf.Tensor4D;
      x = pixelNorm(lrelu(conv(x, w(`g/${r}/conv1/w`), w(`g/${r}/conv1/b`)))) as tf.Tensor4D;
    }
    const toRgb = (t: tf.Tensor4D, r: number) => conv(t, w(`g/${r}/torgb/w`), w(`g/${r}/torgb/b`));
    const rgb = toRgb(x, phase.resolution);
    if (previous === null || phase.alpha >= 1) return rgb;
    const faded = upsample2x(toRgb(previous, phase.resolution / 2));
    return tf.add(faded, tf.mul(tf.sub(rgb, faded), phase.alpha)) as tf.Tensor4D;
  });
}

/** Multiply-add FLOPs (×2) per generated image, for GFLOPS figures in the bench. */
export function pgganFlops(arch: PgganArch, phase: Phase): number {
  const w4 = widthAt(arch, 4);
  let flops = 2 * arch.latentSize * 16 * w4 + 2 * 9 * w4 * w4 * 16 + 2 * w4 * arch.channels * 16;
  for (const r of resolutionsUpTo(phase.resolution).slice(1)) {
    const cin = widthAt(arch, r / 2);
    const c = widthAt(arch, r);
    flops += 2 * 9 * (cin * c + c * c) * r * r;
  }
  flops += 2 * widthAt(arch, phase.resolution) * arch.channels * phase.resolution ** 2;
  return flops;
}
