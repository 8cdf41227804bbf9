/** Training speed: InfoGAN steps/s and images/s for the bundled MNIST model's architecture, per tfjs backend. */
import { initBackend } from '../core/backend.ts';
import { infoganArch } from '../core/models/architectures.ts';
import { defaultDiscArch } from '../core/models/infogan-disc.ts';
import { gaussianArray } from '../core/random.ts';
import { InfoganTrainer } from '../trainer/infogan/trainer.ts';
import { INFOGAN_DEFAULTS } from '../trainer/infogan/settings.ts';
import { measure } from './measure.ts';

/** The demo model's architecture (README, "The bundled demo model"). */
export const DEMO_INFOGAN = infoganArch(28, { fcUnits: 512, widths: [64, 32] });

export interface TrainingRow {
  backend: string;
  model: string;
  batch: number;
  msPerStep: number;
  stepsPerSecond: number;
  imagesPerSecond: number;
}

export async function benchInfoganTraining(backend: 'wasm' | 'cpu' | 'webgpu' | 'gpu', batch: number, timing: { minRuns: number; minTimeMs: number; warmup: number }): Promise<TrainingRow> {
  const chosen = await initBackend(backend);
  const arch = DEMO_INFOGAN;
  const trainer = new InfoganTrainer({ ...INFOGAN_DEFAULTS, arch, disc: defaultDiscArch(arch), batch, seed: 1 });
  const real = gaussianArray(batch * 28 * 28, 2).map(Math.tanh);
  try {
    const t = await measure(async () => { await trainer.trainStep(real); }, timing);
    return { backend: chosen.name, model: 'infogan-mnist (demo)', batch, msPerStep: t.medianMs, stepsPerSecond: 1000 / t.medianMs, imagesPerSecond: (1000 * batch) / t.medianMs };
  } finally {
    trainer.dispose();
  }
}
