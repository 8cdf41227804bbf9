/**
 * The patch machinery of the style transfer: overlapping patch grids, a sampled set of style patches with a
 * PCA basis fitted to them, nearest-neighbour search in that basis (tfjs matmuls over bounded chunks), and
 * the robust (IRLS) aggregation of the matched patches back into an image.
 *
 * A patch is n × n × 3 floats, rows of interleaved RGB, so one image row of a patch is one contiguous copy.
 * Style patches are never stored as pixels: a patch is (style, x, y) and is read from its image when needed,
 * which keeps memory at a few vectors per patch whatever the patch size.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RgbFloatImage } from './image.ts';

/** Copies the n × n patch at (x, y) of `img` into out[offset, offset + 3n²). */
export function readPatch(img: RgbFloatImage, x: number, y: number, n: number, out: Float32Array, offset = 0): void {
  const row = n * 3;
  for (let dy = 0; dy < n; dy++) {
    const src = ((y + dy) * img.width + x) * 3;
    out.set(img.data.subarray(src, src + row), offset + dy * row);
  }
}

/**
 * Top-left corners along one axis of length `len`: every `stride` from `offset`, plus 0 and len − n so every
 * pixel is covered, including the edges a stride does not land on.
 */
function axisPositions(len: number, n: number, stride: number, offset: number): number[] {
  const last = len - n;
  const out = offset > 0 ? [0] : [];
  for (let p = offset; p < last; p += stride) out.push(p);
  out.push(last);
  return out;
}

/**
 * Top-left corners (x, y pairs) of overlapping n × n patches, `stride` apart, the grid shifted by `offset` so
 * successive iterations do not stitch along the same seams.
 */
export function patchGrid(width: number, height: number, n: number, stride: number, offset = 0): Int32Array {
  const xs = axisPositions(width, n, stride, offset % stride);
  const ys = axisPositions(height, n, stride, offset % stride);
  const out = new Int32Array(xs.length * ys.length * 2);
  let k = 0;
  for (const y of ys) {
    for (const x of xs) {
      out[k++] = x;
      out[k++] = y;
    }
  }
  return out;
}

/** Patches of the style images at one scale: patch i is images[source[i]] at (xs[i], ys[i]). */
export interface StylePatches {
  images: readonly RgbFloatImage[];
  n: number;
  source: Uint8Array;
  xs: Int32Array;
  ys: Int32Array;
}

export const patchCount = (p: StylePatches): number => p.source.length;

export function readStylePatch(p: StylePatches, i: number, out: Float32Array, offset = 0): void {
  readPatch(p.images[p.source[i]!]!, p.xs[i]!, p.ys[i]!, p.n, out, offset);
}

/**
 * About `max` patches in all, each style's share in proportion to its weight, spread over each image on a
 * jittered grid (one random position per cell): even coverage, unlike independent draws, so a small
 * patch budget still sees every part of the style.
 */
export function sampleStylePatches(styles: readonly { image: RgbFloatImage; weight: number }[], n: number, max: number, rng: () => number): StylePatches {
  const total = styles.reduce((s, x) => s + x.weight, 0);
  const source: number[] = [];
  const xs: number[] = [];
  const ys: number[] = [];
  styles.forEach(({ image, weight }, s) => {
    const px = image.width - n + 1;
    const py = image.height - n + 1;
    if (px < 1 || py < 1) throw new Error(`style image ${s} (${image.width}×${image.height}) is smaller than a ${n}² patch`);
    const want = Math.max(1, Math.round((max * weight) / total));
    let cell = Math.max(1, Math.sqrt((px * py) / want));
    while (Math.ceil(px / cell) * Math.ceil(py / cell) > want) cell *= 1.01;
    const nx = Math.ceil(px / cell);
    const ny = Math.ceil(py / cell);
    for (let j = 0; j < ny; j++) {
      const y0 = Math.floor(j * cell);
      const y1 = Math.min(py, Math.floor((j + 1) * cell));
      for (let i = 0; i < nx; i++) {
        const x0 = Math.floor(i * cell);
        const x1 = Math.min(px, Math.floor((i + 1) * cell));
        source.push(s);
        xs.push(x0 + Math.floor(rng() * Math.max(1, x1 - x0)));
        ys.push(y0 + Math.floor(rng() * Math.max(1, y1 - y0)));
      }
    }
  });
  return { images: styles.map((s) => s.image), n, source: Uint8Array.from(source), xs: Int32Array.from(xs), ys: Int32Array.from(ys) };
}

/** Modified Gram–Schmidt on the columns of a rows × cols row-major matrix, in place. */
function orthonormalizeColumns(m: Float32Array, rows: number, cols: number): void {
  for (let j = 0; j < cols; j++) {
    for (let i = 0; i < j; i++) {
      let dot = 0;
      for (let r = 0; r < rows; r++) dot += m[r * cols + i]! * m[r * cols + j]!;
      for (let r = 0; r < rows; r++) m[r * cols + j]! -= dot * m[r * cols + i]!;
    }
    let norm = 0;
    for (let r = 0; r < rows; r++) norm += m[r * cols + j]! ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let r = 0; r < rows; r++) m[r * cols + j]! /= norm;
  }
}

/** Standard normal draws from a uniform rng (Box–Muller). */
export function gaussian(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(rng(), 1e-12))) * Math.cos(2 * Math.PI * rng());
}

/**
 * An orthonormal D × k basis of the top-k principal subspace of `count` patches (rows of `samples`), by
 * subspace iteration: a few products with the data instead of a D × D covariance, which for 33² patches
 * (D = 3267) would cost ~40 GFLOP to build. Nearest-neighbour distances only need the subspace, not the
 * individual principal axes, so the basis is left unrotated.
 */
export async function fitPcaBasis(samples: Float32Array, count: number, D: number, k: number, rng: () => number, iterations = 3): Promise<tf.Tensor2D> {
  const mean = new Float32Array(D);
  for (let i = 0; i < count; i++) for (let d = 0; d < D; d++) mean[d]! += samples[i * D + d]!;
  for (let d = 0; d < D; d++) mean[d]! /= count;
  const z = new Float32Array(D * k);
  for (let i = 0; i < z.length; i++) z[i] = gaussian(rng);
  orthonormalizeColumns(z, D, k);
  const a = tf.tidy(() => tf.sub(tf.tensor2d(samples, [count, D]), tf.tensor2d(mean, [1, D])));
  try {
    for (let t = 0; t < iterations; t++) {
      const next = tf.tidy(() => {
        const y = tf.matMul(a, tf.tensor2d(z, [D, k]));
        return tf.matMul(a, y, true, false);
      });
      try {
        z.set(await next.data());
      } finally {
        next.dispose();
      }
      orthonormalizeColumns(z, D, k);
    }
  } finally {
    a.dispose();
  }
  return tf.tensor2d(z, [D, k]);
}

/** Rows per chunk so that a chunk's patches and its distance matrix stay within ~16 MB each. */
function chunkRows(D: number, M: number): number {
  return Math.max(32, Math.min(4096, Math.floor((1 << 22) / Math.max(D, M))));
}

/**
 * Style patches indexed for nearest-neighbour search: their projections on a PCA basis (PatchIndex.build).
 * Owns tensors: dispose() when done.
 */
export class PatchIndex {
  readonly patches: StylePatches;
  readonly dims: number;
  private readonly basis: tf.Tensor2D;
  /** k × M: the style patches' projections, transposed for one matmul per query chunk. */
  private readonly projT: tf.Tensor2D;
  /** 1 × M: squared norms of the projections. */
  private readonly norms: tf.Tensor2D;

  private constructor(patches: StylePatches, dims: number, basis: tf.Tensor2D, projT: tf.Tensor2D, norms: tf.Tensor2D) {
    this.patches = patches;
    this.dims = dims;
    this.basis = basis;
    this.projT = projT;
    this.norms = norms;
  }

  /** Fits the basis and projects every style patch (read back asynchronously: WebGPU has no synchronous read). */
  static async build(patches: StylePatches, dims: number, rng: () => number, fitSamples = 2048): Promise<PatchIndex> {
    const n = patches.n;
    const D = n * n * 3;
    const M = patchCount(patches);
    const k = Math.min(dims, D);
    // The basis is fitted on an evenly strided subset: the sample is already spread over the styles.
    const fitCount = Math.min(M, fitSamples);
    const fit = new Float32Array(fitCount * D);
    for (let i = 0; i < fitCount; i++) readStylePatch(patches, Math.floor((i * M) / fitCount), fit, i * D);
    const basis = k === D ? (tf.eye(D) as tf.Tensor2D) : await fitPcaBasis(fit, fitCount, D, k, rng);
    try {
      const proj = new Float32Array(M * k);
      const rows = chunkRows(D, M);
      const buf = new Float32Array(rows * D);
      for (let start = 0; start < M; start += rows) {
        const c = Math.min(rows, M - start);
        for (let i = 0; i < c; i++) readStylePatch(patches, start + i, buf, i * D);
        const p = tf.tidy(() => tf.matMul(tf.tensor2d(buf.subarray(0, c * D), [c, D]), basis));
        try {
          proj.set(await p.data(), start * k);
        } finally {
          p.dispose();
        }
      }
      const [projT, norms] = tf.tidy(() => {
        const p = tf.tensor2d(proj, [M, k]);
        return [tf.transpose(p), tf.reshape(tf.sum(tf.square(p), 1), [1, M])] as [tf.Tensor2D, tf.Tensor2D];
      });
      return new PatchIndex(patches, k, basis, projT, norms);
    } catch (e) {
      basis.dispose();
      throw e;
    }
  }

  /** For each patch of `img` at the corners in `grid`, the index of the nearest style patch (in the PCA subspace). */
  async nearest(img: RgbFloatImage, grid: Int32Array): Promise<Int32Array> {
    const n = this.patches.n;
    const D = n * n * 3;
    const M = patchCount(this.patches);
    const Q = grid.length / 2;
    const out = new Int32Array(Q);
    const rows = chunkRows(D, M);
    const buf = new Float32Array(rows * D);
    for (let start = 0; start < Q; start += rows) {
      const c = Math.min(rows, Q - start);
      for (let i = 0; i < c; i++) readPatch(img, grid[(start + i) * 2]!, grid[(start + i) * 2 + 1]!, n, buf, i * D);
      const best = tf.tidy(() => {
        const q = tf.matMul(tf.tensor2d(buf.subarray(0, c * D), [c, D]), this.basis);
        // |q − s|² = |q|² − 2 q·s + |s|²; |q|² is the same for every s of a row, so it is left out.
        const score = tf.sub(this.norms, tf.mul(tf.matMul(q, this.projT), 2));
        return tf.argMin(score, 1);
      });
      try {
        out.set(await best.data(), start);
      } finally {
        best.dispose();
      }
    }
    return out;
  }

  dispose(): void {
    this.basis.dispose();
    this.projT.dispose();
    this.norms.dispose();
  }
}

export interface IrlsOptions {
  /** The norm's exponent: below 1, a few badly matched patches cannot smear their neighbours (paper: 0.8). */
  r: number;
  iterations: number;
}

/**
 * The image that best agrees with the matched style patches in the robust sense argmin Σ‖R_q X − z_q‖^r, by
 * iteratively reweighted least squares from `estimate`: each pass weights patch q by ‖R_q X − z_q‖^(r−2) and
 * sets every pixel to the weighted mean of the matched patches over it. The grid covers every pixel.
 */
export function aggregateIrls(estimate: RgbFloatImage, grid: Int32Array, matches: Int32Array, patches: StylePatches, o: IrlsOptions): RgbFloatImage {
  const { width, height } = estimate;
  const n = patches.n;
  const D = n * n * 3;
  const Q = matches.length;
  const row = n * 3;
  // A residual below one grey level per value is a perfect match: the floor keeps such weights finite.
  const floor = D;
  const z = new Float32Array(D);
  const weights = new Float32Array(Q);
  let x = estimate.data;
  for (let t = 0; t < o.iterations; t++) {
    for (let q = 0; q < Q; q++) {
      readStylePatch(patches, matches[q]!, z);
      const px = grid[q * 2]!;
      const py = grid[q * 2 + 1]!;
      let d2 = 0;
      for (let dy = 0; dy < n; dy++) {
        const src = ((py + dy) * width + px) * 3;
        const zr = dy * row;
        for (let i = 0; i < row; i++) {
          const e = x[src + i]! - z[zr + i]!;
          d2 += e * e;
        }
      }
      weights[q] = Math.pow(Math.max(d2, floor), (o.r - 2) / 2);
    }
    const num = new Float32Array(width * height * 3);
    const den = new Float32Array(width * height);
    for (let q = 0; q < Q; q++) {
      readStylePatch(patches, matches[q]!, z);
      const w = weights[q]!;
      const px = grid[q * 2]!;
      const py = grid[q * 2 + 1]!;
      for (let dy = 0; dy < n; dy++) {
        const pix = (py + dy) * width + px;
        const dst = pix * 3;
        const zr = dy * row;
        for (let i = 0; i < row; i++) num[dst + i]! += w * z[zr + i]!;
        for (let i = 0; i < n; i++) den[pix + i]! += w;
      }
    }
    for (let p = 0; p < den.length; p++) {
      const inv = 1 / den[p]!;
      num[p * 3]! *= inv;
      num[p * 3 + 1]! *= inv;
      num[p * 3 + 2]! *= inv;
    }
    x = num;
  }
  return { width, height, data: x === estimate.data ? x.slice() : x };
}
