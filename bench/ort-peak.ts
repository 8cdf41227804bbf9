/** The machine's matmul peak through ONNX Runtime, with the same session settings the generators use. */
import * as ort from 'onnxruntime-node';
import { OnnxGraph } from '../core/onnx/graph.ts';
import { createSession, defaultOrtOptions, type OrtOptions } from '../core/runtime/ort.ts';
import { measure } from './measure.ts';

export interface PeakResult {
  gflops: number;
  /** The square size that reached it. */
  size: number;
}

function matmulModel(n: number): Uint8Array {
  const g = new OnnxGraph();
  const b = new Float32Array(n * n).map((_, i) => ((i * 2654435761) % 1000) / 1000 - 0.5);
  g.op('MatMul', [g.input('a'), g.floats('b', b, [n, n])], {}, 'c');
  return g.encode({ graphName: 'matmul', inputs: [{ name: 'a', dims: [n, n] }], outputs: [{ name: 'c', dims: [n, n] }] });
}

/**
 * A 3×3 conv probe (256 channels at 64²) for context: ORT's direct NCHWc conv kernels can beat its
 * SGEMM, so generators may exceed the matmul "peak" on some CPUs.
 */
export async function ortConvProbe(options: Partial<OrtOptions>, minTimeMs: number): Promise<number> {
  const c = 256;
  const r = 64;
  const g = new OnnxGraph();
  const w = new Float32Array(c * c * 9).map((_, i) => ((i * 2654435761) % 1000) / 1e5);
  g.op('Conv', [g.input('x'), g.floats('w', w, [c, c, 3, 3])], { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } }, 'y');
  const model = g.encode({ graphName: 'conv', inputs: [{ name: 'x', dims: [1, c, r, r] }], outputs: [{ name: 'y', dims: [1, c, r, r] }] });
  const { session } = await createSession(model, { ...defaultOrtOptions(), ...options }, 'conv probe');
  const x = new ort.Tensor('float32', new Float32Array(c * r * r).fill(0.5), [1, c, r, r]);
  const t = await measure(async () => (await session.run({ x }))['y']?.dispose(), { minRuns: 5, minTimeMs, warmup: 2 });
  await session.release();
  return (2 * 9 * c * c * r * r) / (t.medianMs * 1e6);
}

export async function ortMatmulPeak(options: Partial<OrtOptions>, sizes: number[], minTimeMs: number): Promise<PeakResult> {
  let best: PeakResult = { gflops: 0, size: 0 };
  for (const n of sizes) {
    const { session } = await createSession(matmulModel(n), { ...defaultOrtOptions(), ...options }, `matmul ${n}`);
    const a = new ort.Tensor('float32', new Float32Array(n * n).fill(0.5), [n, n]);
    const t = await measure(async () => (await session.run({ a }))['c']?.dispose(), { minRuns: 5, minTimeMs, warmup: 2 });
    const gflops = (2 * n ** 3) / (t.medianMs * 1e6);
    if (gflops > best.gflops) best = { gflops, size: n };
    await session.release();
  }
  return best;
}
