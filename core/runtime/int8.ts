/**
 * An int8 PGGAN generator for ONNX Runtime on CPU, built from a checkpoint's float weights when a model is
 * opened: the float graph is run on seeded latents with every 3×3 conv's input and output exposed, their
 * ranges become the uint8 grids, and the quantized graph is checked against the float one (PSNR) before use.
 * No data is needed: the generator's input distribution is known (and pixel-normalised at once).
 */
import { readFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { Phase, PgganArch } from '../models/arch.ts';
import type { WeightMap } from '../models/params.ts';
import type { ConvProbe } from '../onnx/export-pggan.ts';
import { exportGeneratorOnnx, ONNX_INPUT, ONNX_OUTPUT } from '../onnx/export.ts';
import type { ConvRanges, Range } from '../onnx/quantize.ts';
import { gaussianArray } from '../random.ts';
import { createSession, type OrtOptions } from './ort.ts';
import { errorFrom, firstMessage, startWorker, type ErrorMessage } from './worker.ts';

/** Below this the int8 model visibly differs from the float one; the float one plays instead. */
export const MIN_INT8_PSNR_DB = 25;

const CALIBRATION_LATENTS = 16;
const CHECK_LATENTS = 8;
const BATCH = 8;

export interface Int8Build {
  model: Uint8Array;
  /** The int8 model's images against the float model's, on latents not used for calibration (range −1..1). */
  psnrDb: number;
  /** 3×3 convs quantized. */
  convs: number;
  weightBits: 7 | 8;
  ms: number;
}

async function runBatches(session: ort.InferenceSession, latents: Float32Array, latentSize: number, each: (out: ort.InferenceSession.OnnxValueMapType) => void): Promise<void> {
  const n = latents.length / latentSize;
  for (let i = 0; i < n; i += BATCH) {
    const b = Math.min(BATCH, n - i);
    const z = new ort.Tensor('float32', latents.subarray(i * latentSize, (i + b) * latentSize), [b, latentSize]);
    const out = await session.run({ [ONNX_INPUT]: z });
    try {
      each(out);
    } finally {
      for (const t of Object.values(out)) t.dispose();
    }
  }
}

function extend(r: Range, data: Float32Array): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < r.min) r.min = v;
    if (v > r.max) r.max = v;
  }
}

export function psnr(a: Float32Array, b: Float32Array, peakToPeak = 2): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
  const mse = se / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((peakToPeak * peakToPeak) / mse);
}

/** 8-bit weights where the CPU multiplies without saturating (see Int8Plan); 7 where that is unknown. */
export function weightBitsForThisCpu(): 7 | 8 {
  if (process.arch === 'arm64') return 8;
  if (process.arch !== 'x64') return 7;
  try {
    return /\b(avx512_vnni|avx_vnni)\b/.test(readFileSync('/proc/cpuinfo', 'utf8')) ? 8 : 7;
  } catch {
    return 7; // not Linux: no cheap way to ask, so the safe grid
  }
}

export async function buildInt8Pggan(arch: PgganArch, weights: WeightMap, phase: Phase, ortOptions: OrtOptions, where: string, weightBits = weightBitsForThisCpu()): Promise<Int8Build> {
  const started = performance.now();
  const probes = new Map<string, ConvProbe>();
  const probed = exportGeneratorOnnx(arch, weights, phase, { probes });
  const cpu: OrtOptions = { ...ortOptions, executionProvider: 'cpu' };
  const float = (await createSession(probed, cpu, where)).session;
  const ranges = new Map<string, ConvRanges>();
  // The check images of both models, filled batch by batch.
  const imageValues = CHECK_LATENTS * arch.channels * phase.resolution ** 2;
  const reference = new Float32Array(imageValues);
  const got = new Float32Array(imageValues);
  const collect = (into: Float32Array) => {
    let at = 0;
    return (out: ort.InferenceSession.OnnxValueMapType) => {
      const images = out[ONNX_OUTPUT]!.data as Float32Array;
      into.set(images, at);
      at += images.length;
    };
  };
  try {
    // Full min/max: clipping even 0.01 % of values costs PSNR (pixel norm makes rare, large activations that matter).
    const tensorRanges = new Map<string, Range>();
    for (const p of probes.values()) for (const t of [p.input, p.output]) tensorRanges.set(t, { min: Infinity, max: -Infinity });
    await runBatches(float, gaussianArray(CALIBRATION_LATENTS * arch.latentSize, 0x1a8), arch.latentSize, (out) => {
      for (const [name, r] of tensorRanges) extend(r, out[name]!.data as Float32Array);
    });
    for (const [prefix, p] of probes) ranges.set(prefix, { input: tensorRanges.get(p.input)!, output: tensorRanges.get(p.output)! });
    await runBatches(float, gaussianArray(CHECK_LATENTS * arch.latentSize, 0x2b9), arch.latentSize, collect(reference));
  } finally {
    await float.release();
  }
  const model = exportGeneratorOnnx(arch, weights, phase, { int8: { ranges, weightBits } });
  const quantized = (await createSession(model, cpu, `${where} (int8)`)).session;
  try {
    await runBatches(quantized, gaussianArray(CHECK_LATENTS * arch.latentSize, 0x2b9), arch.latentSize, collect(got));
  } finally {
    await quantized.release();
  }
  return { model, psnrDb: psnr(reference, got), convs: ranges.size, weightBits, ms: performance.now() - started };
}

export interface Int8Job {
  arch: PgganArch;
  weights: WeightMap;
  phase: Phase;
  ortOptions: OrtOptions;
  where: string;
  weightBits: 7 | 8;
}

type Int8Reply = { ok: true; build: Int8Build } | ({ ok: false } & ErrorMessage);

/**
 * buildInt8Pggan off the main thread: calibration runs the float model for seconds, and a live server
 * switching models must keep playing meanwhile. On another thread already (a render's engine) it runs there.
 */
export async function buildInt8PgganAside(arch: PgganArch, weights: WeightMap, phase: Phase, ortOptions: OrtOptions, where: string): Promise<Int8Build> {
  const weightBits = weightBitsForThisCpu();
  if (!isMainThread) return buildInt8Pggan(arch, weights, phase, ortOptions, where, weightBits);
  const job: Int8Job = { arch, weights, phase, ortOptions, where, weightBits };
  const worker = startWorker(new URL('./int8-worker-main.ts', import.meta.url), job);
  try {
    const reply = await firstMessage<Int8Reply>(worker, `calibrating int8 for ${where}`);
    if (reply.ok) return { ...reply.build, model: new Uint8Array(reply.build.model) };
    throw errorFrom(reply);
  } finally {
    await worker.terminate();
  }
}
