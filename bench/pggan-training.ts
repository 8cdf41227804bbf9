/**
 * PGGAN training speed on a tfjs backend: one full step (WGAN-GP critic step with its second-order penalty, then
 * a generator step, both with Adam) at 16², 32² and 64², each at its stable phase (alpha 1) with a width preset.
 * Images per second counts real images trained on (the minibatch), as the trainer's progress bar does.
 */
import { initBackend } from '../core/backend.ts';
import { pgganArch, type PgganWidthPreset } from '../core/models/architectures.ts';
import { gaussianArray } from '../core/random.ts';
import { PgganTrainer } from '../trainer/pggan/trainer.ts';
import { GUARD_DEFAULTS, PGGAN_DEFAULTS, type PgganSettings } from '../trainer/pggan/settings.ts';
import { resolutionsUpTo } from '../core/models/pggan.ts';
import { measure } from './measure.ts';

export interface PgganTrainingRow {
  backend: string;
  model: string;
  resolution: number;
  batch: number;
  msPerStep: number;
  imagesPerSecond: number;
}

export interface PgganTrainingBenchOptions {
  backend?: 'wasm' | 'cpu' | 'auto';
  /** Width preset (default 'narrow', the lightest; 'mid' is the server's default class). */
  preset?: PgganWidthPreset;
  resolutions?: number[];
  batch?: number;
  timing?: { minRuns: number; minTimeMs: number; warmup?: number };
}

/** Settings that put the trainer straight at `res`, stable: every earlier stage has zero length. */
function stableAt(preset: PgganWidthPreset, res: number, batch: number): PgganSettings {
  return {
    trainer: 'pggan',
    arch: pgganArch(preset, res),
    data: 'bench',
    seed: 1,
    levels: resolutionsUpTo(res).map((r) => ({ resolution: r, batch, lr: PGGAN_DEFAULTS.lr, stabiliseKimg: r === res ? 1e6 : 0, transitionKimg: 0 })),
    lambdaGp: PGGAN_DEFAULTS.lambdaGp,
    drift: PGGAN_DEFAULTS.drift,
    beta1: PGGAN_DEFAULTS.beta1,
    beta2: PGGAN_DEFAULTS.beta2,
    epsilon: PGGAN_DEFAULTS.epsilon,
    lrScaleG: 1,
    lrScaleD: 1,
    mbstdGroup: PGGAN_DEFAULTS.mbstdGroup,
    mirror: false,
    invert: false,
    checkpointEveryKimg: 0,
    guard: { ...GUARD_DEFAULTS, enabled: false },
  };
}

export async function benchPgganTraining(o: PgganTrainingBenchOptions = {}): Promise<PgganTrainingRow[]> {
  const choice = await initBackend(o.backend ?? 'wasm');
  const preset = o.preset ?? 'narrow';
  const batch = o.batch ?? 16;
  const timing = o.timing ?? { minRuns: 2, minTimeMs: 0, warmup: 1 };
  const rows: PgganTrainingRow[] = [];
  for (const res of o.resolutions ?? [16, 32, 64]) {
    const trainer = new PgganTrainer(stableAt(preset, res, batch));
    const real = gaussianArray(batch * res * res * 3, res).map(Math.tanh);
    try {
      const t = await measure(async () => trainer.trainStep(real), timing);
      rows.push({ backend: choice.name, model: `pggan-${preset}-${res}`, resolution: res, batch, msPerStep: t.medianMs, imagesPerSecond: (1000 * batch) / t.medianMs });
    } finally {
      trainer.dispose();
    }
  }
  return rows;
}
