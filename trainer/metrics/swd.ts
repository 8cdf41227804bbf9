/**
 * Sliced Wasserstein distance on Laplacian-pyramid patches, the PGGAN paper's measure of image quality (Karras et
 * al. 2018, appendix D), with no network: each image's Laplacian pyramid from its own size down to 16², random
 * 7×7 neighbourhoods from every level, each patch's channels normalised by the level's mean and deviation over
 * both sets, then the sliced Wasserstein distance between the two sets of patches at each level (random unit
 * directions; the mean gap between the sorted projections). A set against itself gives 0; a generator whose
 * details, edges and colours match the data's at every scale drives every level down. Reported ×1000, as the
 * paper does. The projections run as one matrix product on the tfjs backend in use.
 */
import * as tf from '@tensorflow/tfjs-core';
import { gaussianArray, rng } from '../../core/random.ts';

export interface SwdOptions {
  /** Patches drawn from each image at each level (the paper: 128). */
  patchesPerImage?: number;
  /** Random directions (the paper: 512, repeated 4 times). */
  directions?: number;
  seed?: number;
}

const PATCH = 7;
const SMALLEST = 16;

/** Images NHWC with `channels`, values in any range (the same for both sets). */
export interface ImageSet {
  data: Float32Array;
  count: number;
  size: number;
  channels: number;
}

/** A 5-tap binomial blur and a 2× decimation, edges clamped (one image, one channel plane at a time). */
function downsample(src: Float32Array, size: number, channels: number): Float32Array {
  const half = size / 2;
  const k = [1, 4, 6, 4, 1];
  const tmp = new Float32Array(half * size * channels);
  const at = (v: number) => Math.min(size - 1, Math.max(0, v));
  for (let y = 0; y < size; y++)
    for (let x = 0; x < half; x++)
      for (let c = 0; c < channels; c++) {
        let s = 0;
        for (let t = 0; t < 5; t++) s += k[t]! * src[(y * size + at(2 * x + t - 2)) * channels + c]!;
        tmp[(y * half + x) * channels + c] = s / 16;
      }
  const out = new Float32Array(half * half * channels);
  for (let y = 0; y < half; y++)
    for (let x = 0; x < half; x++)
      for (let c = 0; c < channels; c++) {
        let s = 0;
        for (let t = 0; t < 5; t++) s += k[t]! * tmp[(at(2 * y + t - 2) * half + x) * channels + c]!;
        out[(y * half + x) * channels + c] = s / 16;
      }
  return out;
}

/** Nearest-neighbour 2× enlargement, then the same blur ×4: the pyramid's expand step. */
function upsample(src: Float32Array, half: number, channels: number): Float32Array {
  const size = half * 2;
  const wide = new Float32Array(size * size * channels);
  for (let y = 0; y < half; y++) for (let x = 0; x < half; x++) for (let c = 0; c < channels; c++) wide[(2 * y * size + 2 * x) * channels + c] = 4 * src[(y * half + x) * channels + c]!;
  // Blurring the zero-stuffed image with the binomial kernel interpolates it (the 4 restores the mean).
  const k = [1, 4, 6, 4, 1];
  const at = (v: number) => Math.min(size - 1, Math.max(0, v));
  const tmp = new Float32Array(wide.length);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < channels; c++) {
    let s = 0;
    for (let t = 0; t < 5; t++) s += k[t]! * wide[(y * size + at(x + t - 2)) * channels + c]!;
    tmp[(y * size + x) * channels + c] = s / 16;
  }
  const out = new Float32Array(wide.length);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < channels; c++) {
    let s = 0;
    for (let t = 0; t < 5; t++) s += k[t]! * tmp[(at(y + t - 2) * size + x) * channels + c]!;
    out[(y * size + x) * channels + c] = s / 16;
  }
  return out;
}

/** One image's Laplacian pyramid, finest level first, down to a 16² (or smaller, for smaller images) residue. */
export function laplacianPyramid(img: Float32Array, size: number, channels: number): { data: Float32Array; size: number }[] {
  const levels: { data: Float32Array; size: number }[] = [];
  let cur = img;
  let s = size;
  while (s > SMALLEST) {
    const down = downsample(cur, s, channels);
    const up = upsample(down, s / 2, channels);
    levels.push({ data: cur.map((v, i) => v - up[i]!), size: s });
    cur = down;
    s /= 2;
  }
  levels.push({ data: cur, size: s });
  return levels;
}

/** Patches [count × patchesPerImage, 7·7·C] at each pyramid level, at places drawn from `seed`. */
function patches(set: ImageSet, perImage: number, seed: number): { data: Float32Array; rows: number; size: number }[] {
  const { size, channels } = set;
  const dim = PATCH * PATCH * channels;
  const r = rng(seed);
  let out: { data: Float32Array; rows: number; size: number }[] = [];
  for (let i = 0; i < set.count; i++) {
    const pyramid = laplacianPyramid(set.data.subarray(i * size * size * channels, (i + 1) * size * size * channels), size, channels);
    if (i === 0) out = pyramid.map((l) => ({ data: new Float32Array(set.count * perImage * dim), rows: set.count * perImage, size: l.size }));
    pyramid.forEach((level, li) => {
      const s = level.size;
      const room = Math.max(1, s - PATCH + 1);
      for (let p = 0; p < perImage; p++) {
        const y0 = Math.floor(r() * room);
        const x0 = Math.floor(r() * room);
        const row = (i * perImage + p) * dim;
        let k = 0;
        for (let y = 0; y < PATCH; y++) for (let x = 0; x < PATCH; x++) for (let c = 0; c < channels; c++) {
          const yy = Math.min(s - 1, y0 + y);
          const xx = Math.min(s - 1, x0 + x);
          out[li]!.data[row + k++] = level.data[(yy * s + xx) * channels + c]!;
        }
      }
    });
  }
  return out;
}

/** Normalises each patch coordinate's channel by the mean and deviation over both sets (in place). */
function normalise(a: Float32Array, b: Float32Array, channels: number): void {
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    let sq = 0;
    let n = 0;
    for (const d of [a, b]) for (let i = c; i < d.length; i += channels) {
      sum += d[i]!;
      sq += d[i]! * d[i]!;
      n++;
    }
    const mean = sum / n;
    const std = Math.sqrt(Math.max(sq / n - mean * mean, 1e-12));
    for (const d of [a, b]) for (let i = c; i < d.length; i += channels) d[i] = (d[i]! - mean) / std;
  }
}

/** SWD ×1000 at each pyramid level (finest first) between two sets of images of one size. */
export async function slicedWassersteinDistance(a: ImageSet, b: ImageSet, o: SwdOptions = {}): Promise<number[]> {
  if (a.size !== b.size || a.channels !== b.channels) throw new Error(`SWD: sets of ${a.size}²×${a.channels} and ${b.size}²×${b.channels} images`);
  const perImage = o.patchesPerImage ?? 64;
  const k = o.directions ?? 128;
  const seed = o.seed ?? 1;
  const dim = PATCH * PATCH * a.channels;
  const pa = patches(a, perImage, seed);
  // The same places in both sets: a set against itself gives exactly 0, not a sampling floor.
  const pb = patches(b, perImage, seed);
  const out: number[] = [];
  for (const [li, la] of pa.entries()) {
    const lb = pb[li]!;
    normalise(la.data, lb.data, a.channels);
    const [px, py] = tf.tidy(() => {
      // Unit directions, the same for both sets.
      const dirs = tf.tensor2d(gaussianArray(dim * k, seed + 100 + li), [dim, k]);
      const unit = tf.div(dirs, tf.norm(dirs, 'euclidean', 0, true));
      const project = (p: { data: Float32Array; rows: number }) => tf.transpose(tf.matMul(tf.tensor2d(p.data, [p.rows, dim]), unit));
      return [project(la), project(lb)];
    });
    try {
      const x = sortRows(await px!.data(), k);
      const y = sortRows(await py!.data(), k);
      // Sets of different sizes compare at matching quantiles.
      let sum = 0;
      for (let r = 0; r < k; r++) {
        for (let q = 0; q < x.cols; q++) {
          const j = Math.min(y.cols - 1, Math.floor(((q + 0.5) * y.cols) / x.cols));
          sum += Math.abs(x.out[r * x.cols + q]! - y.out[r * y.cols + j]!);
        }
      }
      out.push((1000 * sum) / (k * x.cols));
    } finally {
      tf.dispose([px!, py!]);
    }
  }
  return out;
}

/** Each of `rows` rows of a row-major matrix, sorted. */
function sortRows(d: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> }, rows: number): { out: Float32Array; cols: number } {
  const cols = d.length / rows;
  const out = new Float32Array(d.length);
  for (let r = 0; r < rows; r++) out.set(Float32Array.from(d.subarray(r * cols, (r + 1) * cols)).sort(), r * cols);
  return { out, cols };
}
