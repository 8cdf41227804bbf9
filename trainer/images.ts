/** Image files the trainers write: PNG grids of generated frames, upscaled so small digits stay visible. */
import sharp from 'sharp';
import type { RgbBatch } from '../core/runtime/types.ts';
import { writeFileAtomic } from '../core/fsutil.ts';

const GAP = 2;

/** Lays `frames` out `columns` wide with a thin dark gap, scales to ≥ 512 px wide (nearest), writes PNG atomically. */
export async function writePngGrid(file: string, frames: RgbBatch, columns: number): Promise<void> {
  const rows = Math.ceil(frames.batch / columns);
  const { width: w, height: h } = frames;
  const W = columns * (w + GAP) + GAP;
  const H = rows * (h + GAP) + GAP;
  const canvas = new Uint8Array(W * H * 3).fill(24);
  for (let i = 0; i < frames.batch; i++) {
    const ox = GAP + (i % columns) * (w + GAP);
    const oy = GAP + Math.floor(i / columns) * (h + GAP);
    for (let y = 0; y < h; y++) {
      const src = (i * h * w + y * w) * 3;
      canvas.set(frames.data.subarray(src, src + w * 3), ((oy + y) * W + ox) * 3);
    }
  }
  const scale = Math.max(1, Math.ceil(512 / W));
  const png = await sharp(canvas, { raw: { width: W, height: H, channels: 3 } })
    .resize(W * scale, H * scale, { kernel: 'nearest' })
    .png({ compressionLevel: 9 })
    .toBuffer();
  await writeFileAtomic(file, png);
}
