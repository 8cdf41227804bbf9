/**
 * `--directions principal` (serve and render): the knobs move along the model's principal directions (GANSpace-style:
 * PCA of what the generator makes from sampled latents, mapped back to the noise), so the first knobs make
 * the largest visible changes. Computed once per model (seconds; a minute for a 256² PGGAN) and cached.
 */
import { promises as fs } from 'node:fs';
import type { LatentSpec } from '../core/checkpoint/manifest.ts';
import { cachedPrincipalDirections } from '../core/mapping/index.ts';
import { oneHot, toVector } from '../core/latent/index.ts';
import type { RgbBatch } from '../core/runtime/types.ts';

/** Frames are compared at this size, in gray: enough to see composition, cheap to decompose. */
const FEATURE_SIDE = 16;

/** Gray FEATURE_SIDE² thumbnails of a batch (box filter over the nearest source pixels). */
function thumbnails(rgb: RgbBatch): Float32Array[] {
  const { width, height, batch, data } = rgb;
  const out: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const f = new Float32Array(FEATURE_SIDE * FEATURE_SIDE);
    const counts = new Float32Array(f.length);
    const base = b * width * height * 3;
    for (let y = 0; y < height; y++) {
      const ty = Math.min(FEATURE_SIDE - 1, Math.floor((y * FEATURE_SIDE) / height));
      for (let x = 0; x < width; x++) {
        const i = base + (y * width + x) * 3;
        const k = ty * FEATURE_SIDE + Math.min(FEATURE_SIDE - 1, Math.floor((x * FEATURE_SIDE) / width));
        f[k]! += (data[i]! + data[i + 1]! + data[i + 2]!) / (3 * 255);
        counts[k]!++;
      }
    }
    for (let k = 0; k < f.length; k++) f[k]! /= Math.max(1, counts[k]!);
    out.push(f);
  }
  return out;
}

export interface PrincipalSource {
  path: string;
  name: string;
  latent: LatentSpec;
  generate(latents: Float32Array, batch: number): Promise<RgbBatch>;
}

export async function modelPrincipalDirections(model: PrincipalSource, count: number, cacheDir?: string): Promise<Float32Array[]> {
  const spec = model.latent;
  // The codes stay at their first category and zero: the directions are of the noise.
  const codes = { categorical: spec.categorical.map((k) => oneHot(k, 0)), continuous: new Float32Array(spec.continuous) };
  const stat = await fs.stat(model.path).catch(() => null);
  const result = await cachedPrincipalDirections(
    async (noise) => {
      const latents = new Float32Array(noise.length * spec.size);
      noise.forEach((n, i) => toVector(spec, { noise: n, ...codes }, latents.subarray(i * spec.size, (i + 1) * spec.size)));
      return thumbnails(await model.generate(latents, noise.length));
    },
    {
      noise: spec.noise,
      count: Math.min(count, spec.noise),
      samples: 256,
      batchSize: 8,
      seed: 1,
      distribution: spec.distribution,
      // A retrained checkpoint at the same path is a new directory (saves swap it in), so its time differs.
      modelId: `${model.name}@${model.path}@${stat?.mtimeMs ?? 0}`,
      featureId: `gray${FEATURE_SIDE}`,
      ...(cacheDir ? { cacheDir } : {}),
    },
  );
  return result.directions;
}
