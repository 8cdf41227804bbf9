/**
 * The packed training set `rhodops dataset pack` writes and `rhodops train pggan` streams: every image at
 * every resolution from 4² to the final one (as PGGAN's multi-resolution TFRecords), stored raw so training
 * never decodes an image again. A directory:
 *   manifest.json   {format: 'rhodops-dataset', version: 1, count, channels: 3, resolutions: [4, 8, …, R],
 *                    files: {"4": "r0004.bin", …}, source: {dir, images}, createdAt}
 *   rNNNN.bin       count × N × N × 3 bytes: RGB, rows top to bottom, image after image. Each resolution is
 *                   the one above box-filtered 2×2 (the final one is the prepared image itself).
 * Written under a temporary name and renamed into place, like checkpoints.
 */
export const PACK_FORMAT = 'rhodops-dataset';
export const PACK_VERSION = 1;
export const PACK_MANIFEST = 'manifest.json';

export const packFileName = (res: number) => `r${String(res).padStart(4, '0')}.bin`;

/** A packed dataset opened for reading (trainer/prepare/pack.ts: openPack). */
export interface PackedDataset {
  readonly dir: string;
  readonly count: number;
  /** 4, 8, …, the final resolution. */
  readonly resolutions: readonly number[];
  readonly channels: 3;
  /** The images at `indices` at resolution `res`: indices.length × res × res × 3 bytes (RGB, HWC). */
  read(res: number, indices: readonly number[]): Promise<Uint8Array>;
  close(): Promise<void>;
}
