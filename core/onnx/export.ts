/** Exports any of our generators to ONNX: input 'latent' [N, L], output 'image' [N, C, H, W] in [-1, 1]. */
import { fullPhase, latentSizeOf, type GeneratorArch, type Phase } from '../models/arch.ts';
import type { WeightMap } from '../models/params.ts';
import type { LatentSpec, OutputSpec } from '../checkpoint/manifest.ts';
import { exportInfogan } from './export-infogan.ts';
import { exportPggan, type ConvProbe } from './export-pggan.ts';
import type { Int8Plan } from './quantize.ts';

export const ONNX_INPUT = 'latent';
export const ONNX_OUTPUT = 'image';
export const EXPORTED_OUTPUT: OutputSpec = { layout: 'NCHW', range: '-1..1' };

export function latentSpecOf(arch: GeneratorArch): LatentSpec {
  return arch.kind === 'pggan'
    ? { size: arch.latentSize, noise: arch.latentSize, categorical: [], continuous: 0, distribution: 'normal' }
    : { size: latentSizeOf(arch), noise: arch.noise, categorical: arch.categorical, continuous: arch.continuous, distribution: 'normal' };
}

export interface ExportOptions {
  /** PGGAN only: int8 3×3 convs with these calibrated ranges (see core/runtime/int8.ts). */
  int8?: Int8Plan;
  /** PGGAN only: also output every 3×3 conv's input and output (for calibration); filled with their names. */
  probes?: Map<string, ConvProbe>;
}

export function exportGeneratorOnnx(arch: GeneratorArch, weights: WeightMap, phase: Phase = fullPhase(arch), o: ExportOptions = {}): Uint8Array {
  if (arch.kind !== 'pggan' && (o.int8 || o.probes)) throw new Error('exportGeneratorOnnx: int8 and probes are for PGGAN generators');
  const { graph, output } = arch.kind === 'pggan' ? exportPggan(arch, weights, phase, o) : exportInfogan(arch, weights);
  graph.op('Identity', [output], {}, ONNX_OUTPUT);
  const probed = [...new Set([...(o.probes?.values() ?? [])].flatMap((p) => [p.input, p.output]))];
  const res = arch.kind === 'pggan' ? phase.resolution : arch.size;
  return graph.encode({
    graphName: `rhodops_${arch.kind}_${res}`,
    docString: `rhodops ${arch.kind} generator, ${res}×${res}, ${arch.channels} channel(s)`,
    inputs: [{ name: ONNX_INPUT, dims: ['batch', latentSizeOf(arch)] }],
    outputs: [{ name: ONNX_OUTPUT, dims: ['batch', arch.channels, res, res] }, ...probed.map((name) => ({ name, dims: ['batch', `${name}_c`, `${name}_h`, `${name}_w`] }))],
    metadata: {
      'rhodops.latent': JSON.stringify(latentSpecOf(arch)),
      'rhodops.output': JSON.stringify(EXPORTED_OUTPUT),
    },
  });
}
