/** Small models the tests build themselves, with every weight (batchnorm statistics too) random. */
import * as tf from '@tensorflow/tfjs-core';
import type { GeneratorArch } from '../../core/models/arch.ts';
import { generatorSpecs } from '../../core/models/generator.ts';
import { initWeights, type WeightMap } from '../../core/models/params.ts';
import { gaussianArray as gaussian } from '../../core/random.ts';

export { gaussian };

/** Random weights for an architecture: normal weights, non-trivial biases and batchnorm statistics. */
export function randomWeights(arch: GeneratorArch, seed: number): WeightMap {
  const specs = generatorSpecs(arch);
  const out = initWeights(specs, seed);
  // Initial biases are zero and statistics trivial; make them matter so the export must get them right.
  specs.forEach((s, i) => {
    if (s.init === 'normal') return;
    const noise = gaussian(out.get(s.name)!.data.length, seed * 1000 + i, 0.1);
    const data = s.name.endsWith('/variance') ? noise.map((v) => 0.5 + Math.abs(v) * 50) : s.name.endsWith('/gamma') ? noise.map((v) => 1 + 10 * v) : noise;
    out.set(s.name, { shape: s.shape, data });
  });
  return out;
}

export function relativeRms(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

export async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  tf.env().set('PROD', true);
  await tf.setBackend(name);
  await tf.ready();
}
