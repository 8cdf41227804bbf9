/**
 * A serving-only copy of a checkpoint: manifest + generator.onnx (+ samples), without the tfjs training
 * state, which is several times larger. What a user shares, and what rhodops bundles as its demo model.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { openCheckpoint, readOnnx, saveCheckpoint } from './io.ts';
import type { Manifest } from './manifest.ts';

export async function exportServing(src: string, dst: string, opts: { samples?: boolean } = {}): Promise<Manifest> {
  const ckpt = await openCheckpoint(src);
  const { format: _f, version: _v, createdAt: _c, files: _files, ...rest } = ckpt.manifest;
  const manifest = await saveCheckpoint(dst, { manifest: rest, onnx: await readOnnx(ckpt) });
  if (opts.samples !== false) {
    const samples = path.join(ckpt.dir, 'samples');
    const files = await fs.readdir(samples).catch(() => [] as string[]);
    // The latest sheets and the animations; the per-epoch frames stay with the training run.
    const keep = files.filter((f) => !/-e\d{4}\.png$/.test(f));
    if (keep.length) await fs.mkdir(path.join(dst, 'samples'), { recursive: true });
    for (const f of keep) await fs.copyFile(path.join(samples, f), path.join(dst, 'samples', f));
  }
  return manifest;
}
