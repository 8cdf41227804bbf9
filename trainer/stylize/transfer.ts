/**
 * Style transfer by texture synthesis (after Elad & Milanfar 2017, "Style Transfer via Texture Synthesis"): no
 * network, no download. From a small scale to the target size, the estimate is repeatedly replaced by an
 * aggregate of the style patches nearest to its own patches (large patches first, for the layout of the
 * texture; small ones last, for its grain), pulled towards the content where the content has edges, and given
 * the style's colour histograms.
 *
 * Randomness (initial noise, patch sampling, PCA start) comes only from the caller's rng: the same rng seed
 * gives the same pastiche bit for bit.
 */
import { checkRange, mergeOptions } from '../../core/options.ts';
import { RhodopsError } from '../../core/errors.ts';
import { histogramReference, matchHistogram, type HistogramReference } from './histogram.ts';
import { bilateral3, boxBlur, coverSquare, luminance, resize, resizeShortSide, type RgbFloatImage } from './image.ts';
import { aggregateIrls, gaussian, PatchIndex, patchGrid, sampleStylePatches } from './patches.ts';

export type { RgbFloatImage } from './image.ts';

export interface StyleInput {
  image: RgbFloatImage;
  /** Relative share of this style's patches and colours (weights need not sum to 1). */
  weight: number;
}

export interface StylizeOptions {
  /** Side of the square result, pixels. */
  size: number;
  /** Side at which synthesis starts; each scale doubles it until `size`. Smaller: larger style structures, less content. */
  startSize: number;
  /** Pull towards the content where it has edges (0: pure texture; 1: an edge pixel is half content each pass). */
  contentWeight: number;
  /** Share of the content pull kept in flat regions, where only the style should speak (0..1). */
  contentFloor: number;
  /** Patch sides, large to small, at each scale; a side over a third of the scale is shrunk to fit. */
  patchSizes: number[];
  /** Match–aggregate passes per patch size. */
  iterations: number;
  /** IRLS passes per aggregation. */
  irlsIterations: number;
  /** Exponent of the robust patch norm (1 is L1-like, 2 plain averaging). */
  robustness: number;
  /** Style patches searched per patch size (all styles together): the search's cost grows with it. */
  maxStylePatches: number;
  /** PCA dimensions for the nearest-neighbour search. */
  pcaDims: number;
  /** Distance between neighbouring estimate patches, as a fraction of the patch side. */
  strideFraction: number;
  /** Standard deviation of the noise added to the content at the start (0..255 units). */
  noise: number;
  /** Style images are resized so their shorter side is `styleScale` × the current scale's side. */
  styleScale: number;
  /** Edge-preserving smoothing after each pass: σ in grey levels of a 3 × 3 bilateral filter (0: none). */
  denoise: number;
}

/**
 * The paper's schedule (patches 33 → 9, 3 passes each, r = 0.8, noise σ 50). Patches 0.7 of their side apart
 * (the paper: 0.55–0.85): denser grids average more matches per pixel and blur the texture. 16k style patches
 * and 32 PCA dimensions: more iterations, IRLS passes or dimensions looked no different on wallpapers and cost
 * up to twice the time.
 */
export const DEFAULT_STYLIZE: Readonly<StylizeOptions> = {
  size: 256,
  startSize: 128,
  contentWeight: 1,
  contentFloor: 0.1,
  patchSizes: [33, 21, 13, 9],
  iterations: 3,
  irlsIterations: 4,
  robustness: 0.8,
  maxStylePatches: 16384,
  pcaDims: 32,
  strideFraction: 0.7,
  noise: 50,
  styleScale: 1,
  denoise: 0,
};

export const MAX_STYLES = 5;

export interface StylizeProgress {
  /** Passes done and in all (every scale, patch size and iteration). */
  done: number;
  total: number;
  /** The current scale's side, patch side and pass within that patch size. */
  scale: number;
  patchSize: number;
  iteration: number;
}

const where = 'stylize options';

function checkOptions(given: Partial<StylizeOptions> | undefined): StylizeOptions {
  const o = mergeOptions(where, { ...DEFAULT_STYLIZE, patchSizes: [...DEFAULT_STYLIZE.patchSizes] }, given);
  checkRange('size', o.size, { min: 16, max: 1024, integer: true }, { where });
  checkRange('startSize', o.startSize, { min: 16, max: o.size, integer: true }, { where, hint: 'pass a startSize no larger than size' });
  checkRange('contentWeight', o.contentWeight, { min: 0, max: 100 }, { where });
  checkRange('contentFloor', o.contentFloor, { min: 0, max: 1 }, { where });
  if (!Array.isArray(o.patchSizes) || o.patchSizes.length === 0 || o.patchSizes.length > 8) {
    throw new RhodopsError('BAD_OPTION', `${where}: patchSizes must be a list of 1 to 8 patch sides, got ${String(o.patchSizes)}.`, { hint: 'pass e.g. [33, 21, 13]' });
  }
  o.patchSizes.forEach((p, i) => checkRange(`patchSizes[${i}]`, p, { min: 3, max: 65, integer: true }, { where }));
  checkRange('iterations', o.iterations, { min: 1, max: 20, integer: true }, { where });
  checkRange('irlsIterations', o.irlsIterations, { min: 1, max: 30, integer: true }, { where });
  checkRange('robustness', o.robustness, { min: 0.1, max: 2 }, { where });
  checkRange('maxStylePatches', o.maxStylePatches, { min: 16, max: 65536, integer: true }, { where });
  checkRange('pcaDims', o.pcaDims, { min: 1, max: 256, integer: true }, { where });
  checkRange('strideFraction', o.strideFraction, { min: 0, max: 1, exclusiveMin: true }, { where });
  checkRange('noise', o.noise, { min: 0, max: 255 }, { where });
  checkRange('styleScale', o.styleScale, { min: 0.25, max: 4 }, { where });
  checkRange('denoise', o.denoise, { min: 0, max: 100 }, { where });
  return o;
}

/** Sides of the successive scales from startSize to size: as few steps as keep each at most 2×, all of one ratio. */
export function scaleSchedule(startSize: number, size: number): number[] {
  const steps = Math.ceil(Math.log2(size / startSize) - 1e-9);
  const ratio = (size / startSize) ** (1 / Math.max(1, steps));
  const out = [startSize];
  for (let i = 1; i < steps; i++) out.push(Math.round(startSize * ratio ** i));
  if (steps > 0) out.push(size);
  return out;
}

/**
 * Patch sides for a scale of side `side`: each of `sizes` (for a ~256² scale) capped at a third of the side
 * and made odd, duplicates dropped, so a 64² scale uses 21 and 13 where 256² uses 33, 21 and 13.
 */
export function patchSizesFor(side: number, sizes: readonly number[]): number[] {
  const third = Math.floor(side / 3);
  const cap = Math.max(3, third % 2 === 1 ? third : third - 1);
  const out: number[] = [];
  for (const s of sizes) {
    const p = Math.max(3, Math.min(s % 2 === 0 ? s + 1 : s, cap));
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

/** Blurred luminance gradient (grey levels per pixel) below which a region is flat, and above which it is all edge. */
const FLAT_GRADIENT = 6;
const EDGE_GRADIENT = 24;

/**
 * Where the content should hold: its luminance gradient, blurred over a few pixels, ramped from 0 at
 * FLAT_GRADIENT to 1 at EDGE_GRADIENT; `floor` is added everywhere. Absolute thresholds, measured on the content's
 * own colours: the grain of a flat wallpaper (gradients of ~4–9) stays out of the mask, where normalising by a
 * percentile would promote it to edges, and matching to the style's colours would stretch it.
 */
export function contentMask(content: RgbFloatImage, floor: number): Float32Array {
  const { width, height } = content;
  const lum = luminance(content);
  const g = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const xl = Math.max(0, x - 1), xr = Math.min(width - 1, x + 1);
      const yu = Math.max(0, y - 1), yd = Math.min(height - 1, y + 1);
      const gx = lum[y * width + xr]! - lum[y * width + xl]!;
      const gy = lum[yd * width + x]! - lum[yu * width + x]!;
      g[y * width + x] = Math.sqrt(gx * gx + gy * gy);
    }
  }
  const blurred = boxBlur(g, width, height, Math.max(1, Math.round(width / 128)));
  const mask = new Float32Array(width * height);
  for (let i = 0; i < mask.length; i++) {
    const edge = Math.min(1, Math.max(0, (blurred[i]! - FLAT_GRADIENT) / (EDGE_GRADIENT - FLAT_GRADIENT)));
    mask[i] = floor + (1 - floor) * edge;
  }
  return mask;
}

/** (X + W·C) / (1 + W) per pixel: the paper's content fusion with a diagonal weight. */
function fuseContent(x: RgbFloatImage, content: RgbFloatImage, mask: Float32Array, weight: number): RgbFloatImage {
  const out = new Float32Array(x.data.length);
  for (let p = 0; p < mask.length; p++) {
    const w = weight * mask[p]!;
    const inv = 1 / (1 + w);
    for (let c = 0; c < 3; c++) out[p * 3 + c] = (x.data[p * 3 + c]! + w * content.data[p * 3 + c]!) * inv;
  }
  return { width: x.width, height: x.height, data: out };
}

function addNoise(img: RgbFloatImage, std: number, rng: () => number): RgbFloatImage {
  const data = img.data.slice();
  if (std > 0) for (let i = 0; i < data.length; i++) data[i]! += std * gaussian(rng);
  return { width: img.width, height: img.height, data };
}

function checkInputs(content: RgbFloatImage, styles: readonly StyleInput[]): void {
  const valid = (img: RgbFloatImage) =>
    Number.isInteger(img.width) && Number.isInteger(img.height) && img.width > 0 && img.height > 0 && img.data.length === img.width * img.height * 3;
  if (!valid(content)) throw new RhodopsError('BAD_OPTION', 'stylize: the content image must be width × height × 3 floats.', { hint: 'pass an RgbFloatImage (e.g. from readFloatImage)' });
  if (styles.length < 1 || styles.length > MAX_STYLES) {
    throw new RhodopsError('BAD_OPTION', `stylize: pass 1 to ${MAX_STYLES} style images, got ${styles.length}.`, { hint: `blend at most ${MAX_STYLES} styles` });
  }
  styles.forEach((s, i) => {
    if (!valid(s.image)) throw new RhodopsError('BAD_OPTION', `stylize: style ${i} must be width × height × 3 floats.`, { hint: 'pass an RgbFloatImage (e.g. from readFloatImage)' });
    checkRange(`styles[${i}].weight`, s.weight, { min: 0, max: 1e6, exclusiveMin: true }, { where: 'stylize' });
  });
}

/**
 * A pastiche: `content`'s large-scale layout in the textures and colours of `styles`, size × size.
 * @throws RhodopsError BAD_OPTION for an option or input out of range.
 */
export async function stylize(
  content: RgbFloatImage,
  styles: readonly StyleInput[],
  options: Partial<StylizeOptions> | undefined,
  rng: () => number,
  onProgress?: (p: StylizeProgress) => void,
): Promise<RgbFloatImage> {
  checkInputs(content, styles);
  const o = checkOptions(options);
  const scales = scaleSchedule(o.startSize, o.size);
  const plan = scales.map((side) => ({ side, patches: patchSizesFor(side, o.patchSizes) }));
  const total = plan.reduce((s, p) => s + p.patches.length * o.iterations, 0);
  let done = 0;
  let x: RgbFloatImage | null = null;
  for (const { side, patches } of plan) {
    const scaledStyles = styles.map((s) => ({ image: resizeShortSide(s.image, Math.max(Math.max(...patches), Math.round(side * o.styleScale))), weight: s.weight }));
    const ref: HistogramReference = histogramReference(scaledStyles);
    // The content in the style's colours: fusion then pulls towards the layout, not back to the content's palette.
    const own = coverSquare(content, side);
    const c = matchHistogram(own, ref);
    const mask = contentMask(own, o.contentFloor);
    x = x === null ? matchHistogram(addNoise(c, o.noise, rng), ref) : matchHistogram(resize(x, side, side), ref);
    for (const n of patches) {
      const index = await PatchIndex.build(sampleStylePatches(scaledStyles, n, o.maxStylePatches, rng), o.pcaDims, rng);
      try {
        const stride = Math.max(1, Math.round(n * o.strideFraction));
        for (let it = 0; it < o.iterations; it++) {
          const grid = patchGrid(side, side, n, stride, Math.floor(rng() * stride));
          const matches = await index.nearest(x, grid);
          const aggregated = aggregateIrls(x, grid, matches, index.patches, { r: o.robustness, iterations: o.irlsIterations });
          const fused = fuseContent(aggregated, c, mask, o.contentWeight);
          // Smoothing before the colour match, so that every pass ends with the style's exact histograms.
          x = matchHistogram(o.denoise > 0 ? bilateral3(fused, o.denoise) : fused, ref);
          done++;
          onProgress?.({ done, total, scale: side, patchSize: n, iteration: it + 1 });
          // Lets a progress bar draw and a signal handler run between passes.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      } finally {
        index.dispose();
      }
    }
  }
  return x!;
}
