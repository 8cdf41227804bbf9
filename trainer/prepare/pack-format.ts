/**
 * The packed training set `rhodops dataset pack` writes and `rhodops train pggan` streams: every image at
 * every resolution from 4² to the final one (as PGGAN's multi-resolution TFRecords), stored raw so training
 * never decodes an image again. A directory:
 *   manifest.json   {format: 'rhodops-dataset', version: 1, count, channels: 3, resolutions: [4, 8, …, R],
 *                    files: {"4": "r0004.bin", …}, source: {dir, images, skipped?}, createdAt}
 *   rNNNN.bin       count × N × N × 3 bytes: RGB, rows top to bottom, image after image. Each resolution is
 *                   the one above box-filtered 2×2 (the final one is the prepared image itself).
 * Written under a temporary name and renamed into place, like checkpoints.
 */
import { z } from 'zod';

export const PACK_FORMAT = 'rhodops-dataset';
export const PACK_VERSION = 1;
export const PACK_MANIFEST = 'manifest.json';

export const packFileName = (res: number) => `r${String(res).padStart(4, '0')}.bin`;

/** A packed dataset opened for reading (trainer/prepare/pack.ts: openPack). */
export interface PackedDataset {
  readonly dir: string;
  readonly count: number;
  /** When it was packed (null for packs made in memory): with the count, what tells a replaced pack. */
  readonly createdAt: string | null;
  /** 4, 8, …, the final resolution. */
  readonly resolutions: readonly number[];
  readonly channels: 3;
  /** The images at `indices` at resolution `res`: indices.length × res × res × 3 bytes (RGB, HWC). */
  read(res: number, indices: readonly number[]): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Resolutions of a pack whose final size is `res`: 4, 8, …, res (res a power of two ≥ 4). */
export function packResolutions(res: number): number[] {
  const out: number[] = [];
  for (let r = 4; r <= res; r *= 2) out.push(r);
  return out;
}

export const isPackResolution = (res: number) => Number.isInteger(res) && res >= 4 && res <= 8192 && (res & (res - 1)) === 0;

/** manifest.json, as the reader checks it (the writer builds it through the same schema). */
export const packManifestSchema = z
  .object({
    format: z.literal(PACK_FORMAT),
    version: z.literal(PACK_VERSION),
    count: z.number().int().positive(),
    channels: z.literal(3),
    resolutions: z.array(z.number().int()).min(1),
    files: z.record(z.string(), z.string().regex(/^r\d{4,}\.bin$/)),
    source: z.object({
      dir: z.string(),
      images: z.number().int().nonnegative(),
      /** Files left out because they could not be read, each "relative/path: reason". */
      skipped: z.array(z.string()).optional(),
    }),
    createdAt: z.string(),
  })
  .superRefine((m, ctx) => {
    const top = m.resolutions[m.resolutions.length - 1]!;
    if (!isPackResolution(top) || JSON.stringify(m.resolutions) !== JSON.stringify(packResolutions(top))) {
      ctx.addIssue({ code: 'custom', path: ['resolutions'], message: `must be 4, 8, … up to a power of two, got [${m.resolutions.join(', ')}]` });
      return;
    }
    for (const r of m.resolutions) {
      if (m.files[String(r)] !== packFileName(r)) ctx.addIssue({ code: 'custom', path: ['files', String(r)], message: `must be ${packFileName(r)}` });
    }
    if (Object.keys(m.files).length !== m.resolutions.length) ctx.addIssue({ code: 'custom', path: ['files'], message: 'must name one file per resolution' });
  });
export type PackManifest = z.infer<typeof packManifestSchema>;
