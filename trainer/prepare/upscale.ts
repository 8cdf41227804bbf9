/**
 * Step one of augmenting: a source image decoded to RGB and doubled. lanczos3 resizes in sharp's decode
 * pipeline; ESRGAN (the weights in @upscalerjs/esrgan-slim) runs on overlapping patches whose centres are
 * stitched together, so a 2048² result never holds more than one patch's activations in memory.
 */
import sharp, { type Sharp } from 'sharp';
import { RhodopsError } from '../../core/errors.ts';
import type { RangeSpec } from '../../core/options.ts';
import { openUpscaler, type UpscaleEngine, type Upscaler } from '../../core/upscale/esrgan.ts';
import type { OrtOptions } from '../../core/runtime/ort.ts';

export const UPSCALE_MODES = ['auto', 'esrgan', 'lanczos', 'none'] as const;
export type UpscaleMode = (typeof UPSCALE_MODES)[number];

/**
 * `auto`'s choice for one source: ESRGAN where a tile is enlarged to the output size (its smallest tile, in the
 * source's own pixels, is smaller than the output), lanczos where every tile is shrunk anyway and ESRGAN's
 * detail would be averaged away (measured on photographs: tiles at 64² matched lanczos within 53.8 dB, at 33×
 * the time).
 */
export function autoUpscale(smallestTileSourcePx: number, outputSize: number): 'esrgan' | 'lanczos' {
  return smallestTileSourcePx < outputSize ? 'esrgan' : 'lanczos';
}

export interface RgbImage {
  /** width × height × 3 bytes, rows top to bottom. */
  data: Uint8Array;
  width: number;
  height: number;
}

export interface PatchOptions {
  /** The part of each patch kept (its centre), in source pixels. */
  patch: number;
  /** Context around each patch that ESRGAN sees and the stitch drops, so patch borders leave no seams. */
  margin: number;
}

/** 224 + 2 × 16 = 256² patches: ESRGAN's time grows with pixels, so bigger patches waste less on margins (measured 2.9 µs/px at 96² to 288²). */
export const DEFAULT_PATCH: PatchOptions = { patch: 224, margin: 16 };

/** What --patch and --margin (and augment's `patch` option) take. */
export const PATCH_RANGE: Record<keyof PatchOptions, RangeSpec> = {
  patch: { min: 16, max: 2048, integer: true },
  margin: { min: 0, max: 256, integer: true },
};

/** sharp reading a file the way every source is read: EXIF orientation applied, alpha flattened on black. */
export function openImage(file: string): Sharp {
  // failOn 'error': a warning (a stray byte after the end of a JPEG) is no reason to lose an image.
  return sharp(file, { failOn: 'error', autoOrient: true });
}

/** The displayed size of an image file (after EXIF orientation), and whether it has transparency, from its header. */
export async function imageSize(file: string): Promise<{ width: number; height: number; alpha?: boolean }> {
  const meta = await openImage(file).metadata();
  const { width, height } = meta.autoOrient ?? meta;
  if (!width || !height) throw new Error('no image size in its header');
  return { width, height, ...(meta.hasAlpha ? { alpha: true } : {}) };
}

/** The pixels of `pipeline` as RGB, whatever channels libvips ends with (gray, gray + alpha, RGBA). */
export async function toRgb(pipeline: Sharp): Promise<RgbImage> {
  const { data, info } = await pipeline.flatten({ background: '#000000' }).toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  if (channels === 3) return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height };
  const n = width * height;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const p = i * channels;
    if (channels < 3) rgb.fill(data[p]!, i * 3, i * 3 + 3);
    else rgb.set(data.subarray(p, p + 3), i * 3);
  }
  return { data: rgb, width, height };
}

/** Mirror index (…2 1 | 0 1 2 … n−1 | n−2 …), for patch context beyond the image's edge. */
function mirror(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const j = ((i % period) + period) % period;
  return j < n ? j : period - j;
}

/** `img` upscaled by the upscaler's factor, patch by patch. */
export async function upscaleTiled(up: Upscaler, img: RgbImage, o: PatchOptions = DEFAULT_PATCH, onPatch?: (done: number, total: number) => void): Promise<RgbImage> {
  const f = up.factor;
  const { width, height, data } = img;
  // Equal patches that cover the image exactly (one shape for the whole run: ORT reuses its buffers).
  const pw = Math.ceil(width / Math.ceil(width / o.patch));
  const ph = Math.ceil(height / Math.ceil(height / o.patch));
  const m = o.margin;
  const inW = pw + 2 * m;
  const inH = ph + 2 * m;
  const out = new Uint8Array(width * f * height * f * 3);
  const patch = new Uint8Array(inW * inH * 3);
  const total = Math.ceil(width / pw) * Math.ceil(height / ph);
  let done = 0;
  for (let py = 0; py < height; py += ph) {
    for (let px = 0; px < width; px += pw) {
      for (let y = 0; y < inH; y++) {
        const sy = mirror(py - m + y, height);
        for (let x = 0; x < inW; x++) {
          const s = (sy * width + mirror(px - m + x, width)) * 3;
          const d = (y * inW + x) * 3;
          patch[d] = data[s]!;
          patch[d + 1] = data[s + 1]!;
          patch[d + 2] = data[s + 2]!;
        }
      }
      const big = await up.upscale(patch, 1, inW, inH);
      // Keep the centre, clipped where the last patch runs past the image.
      const keepW = Math.min(pw, width - px) * f;
      const keepH = Math.min(ph, height - py) * f;
      for (let y = 0; y < keepH; y++) {
        const s = ((m * f + y) * inW * f + m * f) * 3;
        out.set(big.subarray(s, s + keepW * 3), ((py * f + y) * width * f + px * f) * 3);
      }
      onPatch?.(++done, total);
    }
  }
  return { data: out, width: width * f, height: height * f };
}

/** Decodes a source file and upscales it; one per augment run, so ESRGAN's session is built once. */
export interface UpscaleStep {
  readonly mode: UpscaleMode;
  readonly factor: 1 | 2;
  /** `size`: the file's displayed size (imageSize), which the caller has already read to plan the tiles. */
  load(file: string, size: { width: number; height: number }, onPatch?: (done: number, total: number) => void): Promise<RgbImage>;
  dispose(): Promise<void>;
}

export interface UpscaleStepOptions {
  engine?: UpscaleEngine;
  patch?: PatchOptions;
  ort?: Partial<OrtOptions>;
}

export async function openUpscaleStep(mode: Exclude<UpscaleMode, 'auto'>, o: UpscaleStepOptions = {}): Promise<UpscaleStep> {
  if (mode === 'none') return { mode, factor: 1, load: (file) => toRgb(openImage(file)), dispose: async () => {} };
  if (mode === 'lanczos') {
    return {
      mode,
      factor: 2,
      load: (file, { width, height }) => toRgb(openImage(file).resize(width * 2, height * 2, { kernel: 'lanczos3', fit: 'fill' })),
      dispose: async () => {},
    };
  }
  if (mode !== 'esrgan') throw new RhodopsError('BAD_OPTION', `--upscale must be one of ${UPSCALE_MODES.join(', ')}, got '${String(mode)}'.`, { hint: 'esrgan is sharpest; lanczos is much faster' });
  const up = await openUpscaler(2, { engine: o.engine ?? 'ort', ...(o.ort ? { ort: o.ort } : {}) });
  const patch = o.patch ?? DEFAULT_PATCH;
  return {
    mode,
    factor: 2,
    load: async (file, _size, onPatch) => upscaleTiled(up, await toRgb(openImage(file)), patch, onPatch),
    dispose: () => up.dispose(),
  };
}
