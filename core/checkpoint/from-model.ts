/** Saves a generator of ours (architecture + weights) as a complete checkpoint: manifest, tfjs weights, ONNX. */
import { fullPhase, type GeneratorArch, type Phase } from '../models/arch.ts';
import type { WeightMap } from '../models/params.ts';
import { EXPORTED_OUTPUT, exportGeneratorOnnx, latentSpecOf, ONNX_INPUT, ONNX_OUTPUT } from '../onnx/export.ts';
import { ONNX_FILE, saveCheckpoint } from './io.ts';
import type { Manifest } from './manifest.ts';

export interface ModelCheckpointOptions {
  name: string;
  phase?: Phase;
  /** Weights beyond the generator's (discriminator, optimizer state) to keep for resuming. */
  extraWeights?: WeightMap;
  training?: { step: number; imagesSeen: number };
  dataset?: Record<string, unknown>;
  settings?: Record<string, unknown>;
}

export async function saveModelCheckpoint(
  dir: string,
  arch: GeneratorArch,
  generatorWeights: WeightMap,
  opts: ModelCheckpointOptions,
): Promise<Manifest> {
  const phase = opts.phase ?? fullPhase(arch);
  const weights: WeightMap = new Map([...generatorWeights, ...(opts.extraWeights ?? [])]);
  return saveCheckpoint(dir, {
    manifest: {
      kind: arch.kind,
      name: opts.name,
      resolution: phase.resolution,
      channels: arch.channels,
      output: EXPORTED_OUTPUT,
      latent: latentSpecOf(arch),
      onnx: { file: ONNX_FILE, input: ONNX_INPUT, output: ONNX_OUTPUT },
      arch,
      ...(opts.training || arch.kind === 'pggan'
        ? { training: { step: 0, imagesSeen: 0, ...opts.training, ...(arch.kind === 'pggan' ? { phase } : {}) } }
        : {}),
      ...(opts.dataset ? { dataset: opts.dataset } : {}),
      ...(opts.settings ? { settings: opts.settings } : {}),
    },
    onnx: exportGeneratorOnnx(arch, generatorWeights, phase),
    weights,
  });
}
