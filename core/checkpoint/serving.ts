/**
 * A serving-only copy of a checkpoint: manifest + generator.onnx (+ samples) + the generator's float weights,
 * without the critic and optimizer state, which are several times larger. What a user shares, and what
 * rhodops bundles as its demo models. The generator's weights let the copy play on tfjs and in int8.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RhodopsError } from '../errors.ts';
import { logger } from '../log.ts';
import type { Phase } from '../models/arch.ts';
import { generatorSpecs } from '../models/generator.ts';
import type { WeightMap } from '../models/params.ts';
import { exportGeneratorOnnx } from '../onnx/export.ts';
import { openCheckpoint, readOnnx, readWeights, saveCheckpoint, TFJS_DIR } from './io.ts';
import type { Manifest } from './manifest.ts';

const log = logger('export');

export interface ExportOptions {
  samples?: boolean;
  weights?: boolean;
  name?: string;
  /**
   * A PGGAN's output at an earlier resolution than the checkpoint's phase (α = 1 there): the 64² picture of a
   * run that has started growing to 128², say, which plays four times cheaper.
   */
  resolution?: number;
}

export async function exportServing(src: string, dst: string, opts: ExportOptions = {}): Promise<Manifest> {
  const ckpt = await openCheckpoint(src);
  const { format: _f, version: _v, createdAt: _c, files: _files, ...rest } = ckpt.manifest;
  const hasWeights = Object.keys(ckpt.manifest.files).some((f) => f.startsWith(`${TFJS_DIR}/`));
  const all = hasWeights && (opts.weights !== false || opts.resolution !== undefined) ? await readWeights(ckpt) : undefined;
  const arch = ckpt.manifest.arch;
  const weights: WeightMap | undefined =
    opts.weights !== false && arch && all
      ? new Map(generatorSpecs(arch).map((s) => [s.name, all.get(s.name)!] as const).filter(([, w]) => w !== undefined))
      : undefined;

  let manifest = { ...rest, ...(opts.name ? { name: opts.name } : {}) };
  let onnx = await readOnnx(ckpt);
  let keepSample = (_file: string) => true;
  if (opts.resolution !== undefined) {
    if (arch?.kind !== 'pggan' || !all) {
      throw new RhodopsError('BAD_OPTION', `--resolution ${opts.resolution}: ${src} is not a PGGAN checkpoint with its weights`, {
        hint: 'only a progressively grown PGGAN has earlier resolutions; leave --resolution out',
      });
    }
    const phase = earlierPhase(ckpt.manifest.training?.phase ?? { resolution: arch.maxResolution, alpha: 1 }, opts.resolution, src);
    onnx = exportGeneratorOnnx(arch, all, phase);
    manifest = { ...manifest, resolution: phase.resolution, training: { step: 0, imagesSeen: 0, ...manifest.training, phase } };
    // The grids and walks of the resolutions it has; `latest.png` is of the checkpoint's own phase.
    keepSample = (f) => Number(/^r(\d{4})-/.exec(f)?.[1] ?? Infinity) <= phase.resolution;
  }

  const saved = await saveCheckpoint(dst, { manifest, onnx, ...(weights ? { weights } : {}) });
  if (opts.samples !== false) {
    const samples = path.join(ckpt.dir, 'samples');
    const files = await fs.readdir(samples).catch(() => [] as string[]);
    // The latest sheets and the animations; the per-epoch frames stay with the training run.
    const keep = files.filter((f) => !/-e\d{4}\.png$/.test(f) && keepSample(f));
    if (keep.length) await fs.mkdir(path.join(dst, 'samples'), { recursive: true });
    for (const f of keep) await fs.copyFile(path.join(samples, f), path.join(dst, 'samples', f));
  }
  return saved;
}

/**
 * The phase that plays `resolution` at full strength. Its output layer must have trained: the current
 * resolution once faded in, or the one below while the next fades in (its layer is the fade's other branch).
 */
function earlierPhase(at: Phase, resolution: number, src: string): Phase {
  const valid: number[] = [];
  for (let r = 4; r <= at.resolution; r *= 2) valid.push(r);
  if (!valid.includes(resolution)) {
    throw new RhodopsError('BAD_OPTION', `--resolution ${resolution}: ${src} has ${valid.join(', ')} (it is at ${at.resolution}², α ${at.alpha.toFixed(2)})`, {
      hint: `pick one of ${valid.join(', ')}`,
    });
  }
  if (resolution === at.resolution && at.alpha < 1) {
    throw new RhodopsError('BAD_OPTION', `--resolution ${resolution}: ${src} is still fading in ${resolution}² (α ${at.alpha.toFixed(2)})`, {
      hint: `export --resolution ${resolution / 2}, or train on to the end of the fade`,
    });
  }
  const fading = at.alpha < 1 && resolution === at.resolution / 2;
  if (resolution < at.resolution && !fading) {
    log.warn(`--resolution ${resolution}: its output layer has not trained since the model grew past ${resolution}²; colours may have drifted (compare the samples)`);
  }
  return { resolution, alpha: 1 };
}
