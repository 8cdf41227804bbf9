/** Engine × generator × batch sweep: ms/frame, fps, GFLOPS and share of the ORT matmul peak. */
import { latentSizeOf, type GeneratorArch } from '../core/models/arch.ts';
import { generatorFlops } from '../core/models/generator.ts';
import { infoganArch, pgganArch, type PgganWidthPreset } from '../core/models/architectures.ts';
import { EXPORTED_OUTPUT, exportGeneratorOnnx, latentSpecOf } from '../core/onnx/export.ts';
import { OrtGenerator, type OrtOptions } from '../core/runtime/ort.ts';
import { TfjsGenerator } from '../core/runtime/tfjs.ts';
import type { Generator } from '../core/runtime/types.ts';
import { generatorSpecs } from '../core/models/generator.ts';
import { initWeights } from '../core/models/params.ts';
import { gaussianArray } from '../core/random.ts';
import { measure } from './measure.ts';

export type BenchEngine = 'ort' | 'tfjs-wasm';

export interface BenchModel {
  id: string;
  arch: GeneratorArch;
}

export function benchModels(quick: boolean): BenchModel[] {
  const pg = (w: PgganWidthPreset, r: number): BenchModel => ({ id: `pggan-${w}-${r}`, arch: pgganArch(w, r) });
  const all: BenchModel[] = [];
  for (const w of ['full', 'mid', 'narrow'] as const) for (const r of [64, 128, 256]) all.push(pg(w, r));
  all.push({ id: 'infogan-64', arch: infoganArch(64) });
  const quickSet = new Set(['pggan-full-64', 'pggan-mid-128', 'pggan-mid-256', 'pggan-narrow-256', 'infogan-64']);
  return quick ? all.filter((m) => quickSet.has(m.id)) : all;
}

export interface GeneratorRow {
  engine: BenchEngine;
  model: string;
  batch: number;
  gflopPerFrame: number;
  msPerFrame: number;
  fps: number;
  gflops: number;
  runs: number;
}

export async function benchGenerator(
  model: BenchModel,
  engine: BenchEngine,
  batches: number[],
  ort: Partial<OrtOptions>,
  timing: { minRuns: number; minTimeMs: number },
): Promise<GeneratorRow[]> {
  const weights = initWeights(generatorSpecs(model.arch), 1);
  const gen: Generator =
    engine === 'ort'
      ? await OrtGenerator.open(exportGeneratorOnnx(model.arch, weights), { name: model.id, kind: model.arch.kind, where: model.id, latent: latentSpecOf(model.arch), output: EXPORTED_OUTPUT }, ort)
      : TfjsGenerator.fromWeights(model.arch, weights, undefined, model.id);
  const rows: GeneratorRow[] = [];
  const flop = generatorFlops(model.arch);
  try {
    for (const batch of batches) {
      const z = gaussianArray(batch * latentSizeOf(model.arch), batch);
      const t = await measure(() => gen.generate(z, batch), timing);
      const msPerFrame = t.medianMs / batch;
      rows.push({
        engine,
        model: model.id,
        batch,
        gflopPerFrame: flop / 1e9,
        msPerFrame,
        fps: 1000 / msPerFrame,
        gflops: flop / (msPerFrame * 1e6),
        runs: t.runs,
      });
    }
  } finally {
    await gen.dispose();
  }
  return rows;
}
