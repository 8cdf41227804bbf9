/** One entry point over every generator architecture, for the exporter, runtimes and tests. */
import type * as tf from '@tensorflow/tfjs-core';
import { fullPhase, type GeneratorArch, type Phase } from './arch.ts';
import { infoganFlops, infoganGenerate, infoganGeneratorSpecs } from './infogan.ts';
import { pgganFlops, pgganGenerate, pgganGeneratorSpecs } from './pggan.ts';
import type { ParamSpec, Params } from './params.ts';

export function generatorSpecs(arch: GeneratorArch): ParamSpec[] {
  return arch.kind === 'pggan' ? pgganGeneratorSpecs(arch) : infoganGeneratorSpecs(arch);
}

export function generate(arch: GeneratorArch, params: Params, latents: tf.Tensor2D, phase: Phase = fullPhase(arch)): tf.Tensor4D {
  return arch.kind === 'pggan' ? pgganGenerate(arch, params, latents, phase) : infoganGenerate(arch, params, latents);
}

export function generatorFlops(arch: GeneratorArch, phase: Phase = fullPhase(arch)): number {
  return arch.kind === 'pggan' ? pgganFlops(arch, phase) : infoganFlops(arch);
}
