/**
 * Dataset preparation speed: `dataset augment` output images per second on synthetic sources (the issue's
 * reference geometry: a 1024² source doubled to 2048², 115 images of 256² each), with lanczos and with
 * ESRGAN upscaling, then `dataset pack` images per second and the pack's random-batch read rate.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { augment } from '../trainer/prepare/augment.ts';
import { openPack, pack } from '../trainer/prepare/pack.ts';
import type { UpscaleMode } from '../trainer/prepare/upscale.ts';

export interface AugmentBenchRow {
  /** What was measured, e.g. "augment 1024² → 2048² (lanczos)". */
  case: string;
  images: number;
  seconds: number;
  imagesPerSecond: number;
}

/** A source with what costs time in real ones: smooth areas, edges, texture (PNG can't squash it flat). */
async function syntheticSource(file: string, side: number, seed: number): Promise<void> {
  await sharp(syntheticRgb(side, seed), { raw: { width: side, height: side, channels: 3 } }).jpeg({ quality: 92 }).toFile(file);
}

/** The pixels of a synthetic source, side × side RGB. */
export function syntheticRgb(side: number, seed: number): Uint8Array {
  const rgb = new Uint8Array(side * side * 3);
  let s = seed >>> 0;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const grain = (s >>> 28) - 8;
      const u = x / side;
      const v = y / side;
      const ring = Math.sin(40 * Math.hypot(u - 0.4, v - 0.6)) > 0.6 ? 60 : 0;
      const o = (y * side + x) * 3;
      rgb[o] = Math.max(0, Math.min(255, 40 + 180 * u + ring + grain));
      rgb[o + 1] = Math.max(0, Math.min(255, 60 + 120 * Math.sin(6 * v + seed) ** 2 + grain));
      rgb[o + 2] = Math.max(0, Math.min(255, 200 - 150 * v * u + ring + grain));
    }
  }
  return rgb;
}

export async function benchAugment(o: { quick: boolean }, say: (m: string) => void): Promise<AugmentBenchRow[]> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-bench-augment-'));
  const rows: AugmentBenchRow[] = [];
  try {
    // ESRGAN against lanczos on the same sources, and what `auto` chooses for them.
    const same = o.quick ? 256 : 512;
    const cases: { side: number; upscale: UpscaleMode; sources: number }[] = [
      { side: 1024, upscale: 'lanczos', sources: o.quick ? 1 : 2 },
      ...(o.quick ? [] : [{ side: 2048, upscale: 'lanczos' as const, sources: 1 }]),
      { side: same, upscale: 'lanczos', sources: 1 },
      { side: same, upscale: 'esrgan', sources: 1 },
      { side: same, upscale: 'auto', sources: 1 },
    ];
    let packInput = '';
    for (const c of cases) {
      const input = path.join(tmp, `in-${c.side}-${c.upscale}`);
      const output = path.join(tmp, `out-${c.side}-${c.upscale}`);
      await fs.mkdir(input);
      for (let i = 0; i < c.sources; i++) await syntheticSource(path.join(input, `src${i}.jpg`), c.side, i + 1);
      say(`augment ${c.side}² (${c.upscale}), ${c.sources} source${c.sources > 1 ? 's' : ''}…`);
      const r = await augment({ input, output, upscale: c.upscale, size: 256 });
      const chosen = c.upscale === 'auto' ? ` → ${[...new Set(r.sources.map((x) => x.upscale))].join(', ')}` : '';
      const label = `augment ${c.side}² → ${c.side * 2}² (${c.upscale}${chosen}), 256² out`;
      rows.push({ case: label, images: r.totals.written, seconds: r.seconds, imagesPerSecond: r.imagesPerSecond });
      say(`  ${r.totals.written} images in ${r.seconds.toFixed(1)} s: ${r.imagesPerSecond.toFixed(1)} images/s`);
      if (c.side === 1024) packInput = output;
    }

    say('pack 256² (4² … 256²)…');
    const out = path.join(tmp, 'pack');
    const p = await pack({ input: packInput, out });
    rows.push({ case: 'pack 256² → 4² … 256²', images: p.count, seconds: p.seconds, imagesPerSecond: p.imagesPerSecond });
    say(`  ${p.count} images in ${p.seconds.toFixed(2)} s: ${p.imagesPerSecond.toFixed(0)} images/s`);

    // What the trainer sees: shuffled batches of 64 at the top resolution (the costliest to read).
    const ds = await openPack(out);
    try {
      const batches = o.quick ? 20 : 100;
      let s = 1;
      const t0 = performance.now();
      for (let b = 0; b < batches; b++) {
        const idx = Array.from({ length: 64 }, () => ((s = (s * 1103515245 + 12345) >>> 0), s % ds.count));
        await ds.read(256, idx);
      }
      const seconds = (performance.now() - t0) / 1000;
      rows.push({ case: 'pack read, shuffled batches of 64 at 256²', images: batches * 64, seconds, imagesPerSecond: (batches * 64) / seconds });
      say(`  reads: ${((batches * 64) / seconds).toFixed(0)} images/s at 256²`);
    } finally {
      await ds.close();
    }
    return rows;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
