/**
 * Real images for PGGAN training: an endless stream over a packed dataset, shuffled per pass from (seed, pass)
 * alone, so a resumed or rolled-back run that restarts at the same stream position sees the same images. The
 * --mirror and --invert augmentations are chosen per image from (seed, position, index), as in
 * trainer/datasets/batches.ts.
 */
import { RhodopsError } from '../../core/errors.ts';
import { hash32 } from '../../core/random.ts';
import { epochOrder } from '../datasets/batches.ts';
import type { PackedDataset } from '../prepare/pack-format.ts';
import { openPack } from '../prepare/pack.ts';

/** x / 127.5 − 1 for every byte, and the same for 255 − x. */
const TO_UNIT = Float32Array.from({ length: 256 }, (_, x) => x / 127.5 - 1);
const TO_UNIT_INVERTED = Float32Array.from({ length: 256 }, (_, x) => (255 - x) / 127.5 - 1);

export interface AugmentOptions {
  mirror: boolean;
  invert: boolean;
  /** Every image as grey (Rec. 709 luma in all three channels): the seed workflow's black-and-white transfer. */
  grayscale?: boolean;
  seed: number;
}

export class BatchStream {
  private cached: { pass: number; order: Uint32Array } | null = null;

  constructor(
    readonly pack: PackedDataset,
    private readonly o: AugmentOptions,
  ) {
    if (pack.count < 1) {
      throw new RhodopsError('DATASET_INVALID', `the packed dataset ${pack.dir} holds no images.`, { hint: 'Pack a folder with images: `rhodops dataset pack`.' });
    }
  }

  /** Dataset indices at stream positions [from, from + n). */
  indices(from: number, n: number): number[] {
    const count = this.pack.count;
    const out: number[] = [];
    for (let p = from; p < from + n; p++) {
      const pass = Math.floor(p / count);
      if (this.cached?.pass !== pass) this.cached = { pass, order: epochOrder(count, this.o.seed, pass) };
      out.push(this.cached.order[p % count]!);
    }
    return out;
  }

  /** `n` images from stream position `from` at `res`, as float32 NHWC in [-1, 1], augmented. */
  async read(res: number, n: number, from: number): Promise<Float32Array> {
    const indices = this.indices(from, n);
    const bytes = await this.pack.read(res, indices);
    const imageBytes = res * res * 3;
    if (bytes.length !== n * imageBytes) {
      throw new RhodopsError('DATASET_INVALID', `${this.pack.dir}: reading ${n} images at ${res}² gave ${bytes.length} bytes, expected ${n * imageBytes}.`, {
        hint: 'The pack is truncated or corrupt; pack the dataset again.',
      });
    }
    const out = new Float32Array(bytes.length);
    indices.forEach((index, b) => {
      const bits = this.o.mirror || this.o.invert ? hash32(this.o.seed, from + b, index) : 0;
      augment(bytes, out, b * imageBytes, res, this.o.mirror && (bits & 1) === 1, this.o.invert && (bits & 2) === 2);
      if (this.o.grayscale) toGrey(out, b * imageBytes, res);
    });
    return out;
  }
}

/** One image in place: each pixel's three channels set to its Rec. 709 luma. */
function toGrey(img: Float32Array, offset: number, res: number): void {
  for (let i = offset; i < offset + res * res * 3; i += 3) {
    const y = 0.2126 * img[i]! + 0.7152 * img[i + 1]! + 0.0722 * img[i + 2]!;
    img[i] = y;
    img[i + 1] = y;
    img[i + 2] = y;
  }
}

function augment(src: Uint8Array, dst: Float32Array, offset: number, res: number, mirror: boolean, invert: boolean): void {
  const lut = invert ? TO_UNIT_INVERTED : TO_UNIT;
  const row = res * 3;
  if (!mirror) {
    for (let i = offset; i < offset + res * row; i++) dst[i] = lut[src[i]!]!;
    return;
  }
  for (let y = 0; y < res; y++) {
    const base = offset + y * row;
    for (let x = 0; x < res; x++) {
      const from = base + (res - 1 - x) * 3;
      const to = base + x * 3;
      dst[to] = lut[src[from]!]!;
      dst[to + 1] = lut[src[from + 1]!]!;
      dst[to + 2] = lut[src[from + 2]!]!;
    }
  }
}

/** Checks that a pack can feed a model growing up to `maxResolution`; says what to do when not. */
export function checkPackFits(pack: PackedDataset, maxResolution: number, batch: number): void {
  const missing: number[] = [];
  for (let r = 4; r <= maxResolution; r *= 2) if (!pack.resolutions.includes(r)) missing.push(r);
  if (missing.length > 0) {
    throw new RhodopsError('DATASET_INVALID', `${pack.dir} has no images at ${missing.map((r) => `${r}²`).join(', ')} (it holds ${pack.resolutions.join(', ')}).`, {
      hint: `Pack the images at ${maxResolution}² or more (\`rhodops dataset pack IMAGES --out DIR --resolution ${maxResolution}\`), or train at --resolution ${Math.max(...pack.resolutions)}.`,
    });
  }
  if (pack.count < batch) {
    throw new RhodopsError('DATASET_INVALID', `${pack.dir} holds ${pack.count} images, fewer than a minibatch of ${batch}.`, {
      hint: 'Add images (or augment them when packing), or use a smaller --batch.',
    });
  }
}

/** Opens `--data DIR`, a directory written by `rhodops dataset pack` (its reader checks and explains). */
export function openPackDir(dir: string): Promise<PackedDataset> {
  return openPack(dir);
}
