/**
 * MS-SSIM (Wang et al. 2003) between two images, and the diversity figure built on it (Odena et al. 2017): the
 * mean MS-SSIM of random pairs from a set. Pairs from a collapsed generator look alike (near 1); a generator as
 * varied as its data scores what the data's own pairs score. An 11-tap Gaussian window (σ 1.5), each channel
 * separately and averaged, the standard scale weights renormalised over the scales an image can have (each at
 * least the window's size: 3 scales at 64², 1 at 16²).
 */
import { rng } from '../../core/random.ts';

const WEIGHTS = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];
const WINDOW = 11;
const SIGMA = 1.5;
/** For values in [0, 1]. */
const C1 = 0.01 ** 2;
const C2 = 0.03 ** 2;

const GAUSS = (() => {
  const g = Array.from({ length: WINDOW }, (_, i) => Math.exp(-((i - (WINDOW - 1) / 2) ** 2) / (2 * SIGMA * SIGMA)));
  const s = g.reduce((a, b) => a + b, 0);
  return g.map((v) => v / s);
})();

/** Valid-region separable Gaussian filtering of one plane. */
function blur(p: Float32Array, size: number): { data: Float32Array; size: number } {
  const out = size - WINDOW + 1;
  const tmp = new Float32Array(size * out);
  for (let y = 0; y < size; y++) for (let x = 0; x < out; x++) {
    let s = 0;
    for (let t = 0; t < WINDOW; t++) s += GAUSS[t]! * p[y * size + x + t]!;
    tmp[y * out + x] = s;
  }
  const res = new Float32Array(out * out);
  for (let y = 0; y < out; y++) for (let x = 0; x < out; x++) {
    let s = 0;
    for (let t = 0; t < WINDOW; t++) s += GAUSS[t]! * tmp[(y + t) * out + x]!;
    res[y * out + x] = s;
  }
  return { data: res, size: out };
}

/** Mean SSIM terms of one plane pair: luminance·contrast·structure and contrast·structure alone. */
function ssimParts(a: Float32Array, b: Float32Array, size: number): { ssim: number; cs: number } {
  const mul = (x: Float32Array, y: Float32Array) => x.map((v, i) => v * y[i]!);
  const ma = blur(a, size).data;
  const mb = blur(b, size).data;
  const saa = blur(mul(a, a), size).data;
  const sbb = blur(mul(b, b), size).data;
  const sab = blur(mul(a, b), size).data;
  let ssim = 0;
  let cs = 0;
  for (let i = 0; i < ma.length; i++) {
    const va = saa[i]! - ma[i]! * ma[i]!;
    const vb = sbb[i]! - mb[i]! * mb[i]!;
    const cov = sab[i]! - ma[i]! * mb[i]!;
    const c = (2 * cov + C2) / (va + vb + C2);
    cs += c;
    ssim += ((2 * ma[i]! * mb[i]! + C1) / (ma[i]! * ma[i]! + mb[i]! * mb[i]! + C1)) * c;
  }
  return { ssim: ssim / ma.length, cs: cs / ma.length };
}

function halve(p: Float32Array, size: number): Float32Array {
  const h = size / 2;
  const out = new Float32Array(h * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < h; x++) out[y * h + x] = (p[2 * y * size + 2 * x]! + p[2 * y * size + 2 * x + 1]! + p[(2 * y + 1) * size + 2 * x]! + p[(2 * y + 1) * size + 2 * x + 1]!) / 4;
  return out;
}

/** MS-SSIM of two images (size² × channels, HWC, values in [0, 1]). */
export function msSsim(a: Float32Array, b: Float32Array, size: number, channels: number): number {
  let scales = 0;
  for (let s = size; s >= WINDOW && scales < WEIGHTS.length; s /= 2) scales++;
  if (scales === 0) throw new Error(`MS-SSIM needs images of at least ${WINDOW}², got ${size}²`);
  const w = WEIGHTS.slice(0, scales);
  const total = w.reduce((x, y) => x + y, 0);
  let sum = 0;
  for (let c = 0; c < channels; c++) {
    let pa: Float32Array = Float32Array.from({ length: size * size }, (_, i) => a[i * channels + c]!);
    let pb: Float32Array = Float32Array.from({ length: size * size }, (_, i) => b[i * channels + c]!);
    let s = size;
    let value = 1;
    for (let k = 0; k < scales; k++) {
      const parts = ssimParts(pa, pb, s);
      // Negative contrast-structure terms (anti-correlated images) are clamped, as common implementations do.
      value *= Math.max(k === scales - 1 ? parts.ssim : parts.cs, 0) ** (w[k]! / total);
      if (k < scales - 1) {
        pa = halve(pa, s);
        pb = halve(pb, s);
        s /= 2;
      }
    }
    sum += value;
  }
  return sum / channels;
}

/** Mean MS-SSIM of `pairs` random pairs of different images of a set (values in [0, 1]): lower is more varied. */
export function msSsimDiversity(data: Float32Array, count: number, size: number, channels: number, pairs = 64, seed = 1): number {
  if (count < 2) throw new Error('MS-SSIM diversity needs at least two images');
  const r = rng(seed);
  const n = size * size * channels;
  let sum = 0;
  for (let p = 0; p < pairs; p++) {
    const i = Math.floor(r() * count);
    let j = Math.floor(r() * (count - 1));
    if (j >= i) j++;
    sum += msSsim(data.subarray(i * n, (i + 1) * n), data.subarray(j * n, (j + 1) * n), size, channels);
  }
  return sum / pairs;
}
