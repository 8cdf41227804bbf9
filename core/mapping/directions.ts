/**
 * Latent directions for the mapping's direction targets:
 * - seeded: a random orthonormal set (core/latent's randomDirections), what the server uses by default;
 * - principal: GANSpace-style (Härkönen et al. 2020): sample latents, push them through a caller's feature
 *   function (the generator's output downsampled, an intermediate activation), find the principal axes of
 *   those features, and regress each axis's coordinates on the latents by least squares, so each direction
 *   is the latent move that best explains one principal way the pictures vary; orthonormalised,
 *   with the variance each explains; cached on disk per model so a model pays for it once;
 * - chroma: 12 more directions tied to the 12 pitch classes (chromaRoutes makes the routes), so the picture
 *   follows the harmony.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { RhodopsError } from '../errors.ts';
import { writeFileAtomic } from '../fsutil.ts';
import { checkRange, mergeOptions } from '../options.ts';
import { randomDirections } from '../latent/directions.ts';
import { gaussianArray, hash32, rng } from '../random.ts';
import { CHROMA_BINS } from './inputs.ts';
import { cholesky, choleskySolve, orthonormalize, principalComponents } from './pca.ts';
import { parseRoute, type Mapping, type Route } from './schema.ts';

/** How many direction knobs the server has before the chroma directions (instrument/live-state.ts DIRECTION_KNOBS). */
export const KNOB_DIRECTIONS = 8;

/** k seeded orthonormal directions in an n-dimensional noise space; the first j of k are the j asked for alone. */
export function seededDirections(noise: number, count: number, seed: number): Float32Array[] {
  return randomDirections(noise, count, seed);
}

// ─── Principal directions ─────────────────────────────────────────────────────────────────────────────────

/**
 * Features of a batch of noise vectors: one feature vector (any fixed length) per latent, in order. The
 * caller completes each noise into the model's full latent (codes fixed or random, as it likes) and returns,
 * e.g., the generated image downsampled to 16×16, or an activation.
 */
export type FeatureFunction = (noise: Float32Array[]) => Promise<ArrayLike<number>[]> | ArrayLike<number>[];

export interface PrincipalOptions {
  /** The model's noise size. */
  noise: number;
  /** How many directions. */
  count: number;
  /** How many latents to sample (GANSpace uses thousands; a few hundred find the strongest few). */
  samples: number;
  seed: number;
  /** Latents per call of the feature function. */
  batchSize: number;
  /** How the noise is sampled, as the model's manifest says. */
  distribution: 'normal' | 'uniform';
}

export const PRINCIPAL_DEFAULTS: PrincipalOptions = { noise: 0, count: 8, samples: 1024, seed: 0, batchSize: 64, distribution: 'normal' };

export interface PrincipalDirections {
  /** Unit, orthonormal noise directions, strongest first. */
  directions: Float32Array[];
  /** Variance of the features along each principal axis. */
  explainedVariance: number[];
  /** Each axis's share of the features' total variance. */
  explainedRatio: number[];
  /** The length of a feature vector. */
  featureSize: number;
}

/** Keeps the sampled latents apart from other uses of the same seed. */
const SAMPLE_STREAM = 0x67736e70;

function checkPrincipal(options: Partial<PrincipalOptions>): PrincipalOptions {
  const o = mergeOptions('principal directions options', PRINCIPAL_DEFAULTS, options);
  checkRange('noise size', o.noise, { min: 1, max: 1 << 16, integer: true });
  checkRange('samples', o.samples, { min: 2, max: 1 << 20, integer: true });
  checkRange('number of directions', o.count, { min: 1, max: Math.min(o.noise, o.samples - 1), integer: true });
  checkRange('directions seed', o.seed, { min: 0, max: 2 ** 32 - 1, integer: true });
  checkRange('batch size', o.batchSize, { min: 1, max: 1 << 16, integer: true });
  if (o.distribution !== 'normal' && o.distribution !== 'uniform') {
    throw new RhodopsError('BAD_OPTION', `distribution must be 'normal' or 'uniform', got '${String(o.distribution)}'.`, { hint: "use the model manifest's latent.distribution" });
  }
  return o;
}

/** Sample i of a seeded set: the same (seed, i) gives the same latent whatever the batch size. */
function sampleNoise(o: PrincipalOptions, i: number): Float32Array {
  const seed = hash32(o.seed, SAMPLE_STREAM, i);
  if (o.distribution === 'normal') return gaussianArray(o.noise, seed);
  const r = rng(seed);
  return Float32Array.from({ length: o.noise }, () => r() * 2 - 1);
}

/**
 * Principal directions of a model (see the file comment). Deterministic for a seed and a deterministic
 * feature function. Throws BAD_OPTION when the feature function returns the wrong number of vectors, vectors
 * of varying length, or non-finite values, or when the features vary in fewer than `count` ways.
 */
export async function principalDirections(features: FeatureFunction, options: Partial<PrincipalOptions>): Promise<PrincipalDirections> {
  const o = checkPrincipal(options);
  const latents: Float32Array[] = [];
  const rows: ArrayLike<number>[] = [];
  for (let start = 0; start < o.samples; start += o.batchSize) {
    const batch = Array.from({ length: Math.min(o.batchSize, o.samples - start) }, (_, j) => sampleNoise(o, start + j));
    const out = await features(batch);
    if (!Array.isArray(out) || out.length !== batch.length) {
      throw new RhodopsError('BAD_OPTION', `the feature function returned ${Array.isArray(out) ? out.length : typeof out} feature vectors for a batch of ${batch.length} latents.`, {
        hint: 'return one feature vector per latent, in order',
      });
    }
    for (const f of out) {
      const size = rows[0]?.length ?? f.length;
      if (f.length !== size || size === 0) {
        throw new RhodopsError('BAD_OPTION', `the feature function returned a vector of ${f.length} values after ones of ${size}.`, { hint: 'return feature vectors of one fixed, non-zero length' });
      }
      for (let x = 0; x < f.length; x++) {
        if (!Number.isFinite(f[x] as number)) throw new RhodopsError('BAD_OPTION', `the feature function returned a non-finite value (${String(f[x])}).`, { hint: 'check the model and the feature function on a few latents' });
      }
      rows.push(f);
    }
    latents.push(...batch);
  }
  const featureSize = rows[0]?.length ?? 0;
  const k = o.count;
  if (k > featureSize) {
    throw new RhodopsError('BAD_OPTION', `${k} directions were asked for from features of ${featureSize} values.`, { hint: 'ask for fewer directions, or use richer features' });
  }
  const pca = principalComponents(rows, k, o.seed);
  if ((pca.variances[k - 1] ?? 0) <= 1e-12 * pca.totalVariance) {
    throw new RhodopsError('BAD_OPTION', `the features vary in fewer than ${k} independent ways over ${o.samples} samples.`, {
      hint: 'ask for fewer directions, use more samples, or features that depend on the latent',
    });
  }

  // Least squares from the latents to each axis's coordinates: w_j = argmin Σᵢ (w·zᵢ − c_ij)² =
  // (ZᵀZ)⁻¹·Zᵀ·c_j, the latent move that changes coordinate j fastest. (GANSpace regresses the other way,
  // latents on coordinates; for a feature map that is linear in the latent this way is exact at any sample
  // count, where the other picks up the samples' chance correlations, ~√(noise/samples) of the direction.)
  // A tiny ridge keeps ZᵀZ invertible when there are fewer samples than noise dimensions.
  const n = o.noise;
  const ztz = new Float64Array(n * n);
  for (const z of latents) {
    for (let a = 0; a < n; a++) {
      const za = z[a] as number;
      if (za === 0) continue;
      for (let b = a; b < n; b++) ztz[a * n + b] = (ztz[a * n + b] as number) + za * (z[b] as number);
    }
  }
  let trace = 0;
  for (let a = 0; a < n; a++) trace += ztz[a * n + a] as number;
  for (let a = 0; a < n; a++) {
    ztz[a * n + a] = (ztz[a * n + a] as number) + 1e-9 * (trace / n) + 1e-300;
    for (let b = 0; b < a; b++) ztz[a * n + b] = ztz[b * n + a] as number;
  }
  const factor = cholesky(ztz, n);
  const u = pca.scores.map((c) => {
    const ztc = new Float64Array(n);
    latents.forEach((z, i) => {
      const ci = c[i] as number;
      for (let a = 0; a < n; a++) ztc[a] = (ztc[a] as number) + (z[a] as number) * ci;
    });
    return choleskySolve(factor, n, ztc);
  });
  if (orthonormalize(u) > 0) {
    throw new RhodopsError('BAD_OPTION', `the principal axes map back to fewer than ${k} independent latent directions.`, { hint: 'ask for fewer directions or use more samples' });
  }
  return {
    directions: u.map((d) => Float32Array.from(d)),
    explainedVariance: pca.variances,
    explainedRatio: pca.variances.map((v) => (pca.totalVariance > 0 ? v / pca.totalVariance : 0)),
    featureSize,
  };
}

// ─── The cache ────────────────────────────────────────────────────────────────────────────────────────────

export const DIRECTIONS_CACHE_FORMAT = 'rhodops-directions';
/** Bump when the computation changes, so old cache files are not reused. */
const DIRECTIONS_CACHE_VERSION = 1;

export function defaultDirectionsCacheDir(): string {
  const xdg = process.env['XDG_CACHE_HOME'];
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(base, 'rhodops', 'directions');
}

export interface CacheOptions {
  /** What identifies the model's weights: a hash of generator.onnx (its manifest records one), or its name. */
  modelId: string;
  /** What the feature function computes ("rgb16", "fc1"): a different function is a different cache entry. */
  featureId: string;
  /** Default: $XDG_CACHE_HOME/rhodops/directions or ~/.cache/rhodops/directions. */
  cacheDir: string;
}

const cacheFileSchema = z.object({
  format: z.literal(DIRECTIONS_CACHE_FORMAT),
  version: z.literal(DIRECTIONS_CACHE_VERSION),
  key: z.string(),
  featureSize: z.number().int().positive(),
  explainedVariance: z.array(z.number()),
  explainedRatio: z.array(z.number()),
  directions: z.array(z.array(z.number())),
});

/** The cache file for a key: a readable prefix from the model id, then a hash of everything that matters. */
export function directionsCacheFile(cache: CacheOptions, o: PrincipalOptions): { file: string; key: string } {
  const key = JSON.stringify({ v: DIRECTIONS_CACHE_VERSION, model: cache.modelId, feature: cache.featureId, ...o, batchSize: undefined });
  const prefix = cache.modelId.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40) || 'model';
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return { file: path.join(cache.cacheDir, `${prefix}-${cache.featureId.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 24)}-${hash}.json`), key };
}

async function readCache(file: string, key: string, o: PrincipalOptions): Promise<PrincipalDirections | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const j = cacheFileSchema.parse(JSON.parse(text));
    const fits = j.key === key && j.directions.length === o.count && j.directions.every((d) => d.length === o.noise) && j.explainedVariance.length === o.count;
    if (!fits) return undefined;
    return { directions: j.directions.map((d) => Float32Array.from(d)), explainedVariance: j.explainedVariance, explainedRatio: j.explainedRatio, featureSize: j.featureSize };
  } catch {
    // A truncated or hand-edited cache file is not an error: it is computed again and replaced.
    return undefined;
  }
}

/**
 * principalDirections, computed once per (model, feature function, options) and kept in a JSON file written
 * atomically (float32 values are exact in JSON). `cached` says whether the file was used.
 */
export async function cachedPrincipalDirections(
  features: FeatureFunction,
  options: Partial<PrincipalOptions> & Pick<CacheOptions, 'modelId'> & Partial<CacheOptions>,
): Promise<PrincipalDirections & { cached: boolean; file: string }> {
  const { modelId, featureId = 'features', cacheDir = defaultDirectionsCacheDir(), ...rest } = options;
  if (typeof modelId !== 'string' || modelId.length === 0) {
    throw new RhodopsError('BAD_OPTION', 'principal directions need a modelId to cache them under.', { hint: "pass the model's hash or name as modelId" });
  }
  const o = checkPrincipal(rest);
  const { file, key } = directionsCacheFile({ modelId, featureId, cacheDir }, o);
  const hit = await readCache(file, key, o);
  if (hit) return { ...hit, cached: true, file };
  const result = await principalDirections(features, o);
  const body = {
    format: DIRECTIONS_CACHE_FORMAT,
    version: DIRECTIONS_CACHE_VERSION,
    key,
    featureSize: result.featureSize,
    explainedVariance: result.explainedVariance,
    explainedRatio: result.explainedRatio,
    directions: result.directions.map((d) => Array.from(d)),
  };
  await writeFileAtomic(file, JSON.stringify(body) + '\n');
  return { ...result, cached: false, file };
}

// ─── Chroma ───────────────────────────────────────────────────────────────────────────────────────────────

/**
 * The 12 chroma directions: directions KNOB_DIRECTIONS … KNOB_DIRECTIONS + 11 of the same seeded set the
 * knobs use (randomDirections(noise, 20, seed) begins with the server's 8), so each pitch class has a
 * direction of its own, orthogonal to every knob's. With a noise smaller than 20 there are fewer.
 */
export function chromaDirections(noise: number, seed: number, first = KNOB_DIRECTIONS): Float32Array[] {
  const total = Math.min(noise, first + CHROMA_BINS);
  return randomDirections(noise, total, seed).slice(first);
}

export interface ChromaRouteOptions {
  /** The direction index of pitch class C (the next 11 follow). */
  firstDirection: number;
  /** How far a pitch class at full strength pushes along its direction. */
  amount: number;
  /** Chroma below this reads 0: every bin carries some energy, only the strong ones should push. */
  floor: number;
  attack: number;
  release: number;
}

export const CHROMA_ROUTE_DEFAULTS: ChromaRouteOptions = { firstDirection: KNOB_DIRECTIONS, amount: 1.5, floor: 0.3, attack: 0.05, release: 0.4 };

const PITCH_CLASSES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];

/** The 12 routes of chroma mode: bin b → direction firstDirection + b, named by pitch class. */
export function chromaRoutes(options: Partial<ChromaRouteOptions> = {}): Route[] {
  const o = mergeOptions('chroma route options', CHROMA_ROUTE_DEFAULTS, options);
  checkRange('chroma firstDirection', o.firstDirection, { min: 0, max: 256 - CHROMA_BINS, integer: true });
  checkRange('chroma floor', o.floor, { min: 0, max: 0.99 });
  return PITCH_CLASSES.map((pc, bin) =>
    parseRoute(
      {
        name: `chroma ${pc}`,
        source: { kind: 'audio chroma', bin },
        transform: { in: [o.floor, 1], out: [0, o.amount], attack: o.attack, release: o.release },
        target: { kind: 'direction', index: o.firstDirection + bin },
      },
      bin,
    ),
  );
}

/** How many directions a mapping's enabled routes reach (max index + 1): the server makes at least that many. */
export function directionsNeeded(mapping: Mapping): number {
  let n = 0;
  for (const r of mapping.routes) if (r.enabled && r.target.kind === 'direction') n = Math.max(n, r.target.index + 1);
  return n;
}
