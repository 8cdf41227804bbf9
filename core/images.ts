/** PNG grids of generated frames: the trainers' sample grids and `rhodops sheet`'s contact sheets. */
import sharp from 'sharp';
import type { RgbBatch } from './runtime/types.ts';
import { writeFileAtomic } from './fsutil.ts';

const GAP = 2;
const LABEL_HEIGHT = 22;

export interface GridOptions {
  /** Each frame is scaled to at least this many pixels wide (nearest for small frames: digits stay crisp). */
  minCellWidth?: number;
  /** The grid is scaled to at least this many pixels wide as a whole. */
  minWidth?: number;
  /** A caption under each frame (a seed, a preset's name). */
  labels?: readonly string[];
}

const escapeXml = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Lays `frames` out `columns` wide with a thin dark gap (and captions), and writes a PNG atomically. */
export async function writePngGrid(file: string, frames: RgbBatch, columns: number, o: GridOptions = {}): Promise<void> {
  const rows = Math.ceil(frames.batch / columns);
  const { width: w, height: h } = frames;
  // The smallest whole scale for the cells' width and the grid's (gaps stay 2 px).
  const forGrid = Math.ceil(((o.minWidth ?? 512) - GAP - columns * GAP) / (columns * w));
  const scale = Math.max(1, Math.ceil((o.minCellWidth ?? 0) / w), forGrid);
  const [cw, ch] = [w * scale, h * scale];
  const label = o.labels ? LABEL_HEIGHT : 0;
  const W = columns * (cw + GAP) + GAP;
  const H = rows * (ch + label + GAP) + GAP;
  const canvas = new Uint8Array(W * H * 3).fill(24);
  for (let i = 0; i < frames.batch; i++) {
    const ox = GAP + (i % columns) * (cw + GAP);
    const oy = GAP + Math.floor(i / columns) * (ch + label + GAP);
    for (let y = 0; y < ch; y++) {
      const row = ((i * h + Math.floor(y / scale)) * w) * 3;
      for (let x = 0; x < cw; x++) {
        const s = row + Math.floor(x / scale) * 3;
        const d = ((oy + y) * W + ox + x) * 3;
        canvas[d] = frames.data[s]!;
        canvas[d + 1] = frames.data[s + 1]!;
        canvas[d + 2] = frames.data[s + 2]!;
      }
    }
  }
  let image = sharp(canvas, { raw: { width: W, height: H, channels: 3 } });
  if (o.labels) {
    const text = o.labels
      .slice(0, frames.batch)
      .map((t, i) => {
        const x = GAP + (i % columns) * (cw + GAP) + cw / 2;
        const y = GAP + Math.floor(i / columns) * (ch + label + GAP) + ch + 16;
        return `<text x="${x}" y="${y}" text-anchor="middle" font-family="sans-serif" font-size="14" fill="#ddd">${escapeXml(t)}</text>`;
      })
      .join('');
    image = image.composite([{ input: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${text}</svg>`), top: 0, left: 0 }]);
  }
  await writeFileAtomic(file, await image.png({ compressionLevel: 9 }).toBuffer());
}
