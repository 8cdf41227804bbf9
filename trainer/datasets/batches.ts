/**
 * Streaming a prepared dataset to training: a shuffled order per epoch that depends only on (seed, epoch),
 * so a resumed run replays the same batches, and batches as float32 NHWC in [-1, 1], with optional mirror
 * and invert augmentations decided per image from (seed, position) alone.
 */
import { RhodopsError } from '../../core/errors.ts';
import { hash32, rng } from '../../core/random.ts';
import type { ImageDataset } from './types.ts';

/** A permutation of 0..count-1 for an epoch, from (seed, epoch) alone, so a resumed run replays the same order. */
export function epochOrder(count: number, seed: number, epoch: number): Uint32Array {
  if (!Number.isInteger(count) || count < 0 || count > 0xffffffff) throw new RangeError(`epochOrder: count must be an integer ≥ 0, got ${count}`);
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  const random = rng(hash32(seed, epoch));
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/** Steps in an epoch: the last partial batch is dropped. */
export function stepsPerEpoch(ds: ImageDataset, batch: number): number {
  if (!Number.isInteger(batch) || batch < 1) {
    throw new RhodopsError('BAD_OPTION', `Batch size must be a positive integer, got ${String(batch)}.`, { hint: 'use e.g. 32 or 64' });
  }
  if (batch > ds.count) {
    throw new RhodopsError('BAD_OPTION', `Batch size ${batch} is larger than the dataset (${ds.count} images from ${ds.source}).`, {
      hint: `use a batch size of at most ${ds.count}, or add images`,
    });
  }
  return Math.floor(ds.count / batch);
}

export interface BatchOptions {
  /** Flip each image left–right with probability ½. */
  mirror?: boolean;
  /** Replace each image by its negative (255 − x) with probability ½. */
  invert?: boolean;
  /** Seeds the per-image choices, which depend on (seed, position in the order, image index) only. */
  seed?: number;
}

/** x / 127.5 − 1 for every byte, and the same for 255 − x. */
const TO_UNIT = Float32Array.from({ length: 256 }, (_, x) => x / 127.5 - 1);
const TO_UNIT_INVERTED = Float32Array.from({ length: 256 }, (_, x) => (255 - x) / 127.5 - 1);

/**
 * Images order[start..start+batch) as float32 NHWC in [-1, 1] (x / 127.5 − 1), and their labels if any.
 * With mirror or invert, each image's choice comes from hash(seed, position, index): the same batch of the
 * same epoch always gets the same augmentation, and an image gets new choices in each epoch's order.
 */
export function batchAt(
  ds: ImageDataset,
  order: Uint32Array,
  start: number,
  batch: number,
  opts: BatchOptions = {},
): { images: Float32Array; labels?: Int32Array } {
  if (!Number.isInteger(start) || !Number.isInteger(batch) || start < 0 || batch < 1 || start + batch > order.length) {
    throw new RangeError(`batchAt: images ${start}..${start + batch} are outside the order's 0..${order.length}`);
  }
  const { size, channels, pixels } = ds;
  const imageBytes = size * size * channels;
  const rowBytes = size * channels;
  const images = new Float32Array(batch * imageBytes);
  const labels = ds.labels ? new Int32Array(batch) : undefined;
  const seed = opts.seed ?? 0;
  for (let b = 0; b < batch; b++) {
    const position = start + b;
    const index = order[position]!;
    if (index >= ds.count) throw new RangeError(`batchAt: order[${position}] = ${index} is not an image (count ${ds.count})`);
    if (labels) labels[b] = ds.labels![index]!;
    const bits = opts.mirror || opts.invert ? hash32(seed, position, index) : 0;
    const mirror = opts.mirror === true && (bits & 1) === 1;
    const lut = opts.invert === true && (bits & 2) === 2 ? TO_UNIT_INVERTED : TO_UNIT;
    const src = index * imageBytes;
    const dst = b * imageBytes;
    if (!mirror) {
      for (let i = 0; i < imageBytes; i++) images[dst + i] = lut[pixels[src + i]!]!;
      continue;
    }
    for (let y = 0; y < size; y++) {
      const rowSrc = src + y * rowBytes;
      const rowDst = dst + y * rowBytes;
      for (let x = 0; x < size; x++) {
        const from = rowSrc + (size - 1 - x) * channels;
        const to = rowDst + x * channels;
        for (let c = 0; c < channels; c++) images[to + c] = lut[pixels[from + c]!]!;
      }
    }
  }
  return labels ? { images, labels } : { images };
}
