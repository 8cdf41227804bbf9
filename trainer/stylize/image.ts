/**
 * Float RGB images for the style-transfer engine, and the resampling it needs between scales. Values stay
 * floats (0..255, may stray outside while the estimate is noisy) so repeated resizing and averaging never
 * round; conversion to bytes happens once, at the end.
 */
import sharp from 'sharp';
import type { RgbImage } from '../prepare/upscale.ts';
import { openImage, toRgb } from '../prepare/upscale.ts';

/** width × height × 3 floats, HWC, rows top to bottom, nominally 0..255. */
export interface RgbFloatImage {
  width: number;
  height: number;
  data: Float32Array;
}

export function blankImage(width: number, height: number): RgbFloatImage {
  return { width, height, data: new Float32Array(width * height * 3) };
}

export function toFloatImage(img: RgbImage): RgbFloatImage {
  return { width: img.width, height: img.height, data: Float32Array.from(img.data) };
}

/** Bytes for an encoder: rounded and clamped to 0..255. */
export function toByteImage(img: RgbFloatImage): RgbImage {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(img.data[i]!)));
  return { width: img.width, height: img.height, data: out };
}

/**
 * An image file as floats, shrunk by sharp (lanczos3, in libvips) so its shorter side is at most `maxShortSide`:
 * wallpapers are 4K and the engine never needs more than the output's size.
 */
export async function readFloatImage(file: string, maxShortSide: number): Promise<RgbFloatImage> {
  const meta = await openImage(file).metadata();
  const { width = 1, height = 1 } = meta.autoOrient ?? meta;
  const scale = Math.min(1, maxShortSide / Math.min(width, height));
  const pipeline = openImage(file).resize(Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale)), { fit: 'fill' });
  return toFloatImage(await toRgb(pipeline));
}

/** A PNG of `img` (clamped to bytes). */
export async function pngOf(img: RgbFloatImage): Promise<Buffer> {
  const b = toByteImage(img);
  return sharp(b.data, { raw: { width: b.width, height: b.height, channels: 3 } }).png().toBuffer();
}

/**
 * Taps of a 1-D resampling from `nIn` to `nOut` samples: area averaging when shrinking (every input sample
 * counts, so stripes do not alias), linear interpolation between pixel centres when enlarging.
 */
function axisTaps(nIn: number, nOut: number): { start: Int32Array; count: Int32Array; weights: Float32Array[] } {
  const start = new Int32Array(nOut);
  const count = new Int32Array(nOut);
  const weights: Float32Array[] = [];
  const ratio = nIn / nOut;
  for (let j = 0; j < nOut; j++) {
    if (nOut <= nIn) {
      const a = j * ratio;
      const b = a + ratio;
      const i0 = Math.floor(a);
      const i1 = Math.min(nIn, Math.ceil(b));
      const w = new Float32Array(i1 - i0);
      for (let i = i0; i < i1; i++) w[i - i0] = (Math.min(b, i + 1) - Math.max(a, i)) / ratio;
      start[j] = i0;
      count[j] = i1 - i0;
      weights.push(w);
    } else {
      const x = Math.min(nIn - 1, Math.max(0, (j + 0.5) * ratio - 0.5));
      const i0 = Math.min(nIn - 2, Math.floor(x));
      if (nIn === 1) {
        start[j] = 0;
        count[j] = 1;
        weights.push(Float32Array.of(1));
        continue;
      }
      const f = x - i0;
      start[j] = i0;
      count[j] = 2;
      weights.push(Float32Array.of(1 - f, f));
    }
  }
  return { start, count, weights };
}

/** `img` resampled to width × height (separable; area when shrinking, bilinear when enlarging). */
export function resize(img: RgbFloatImage, width: number, height: number): RgbFloatImage {
  if (width === img.width && height === img.height) return { width, height, data: img.data.slice() };
  const tx = axisTaps(img.width, width);
  const ty = axisTaps(img.height, height);
  // Rows first (width changes), then columns.
  const mid = new Float32Array(width * img.height * 3);
  for (let y = 0; y < img.height; y++) {
    const row = y * img.width * 3;
    for (let x = 0; x < width; x++) {
      const w = tx.weights[x]!;
      let r = 0, g = 0, b = 0;
      for (let k = 0, i = row + tx.start[x]! * 3; k < tx.count[x]!; k++, i += 3) {
        r += w[k]! * img.data[i]!;
        g += w[k]! * img.data[i + 1]!;
        b += w[k]! * img.data[i + 2]!;
      }
      const o = (y * width + x) * 3;
      mid[o] = r;
      mid[o + 1] = g;
      mid[o + 2] = b;
    }
  }
  const out = new Float32Array(width * height * 3);
  const stride = width * 3;
  for (let y = 0; y < height; y++) {
    const w = ty.weights[y]!;
    const o = y * stride;
    for (let k = 0; k < ty.count[y]!; k++) {
      const src = (ty.start[y]! + k) * stride;
      const wk = w[k]!;
      for (let i = 0; i < stride; i++) out[o + i]! += wk * mid[src + i]!;
    }
  }
  return { width, height, data: out };
}

/** The central square of `img`, resampled to size × size (a landscape photo loses its sides). */
export function coverSquare(img: RgbFloatImage, size: number): RgbFloatImage {
  const side = Math.min(img.width, img.height);
  const x0 = Math.floor((img.width - side) / 2);
  const y0 = Math.floor((img.height - side) / 2);
  const crop = blankImage(side, side);
  for (let y = 0; y < side; y++) {
    const src = ((y0 + y) * img.width + x0) * 3;
    crop.data.set(img.data.subarray(src, src + side * 3), y * side * 3);
  }
  return resize(crop, size, size);
}

/** `img` resampled (aspect kept) so its shorter side is `short` pixels. */
export function resizeShortSide(img: RgbFloatImage, short: number): RgbFloatImage {
  const scale = short / Math.min(img.width, img.height);
  return resize(img, Math.max(short, Math.round(img.width * scale)), Math.max(short, Math.round(img.height * scale)));
}

/** Rec. 601 luma per pixel. */
export function luminance(img: RgbFloatImage): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.299 * img.data[i * 3]! + 0.587 * img.data[i * 3 + 1]! + 0.114 * img.data[i * 3 + 2]!;
  return out;
}

/** A box blur of a one-channel plane, radius r, edges clamped (separable running sums). */
export function boxBlur(plane: Float32Array, width: number, height: number, r: number): Float32Array {
  if (r <= 0) return plane.slice();
  const tmp = new Float32Array(plane.length);
  const out = new Float32Array(plane.length);
  const span = 2 * r + 1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let sum = 0;
    for (let k = -r; k <= r; k++) sum += plane[row + Math.min(width - 1, Math.max(0, k))]!;
    for (let x = 0; x < width; x++) {
      tmp[row + x] = sum / span;
      sum += plane[row + Math.min(width - 1, x + r + 1)]! - plane[row + Math.max(0, x - r)]!;
    }
  }
  for (let x = 0; x < width; x++) {
    let sum = 0;
    for (let k = -r; k <= r; k++) sum += tmp[Math.min(height - 1, Math.max(0, k)) * width + x]!;
    for (let y = 0; y < height; y++) {
      out[y * width + x] = sum / span;
      sum += tmp[Math.min(height - 1, y + r + 1) * width + x]! - tmp[Math.max(0, y - r) * width + x]!;
    }
  }
  return out;
}

/**
 * A 3 × 3 bilateral filter: neighbours count by exp(−‖Δrgb‖² / 2σ²), so seams and speckle under σ grey levels
 * are smoothed while edges (steps well above σ) are kept.
 */
export function bilateral3(img: RgbFloatImage, sigma: number): RgbFloatImage {
  const { width, height, data } = img;
  const out = new Float32Array(data.length);
  const k = -1 / (2 * sigma * sigma);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      let r = 0, g = 0, b = 0, ws = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = Math.min(height - 1, Math.max(0, y + dy));
        for (let dx = -1; dx <= 1; dx++) {
          const q = (yy * width + Math.min(width - 1, Math.max(0, x + dx))) * 3;
          const dr = data[q]! - data[p]!, dg = data[q + 1]! - data[p + 1]!, db = data[q + 2]! - data[p + 2]!;
          const w = Math.exp(k * (dr * dr + dg * dg + db * db));
          r += w * data[q]!;
          g += w * data[q + 1]!;
          b += w * data[q + 2]!;
          ws += w;
        }
      }
      out[p] = r / ws;
      out[p + 1] = g / ws;
      out[p + 2] = b / ws;
    }
  }
  return { width, height, data: out };
}
