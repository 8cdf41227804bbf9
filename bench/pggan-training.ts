/**
 * PGGAN training speed on a tfjs backend: one full step (WGAN-GP critic step with its second-order penalty, then
 * a generator step, both with Adam) at 16², 32² and 64², each at its stable phase (alpha 1), with the bundled
 * demo model's widths or a preset. The configurations in the same run: the old one (one thread, the minibatch in
 * one pass, tfjs's own leakyRelu kernel and gradient, as training ran before the patch) and the new ones (the
 * patched leakyRelu, a thread per core sharing each minibatch, micro-batches fitted to the heap, WGAN-GP or
 * logistic-R1). Images per second counts real images trained on (the minibatch), as the trainer's progress bar does.
 */
import { initBackend, threadCount } from '../core/backend.ts';
import { pgganArch, type PgganWidthPreset } from '../core/models/architectures.ts';
import { gaussianArray } from '../core/random.ts';
import { PgganTrainer } from '../trainer/pggan/trainer.ts';
import { PGGAN_DEFAULTS, pgganSettingsWith, type PgganLoss, type PgganSettings } from '../trainer/pggan/settings.ts';
import { resolutionsUpTo } from '../core/models/pggan.ts';
import { measure } from './measure.ts';
import * as tf from '@tensorflow/tfjs-core';
import type { PgganArch } from '../core/models/arch.ts';
import { MicroBatchPlanner } from '../trainer/pggan/micro-batch.ts';
import { Replicas } from '../trainer/pggan/replicas.ts';
import { setFastLeakyRelu } from '../core/wasm-patches/index.ts';

export interface PgganTrainingRow {
  backend: string;
  model: string;
  /** 'old: one thread, tfjs leakyRelu, wgan-gp' (as before the training issue), 'N threads, wgan-gp' (replicas, micro-batches, patched leakyRelu), 'N threads, logistic-r1'. */
  config: string;
  /** The configuration before the training issue, which the others are compared with. */
  old: boolean;
  threads: number;
  loss: PgganLoss;
  resolution: number;
  batch: number;
  msPerStep: number;
  imagesPerSecond: number;
}

export interface PgganTrainingConfig {
  threads: number;
  loss: PgganLoss;
  old?: true;
}

export interface PgganTrainingBenchOptions {
  backend?: 'wasm' | 'cpu' | 'webgpu' | 'gpu' | 'auto';
  /** The configurations to time (default: the old one, then a thread per core with each loss). */
  configs?: PgganTrainingConfig[];
  /** Width preset, or 'demo': the bundled PGGAN's widths (the default). */
  preset?: PgganWidthPreset | 'demo';
  resolutions?: number[];
  batch?: number;
  timing?: { minRuns: number; minTimeMs: number; warmup?: number };
}

/** Settings that put the trainer straight at `res`, stable: every earlier stage has zero length. */
function stableAt(arch: PgganArch, batch: number, loss: PgganLoss): PgganSettings {
  const res = arch.maxResolution;
  return pgganSettingsWith({
    arch,
    data: 'bench',
    levels: resolutionsUpTo(res).map((r) => ({ resolution: r, batch, lr: PGGAN_DEFAULTS.lr, stabiliseKimg: r === res ? 1e6 : 0, transitionKimg: 0 })),
    loss,
  });
}

/**
 * The widths and latent the training figures in the README were measured with (the first bundled PGGAN's, a
 * small 64² model), up to `res`: fixed here so that the figures stay comparable from run to run.
 */
function demoArch(res: number): PgganArch {
  const levels = Math.log2(res) - 1;
  return { kind: 'pggan', latentSize: 64, channels: 3, maxResolution: res, widths: [64, 64, 64, 32, 16].slice(0, levels) };
}

export async function benchPgganTraining(o: PgganTrainingBenchOptions = {}): Promise<PgganTrainingRow[]> {
  const choice = await initBackend(o.backend ?? 'wasm');
  const preset = o.preset ?? 'demo';
  const batch = o.batch ?? 16;
  const timing = o.timing ?? { minRuns: 2, minTimeMs: 0, warmup: 1 };
  const threads = threadCount('auto', tf.getBackend());
  const rows: PgganTrainingRow[] = [];
  const configs = o.configs ?? [{ threads: 1, loss: 'wgan-gp', old: true }, { threads, loss: 'wgan-gp' }, { threads, loss: 'logistic-r1' }];
  for (const res of o.resolutions ?? [16, 32, 64]) {
    const arch = preset === 'demo' ? demoArch(res) : pgganArch(preset, res);
    const real = gaussianArray(batch * res * res * 3, res).map(Math.tanh);
    for (const c of configs) {
      const settings = stableAt(arch, batch, c.loss);
      setFastLeakyRelu(c.old !== true);
      const trainer = new PgganTrainer(settings);
      const replicas = c.threads > 1 ? await Replicas.start(c.threads, { backend: tf.getBackend(), settings }) : null;
      try {
        const micro = c.threads > 1 ? await new MicroBatchPlanner('auto', settings.mbstdGroup).microFor(res, batch, (k) => trainer.stepPeakBytes(real, k)) : Infinity;
        // The lazy penalty's steps are timed together: a step's time is the mean over the penalty's period.
        const steps = c.loss === 'logistic-r1' ? settings.r1Every : 1;
        const t = await measure(async () => {
          for (let i = 0; i < steps; i++) await (replicas ? replicas.step(trainer, real, micro) : trainer.trainStep(real));
        }, timing);
        const msPerStep = t.medianMs / steps;
        const name = c.old ? 'old: one thread, tfjs leakyRelu' : `${c.threads > 1 ? `${c.threads} threads` : 'one thread'}`;
        rows.push({ backend: choice.name, model: `pggan-${preset}-${res}`, config: `${name}, ${c.loss}`, old: c.old === true, threads: c.threads, loss: c.loss, resolution: res, batch, msPerStep, imagesPerSecond: (1000 * batch) / msPerStep });
      } finally {
        setFastLeakyRelu(true);
        await replicas?.close();
        trainer.dispose();
      }
    }
  }
  return rows;
}
