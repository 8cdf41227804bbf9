/**
 * How good the generator is now, measured while training (trainer/metrics): the sliced Wasserstein distance on
 * Laplacian-pyramid patches between fixed-latent samples and real images at the current resolution (lower is
 * closer to the data, level by level), and the MS-SSIM diversity of the samples beside the data's own (a
 * collapsing generator's rises above the data's). The latents and the real images are the same at every
 * measurement, so the curve shows the generator change, not the sample.
 */
import * as tf from '@tensorflow/tfjs-core';
import { gaussianArray, hash32 } from '../../core/random.ts';
import type { PackedDataset } from '../prepare/pack-format.ts';
import { msSsimDiversity } from '../metrics/ms-ssim.ts';
import { slicedWassersteinDistance } from '../metrics/swd.ts';
import { distinctIndices } from './guard.ts';

const QUALITY_LATENTS = 0x5e71;
const QUALITY_REALS = 0x5e72;
/** Images per set: enough for a stable SWD (64 patches each, 16k per level) in a second or two here. */
export const QUALITY_IMAGES = 256;
/** MS-SSIM needs an 11-pixel window: below 16² there is no diversity figure. */
const MSSSIM_MIN_RES = 16;

export interface QualityReport {
  res: number;
  /** SWD ×1000 per pyramid level, finest first. */
  swd: number[];
  swdMean: number;
  /** Mean MS-SSIM of pairs of samples, and of pairs of real images (null below 16²). */
  msssim: number | null;
  msssimReal: number | null;
}

export function qualityLatents(seed: number, latentSize: number): Float32Array {
  return gaussianArray(QUALITY_IMAGES * latentSize, hash32(seed, QUALITY_LATENTS));
}

/** Real images at `res`, [0, 1]; grey where the run trains on grey (the samples are compared with what it sees). */
async function reals(pack: PackedDataset, res: number, seed: number, grayscale: boolean): Promise<{ data: Float32Array; count: number }> {
  const indices = distinctIndices(pack.count, QUALITY_IMAGES, hash32(seed, QUALITY_REALS));
  const data = Float32Array.from(await pack.read(res, indices), (v) => v / 255);
  if (grayscale) {
    for (let i = 0; i < data.length; i += 3) data[i] = data[i + 1] = data[i + 2] = 0.2126 * data[i]! + 0.7152 * data[i + 1]! + 0.0722 * data[i + 2]!;
  }
  return { data, count: indices.length };
}

/** Samples for `latents` in chunks (the generator's memory), [0, 1]. */
async function samples(generate: (latents: Float32Array, n: number) => tf.Tensor4D, latents: Float32Array, n: number, res: number): Promise<Float32Array> {
  const size = latents.length / n;
  const out = new Float32Array(n * res * res * 3);
  const chunk = 32;
  for (let i = 0; i < n; i += chunk) {
    const m = Math.min(chunk, n - i);
    const t = tf.tidy(() => tf.clipByValue(tf.add(tf.mul(generate(latents.subarray(i * size, (i + m) * size), m), 0.5), 0.5), 0, 1));
    out.set((await t.data()) as Float32Array, i * res * res * 3);
    t.dispose();
  }
  return out;
}

export async function measureQuality(
  generate: (latents: Float32Array, n: number) => tf.Tensor4D,
  latents: Float32Array,
  data: { pack: PackedDataset; grayscale: boolean },
  res: number,
  seed: number,
  realDiversity: Map<number, number | null>,
): Promise<QualityReport> {
  const real = await reals(data.pack, res, seed, data.grayscale);
  const fake = await samples(generate, latents, QUALITY_IMAGES, res);
  const swd = await slicedWassersteinDistance({ data: real.data, count: real.count, size: res, channels: 3 }, { data: fake, count: QUALITY_IMAGES, size: res, channels: 3 }, { seed });
  const diverse = res >= MSSSIM_MIN_RES;
  if (!realDiversity.has(res)) realDiversity.set(res, diverse && real.count >= 2 ? msSsimDiversity(real.data, real.count, res, 3, 64, seed) : null);
  return {
    res,
    swd,
    swdMean: swd.reduce((a, b) => a + b, 0) / swd.length,
    msssim: diverse ? msSsimDiversity(fake, QUALITY_IMAGES, res, 3, 64, seed) : null,
    msssimReal: realDiversity.get(res) ?? null,
  };
}
