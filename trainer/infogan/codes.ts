/**
 * Latent sampling for InfoGAN training: noise ~ N(0, 1), each categorical code uniform over its values
 * (as a one-hot block), continuous codes ~ U(-1, 1). Seeded per call, so runs and resumes reproduce.
 */
import type { LatentSpec } from '../../core/checkpoint/manifest.ts';
import { gaussianArray, hash32, rng } from '../../core/random.ts';

export interface CodeSample {
  batch: number;
  /** batch × spec.size, laid out [noise | one-hots | continuous]. */
  latents: Float32Array;
  /** batch × categorical.length chosen values. */
  categorical: Int32Array;
  /** batch × continuous values. */
  continuous: Float32Array;
}

export function sampleCodes(spec: LatentSpec, batch: number, seed: number): CodeSample {
  const r = rng(seed);
  const noise = gaussianArray(batch * spec.noise, hash32(seed, 1));
  const latents = new Float32Array(batch * spec.size);
  const categorical = new Int32Array(batch * spec.categorical.length);
  const continuous = new Float32Array(batch * spec.continuous);
  for (let b = 0; b < batch; b++) {
    const row = b * spec.size;
    latents.set(noise.subarray(b * spec.noise, (b + 1) * spec.noise), row);
    let offset = row + spec.noise;
    spec.categorical.forEach((k, c) => {
      const value = Math.floor(r() * k);
      categorical[b * spec.categorical.length + c] = value;
      latents[offset + value] = 1;
      offset += k;
    });
    for (let i = 0; i < spec.continuous; i++) {
      const value = r() * 2 - 1;
      continuous[b * spec.continuous + i] = value;
      latents[offset + i] = value;
    }
  }
  return { batch, latents, categorical, continuous };
}

/** A seed for (run seed, step, purpose) that never collides across purposes. */
export function stepSeed(seed: number, step: number, purpose: number): number {
  return hash32(seed, step, purpose);
}
