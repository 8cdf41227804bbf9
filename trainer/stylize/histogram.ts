/**
 * Per-channel histogram matching (exact, by ranks) and a distance between histograms. The style transfer
 * matches colours after every step, so the pastiche keeps the style's palette and contrast whatever the
 * patch averaging does to them.
 */
import type { RgbFloatImage } from './image.ts';

/**
 * A per-channel distribution as its quantile function: `channels[c][k]` is the value at quantile (k + 0.5) / K,
 * ascending. For one image it is simply its sorted values.
 */
export interface HistogramReference {
  channels: [Float32Array, Float32Array, Float32Array];
}

/** Quantile tables of a mixture are this long: fine enough that interpolation errs by a fraction of a level. */
const MIXTURE_QUANTILES = 16384;

/** One channel's values, ascending. */
export function sortedChannel(img: RgbFloatImage, c: number): Float32Array {
  const n = img.width * img.height;
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = img.data[i * 3 + c]!;
  return v.sort();
}

/**
 * The pooled distribution of several images, each counting by its weight (not by its pixel count), so a
 * small style image with weight 0.5 supplies half the colours.
 */
export function histogramReference(images: readonly { image: RgbFloatImage; weight: number }[]): HistogramReference {
  if (images.length === 0) throw new Error('histogramReference needs at least one image');
  const total = images.reduce((s, i) => s + i.weight, 0);
  const channel = (c: number): Float32Array => {
    const sorted = images.map((i) => sortedChannel(i.image, c));
    if (images.length === 1) return sorted[0]!;
    return mixtureQuantiles(sorted, images.map((i) => i.weight / total), MIXTURE_QUANTILES);
  };
  return { channels: [channel(0), channel(1), channel(2)] };
}

/** K quantiles of a weighted mixture of sorted samples: a merge that walks the mixture's CDF once. */
function mixtureQuantiles(sorted: readonly Float32Array[], weights: readonly number[], K: number): Float32Array {
  const out = new Float32Array(K);
  const at = new Int32Array(sorted.length);
  const mass = sorted.map((s, i) => weights[i]! / s.length);
  let cdf = 0;
  let k = 0;
  while (k < K) {
    // The smallest value not yet taken, among the sources.
    let best = -1;
    let value = Infinity;
    for (let s = 0; s < sorted.length; s++) {
      if (at[s]! < sorted[s]!.length && sorted[s]![at[s]!]! < value) {
        value = sorted[s]![at[s]!]!;
        best = s;
      }
    }
    if (best < 0) break;
    at[best]!++;
    cdf += mass[best]!;
    while (k < K && (k + 0.5) / K <= cdf) out[k++] = value;
  }
  // Rounding can leave the last quantile or two unset: they belong to the largest value.
  for (; k < K; k++) out[k] = k > 0 ? out[k - 1]! : 0;
  return out;
}

/** The quantile function `table` at q in (0, 1), interpolated between its entries. */
function quantileAt(table: Float32Array, q: number): number {
  const x = q * table.length - 0.5;
  if (x <= 0) return table[0]!;
  if (x >= table.length - 1) return table[table.length - 1]!;
  const i = Math.floor(x);
  const f = x - i;
  return table[i]! * (1 - f) + table[i + 1]! * f;
}

/**
 * Sorts pixel indices by one channel's value with a native Float64Array sort: each key packs the value,
 * quantised to 2^(52 − bits) levels over the channel's range, above the pixel's index.
 */
function rankOrder(img: RgbFloatImage, c: number): { order: Uint32Array; level: Float64Array } {
  const n = img.width * img.height;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = img.data[i * 3 + c]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const bits = Math.max(1, Math.ceil(Math.log2(n + 1)));
  const levels = 2 ** (52 - bits) - 1;
  const scale = hi > lo ? levels / (hi - lo) : 0;
  const index = 2 ** bits;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = Math.floor((img.data[i * 3 + c]! - lo) * scale) * index + i;
  keys.sort();
  const order = new Uint32Array(n);
  const level = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const k = keys[r]!;
    const l = Math.floor(k / index);
    order[r] = k - l * index;
    level[r] = l;
  }
  return { order, level };
}

/**
 * `img` with each channel's histogram replaced by the reference's: the pixel of rank r gets the reference's
 * quantile (r + 0.5) / N, so the match is exact up to the reference's own resolution. Pixels of equal value
 * share the mean of their run of target values: a flat region stays flat (spreading the run over it would turn
 * a flat sky into noise, or, in index order, into a ramp), so an image with large flat areas matches only as
 * closely as its own levels allow.
 */
export function matchHistogram(img: RgbFloatImage, ref: HistogramReference): RgbFloatImage {
  const n = img.width * img.height;
  const out = new Float32Array(img.data.length);
  for (let c = 0; c < 3; c++) {
    const table = ref.channels[c as 0 | 1 | 2];
    const { order, level } = rankOrder(img, c);
    for (let r = 0; r < n; ) {
      let end = r + 1;
      while (end < n && level[end] === level[r]) end++;
      if (end - r === 1) out[order[r]! * 3 + c] = quantileAt(table, (r + 0.5) / n);
      else {
        let sum = 0;
        for (let j = r; j < end; j++) sum += quantileAt(table, (j + 0.5) / n);
        const mean = sum / (end - r);
        for (let j = r; j < end; j++) out[order[j]! * 3 + c] = mean;
      }
      r = end;
    }
  }
  return { width: img.width, height: img.height, data: out };
}

/** 1-D Wasserstein distance between two sorted samples: the mean gap between their quantile functions. */
function wasserstein1(a: Float32Array, b: Float32Array): number {
  const K = Math.max(a.length, b.length, 1);
  let sum = 0;
  for (let k = 0; k < K; k++) {
    const q = (k + 0.5) / K;
    sum += Math.abs(quantileAt(a, q) - quantileAt(b, q));
  }
  return sum / K;
}

/**
 * How far apart two images' colour distributions are: the mean over R, G, B of the 1-D Wasserstein distance
 * between their value distributions, in 0..255 units (0: the same histograms; 255: all black against all white).
 * Sizes may differ. `b` may also be a reference (a pooled style distribution).
 */
export function histogramDistance(a: RgbFloatImage, b: RgbFloatImage | HistogramReference): number {
  let sum = 0;
  for (let c = 0; c < 3; c++) {
    const tb = 'channels' in b ? b.channels[c as 0 | 1 | 2] : sortedChannel(b, c);
    sum += wasserstein1(sortedChannel(a, c), tb);
  }
  return sum / 3;
}
