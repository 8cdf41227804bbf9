/**
 * InfoGAN's collapse warning: the diversity of 64 samples of fixed random latents against that of 64 real images
 * (the PGGAN guard's measure: mean pairwise distance at ≤ 16²). A generator that has collapsed to one picture
 * (two epochs on photographs made a single checkerboard) scores far below the data; the run says so at each
 * epoch, instead of training on silently. Warning only: InfoGAN runs are short, and the user decides.
 */
import * as tf from '@tensorflow/tfjs-core';
import { randomState, toVector } from '../../core/latent/index.ts';
import type { Generator } from '../../core/runtime/types.ts';
import type { ImageDataset } from '../datasets/types.ts';
import { batchAt } from '../datasets/batches.ts';
import { features, meanPairwiseDistance } from '../pggan/guard.ts';

const SAMPLES = 64;
/** Below this fraction of the data's diversity, the samples are called collapsed. */
export const COLLAPSE_RATIO = 0.5;

async function diversityOf(images: tf.Tensor4D): Promise<number> {
  const f = features(images);
  const d = meanPairwiseDistance((await f.data()) as Float32Array, images.shape[0]);
  f.dispose();
  return d;
}

/** The samples' diversity ÷ the data's (1: as varied as the data). */
export async function diversityRatio(gen: Generator, ds: ImageDataset, seed: number): Promise<number> {
  const spec = gen.info.latent;
  const latents = new Float32Array(SAMPLES * spec.size);
  for (let i = 0; i < SAMPLES; i++) latents.set(toVector(spec, randomState(spec, seed + i)), i * spec.size);
  const made = await gen.generate(latents, SAMPLES);
  const fake = tf.tidy(() => tf.sub(tf.div(tf.tensor4d(Float32Array.from(made.data), [SAMPLES, made.height, made.width, 3]), 127.5), 1) as tf.Tensor4D);
  const n = Math.min(SAMPLES, ds.count);
  const order = Uint32Array.from({ length: ds.count }, (_, i) => i);
  const real = tf.tensor4d(batchAt(ds, order, 0, n).images, [n, ds.size, ds.size, ds.channels]);
  try {
    // Grey data against RGB frames: compare in the frames' three channels.
    const realRgb = ds.channels === 1 ? tf.tidy(() => tf.tile(real, [1, 1, 1, 3]) as tf.Tensor4D) : real;
    const ratio = (await diversityOf(fake)) / Math.max(1e-9, await diversityOf(realRgb));
    if (realRgb !== real) realRgb.dispose();
    return ratio;
  } finally {
    tf.dispose([fake, real]);
  }
}
