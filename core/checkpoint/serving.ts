/**
 * A serving-only copy of a checkpoint: manifest + generator.onnx (+ samples) + the generator's float weights,
 * without the critic and optimizer state, which are several times larger. What a user shares, and what
 * rhodops bundles as its demo models. The generator's weights let the copy play on tfjs and in int8.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { generatorSpecs } from '../models/generator.ts';
import type { WeightMap } from '../models/params.ts';
import { openCheckpoint, readOnnx, readWeights, saveCheckpoint, TFJS_DIR } from './io.ts';
import type { Manifest } from './manifest.ts';

export async function exportServing(src: string, dst: string, opts: { samples?: boolean; weights?: boolean; name?: string } = {}): Promise<Manifest> {
  const ckpt = await openCheckpoint(src);
  const { format: _f, version: _v, createdAt: _c, files: _files, ...rest } = ckpt.manifest;
  const hasWeights = Object.keys(ckpt.manifest.files).some((f) => f.startsWith(`${TFJS_DIR}/`));
  let weights: WeightMap | undefined;
  if (opts.weights !== false && ckpt.manifest.arch && hasWeights) {
    const all = await readWeights(ckpt);
    weights = new Map(generatorSpecs(ckpt.manifest.arch).map((s) => [s.name, all.get(s.name)!] as const).filter(([, w]) => w !== undefined));
  }
  const manifest = await saveCheckpoint(dst, { manifest: { ...rest, ...(opts.name ? { name: opts.name } : {}) }, onnx: await readOnnx(ckpt), ...(weights ? { weights } : {}) });
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
