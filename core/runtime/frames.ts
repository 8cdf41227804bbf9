/** Conversions from a model's raw output (any layout, either range, 1 or 3 channels) to frames. */
import { RhodopsError } from '../errors.ts';
import type { OutputSpec } from '../checkpoint/manifest.ts';
import type { FloatBatch, RgbBatch } from './types.ts';

export interface RawImages {
  data: Float32Array;
  batch: number;
  channels: 1 | 3;
  height: number;
  width: number;
  spec: OutputSpec;
}

/** Index of channel k of pixel p in image b, for the raw layout. */
function indexer(raw: RawImages): (b: number, p: number, k: number) => number {
  const hw = raw.height * raw.width;
  const c = raw.channels;
  return raw.spec.layout === 'NCHW' ? (b, p, k) => (b * c + k) * hw + p : (b, p, k) => (b * hw + p) * c + k;
}

export function rawToRgb(raw: RawImages): RgbBatch {
  const hw = raw.height * raw.width;
  const out = new Uint8ClampedArray(raw.batch * hw * 3);
  const at = indexer(raw);
  // Map to 0..255; Uint8ClampedArray rounds and clamps out-of-range model outputs for free.
  const [mul, add] = raw.spec.range === '-1..1' ? [127.5, 127.5] : [255, 0];
  const src = raw.data;
  for (let b = 0; b < raw.batch; b++) {
    for (let p = 0; p < hw; p++) {
      const o = (b * hw + p) * 3;
      if (raw.channels === 1) {
        const v = src[at(b, p, 0)]! * mul + add;
        out[o] = v;
        out[o + 1] = v;
        out[o + 2] = v;
      } else {
        out[o] = src[at(b, p, 0)]! * mul + add;
        out[o + 1] = src[at(b, p, 1)]! * mul + add;
        out[o + 2] = src[at(b, p, 2)]! * mul + add;
      }
    }
  }
  return { batch: raw.batch, width: raw.width, height: raw.height, data: new Uint8Array(out.buffer) };
}

export function rawToFloat(raw: RawImages): FloatBatch {
  const hw = raw.height * raw.width;
  const c = raw.channels;
  const at = indexer(raw);
  const [mul, add] = raw.spec.range === '-1..1' ? [1, 0] : [2, -1];
  const out = new Float32Array(raw.batch * hw * c);
  for (let b = 0; b < raw.batch; b++)
    for (let p = 0; p < hw; p++) for (let k = 0; k < c; k++) out[(b * hw + p) * c + k] = raw.data[at(b, p, k)]! * mul + add;
  return { batch: raw.batch, width: raw.width, height: raw.height, channels: c, data: out };
}

export function checkLatents(latents: Float32Array, batch: number, size: number, name: string): void {
  if (!Number.isInteger(batch) || batch < 1 || latents.length !== batch * size) {
    throw new RhodopsError(
      'LATENT_SHAPE_MISMATCH',
      `${name}: got ${latents.length} latent values for batch ${batch}; this model takes ${size} per image (${batch * size} in all).`,
      { hint: 'Check that the latent layout matches the model (presets and mappings are per model).' },
    );
  }
}
