/**
 * Collapse guard: notices mode collapse while training and lets the run loop roll back and change course.
 *
 * Measure. Diversity is the mean pairwise distance between images in a fixed feature space: each image clamped
 * to [-1, 1] (what a viewer sees), box-filtered down to at most 16×16 RGB, flattened; the distance between two
 * images is the RMS of their feature difference. The generator's diversity is taken on a fixed set of latents
 * (the same all run long), the real data's on a fixed random set of dataset images at the current resolution;
 * the guard's signal is their ratio. A collapsed generator maps many latents to near-identical images, which
 * shows at 16² as clearly as at full size, while a healthy one's ratio sits near 1. The feature space is
 * deterministic, needs no trained network, costs one generator pass over the fixed latents, and compares the
 * same thing at every resolution (4² and 8² are used as they are). It is blind to collapse confined to fine
 * texture above 16²; samples per phase are there for the eye.
 *
 * Verdict. Every `everySteps` steps the ratio is measured. Below `threshold` for `window` consecutive
 * measurements is a collapse; measurements before `warmupKimg` count for nothing (an untrained generator is
 * not diverse yet). The guard is healthy when the latest measurement, past the warm-up, is at or above the
 * threshold: only then does the run loop keep a copy of the checkpoint it saves as the rollback target.
 *
 * Response (run.ts). On a collapse: roll back to the last healthy checkpoint (weights, optimizers, step,
 * schedule clock, data position), apply the configured remedy (learning rate ×, gradient penalty ×, fade-in
 * length ×) from the current resolution on, log a `collapse` event and a warning, and go on with fresh noise.
 * After `maxRollbacks` rollbacks the run stops at the last healthy checkpoint and says so.
 */
import * as tf from '@tensorflow/tfjs-core';
import { downsample2x } from '../../core/models/layers.ts';
import { gaussianArray, hash32, rng } from '../../core/random.ts';
import type { PackedDataset } from '../prepare/pack-format.ts';
import type { GuardSettings, RunState } from './settings.ts';

export const FEATURE_RES = 16;
/** Images per generator pass while measuring (bounded memory at 1024²). */
const CHUNK_PIXELS = 16 * 128 * 128;
const GUARD_LATENTS = 0x6a4d;
const GUARD_REALS = 0x7e41;

/** Features [n, d] of images [n, r, r, c]: clamped, box-filtered to ≤ 16², flattened. */
export function features(images: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    let x = tf.clipByValue(images, -1, 1) as tf.Tensor4D;
    while (x.shape[1] > FEATURE_RES) x = downsample2x(x);
    return tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D;
  });
}

/** Mean over all pairs of the RMS difference between rows of `f` (n × d, row-major), in float64. */
export function meanPairwiseDistance(f: Float32Array, n: number): number {
  if (n < 2) throw new RangeError('meanPairwiseDistance: needs at least two samples');
  const d = f.length / n;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const diff = f[i * d + k]! - f[j * d + k]!;
        s += diff * diff;
      }
      sum += Math.sqrt(s / d);
    }
  }
  return sum / ((n * (n - 1)) / 2);
}

/** The fixed latents the guard measures the generator on. */
export function guardLatents(seed: number, n: number, latentSize: number): Float32Array {
  return gaussianArray(n * latentSize, hash32(seed, GUARD_LATENTS));
}

/** Diversity of `generate`'s images for `latents` (n rows), generated in chunks. */
export async function generatedDiversity(generate: (latents: Float32Array, n: number) => tf.Tensor4D, latents: Float32Array, n: number, res: number): Promise<number> {
  const size = latents.length / n;
  const chunk = Math.max(2, Math.floor(CHUNK_PIXELS / (res * res)));
  const parts: Float32Array[] = [];
  for (let i = 0; i < n; i += chunk) {
    const m = Math.min(chunk, n - i);
    const f = tf.tidy(() => features(generate(latents.subarray(i * size, (i + m) * size), m)));
    parts.push((await f.data()) as Float32Array);
    f.dispose();
  }
  return meanPairwiseDistance(concat(parts), n);
}

/** Diversity of a fixed random set of `n` dataset images (fewer if the dataset is smaller) at `res`. */
export async function realDiversity(pack: PackedDataset, res: number, n: number, seed: number): Promise<number> {
  const indices = distinctIndices(pack.count, n, hash32(seed, GUARD_REALS));
  const count = indices.length;
  const chunk = Math.max(1, Math.floor(CHUNK_PIXELS / (res * res)));
  const parts: Float32Array[] = [];
  for (let i = 0; i < count; i += chunk) {
    const part = indices.slice(i, i + chunk);
    const bytes = await pack.read(res, part);
    const f = tf.tidy(() => features(tf.sub(tf.div(tf.tensor4d(Float32Array.from(bytes), [part.length, res, res, 3]), 127.5), 1) as tf.Tensor4D));
    parts.push((await f.data()) as Float32Array);
    f.dispose();
  }
  return meanPairwiseDistance(concat(parts), count);
}

/** min(n, total) distinct indices below `total`, drawn from `seed` (a partial Fisher–Yates): the same at every resolution. */
export function distinctIndices(total: number, n: number, seed: number): number[] {
  const count = Math.min(n, total);
  const r = rng(seed);
  const pool = Array.from({ length: total }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(r() * (total - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, count);
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export type Verdict = 'warmup' | 'healthy' | 'low' | 'collapse';

/** The verdict logic, pure: state in, state out (the state is saved with the run, so resumes agree). */
export function observe(settings: GuardSettings, state: RunState['guard'], ratio: number, clock: number): { verdict: Verdict; state: RunState['guard'] } {
  if (clock < settings.warmupKimg * 1000) return { verdict: 'warmup', state: { streak: 0, lastRatio: null } };
  if (ratio >= settings.threshold) return { verdict: 'healthy', state: { streak: 0, lastRatio: ratio } };
  const streak = state.streak + 1;
  return { verdict: streak >= settings.window ? 'collapse' : 'low', state: { streak, lastRatio: ratio } };
}

/** Healthy enough to be a rollback target: the latest measurement past the warm-up was at or above the threshold. */
export function isHealthy(settings: GuardSettings, state: RunState['guard']): boolean {
  return settings.enabled && state.lastRatio !== null && state.streak === 0 && state.lastRatio >= settings.threshold;
}
