/**
 * One interface over every generator engine: latents in, frames out. Lifecycle (as magenta-js):
 * open from a checkpoint or model, use, dispose().
 */
import type { LatentSpec, OutputSpec } from '../checkpoint/manifest.ts';

export interface GeneratorInfo {
  name: string;
  kind: 'pggan' | 'infogan' | 'onnx';
  /** Human-readable engine description, e.g. "onnxruntime cpu, 2 threads". */
  engine: string;
  width: number;
  height: number;
  channels: 1 | 3;
  latent: LatentSpec;
  /** How the model's raw output is laid out (ours: NCHW in [-1, 1]). */
  output: OutputSpec;
}

/** 8-bit RGB frames, ready for an encoder: batch × height × width × 3, row-major. */
export interface RgbBatch {
  batch: number;
  width: number;
  height: number;
  data: Uint8Array;
}

/** Float frames, NHWC, normalised to [-1, 1] whatever the model's own range and layout. */
export interface FloatBatch {
  batch: number;
  width: number;
  height: number;
  channels: 1 | 3;
  data: Float32Array;
}

export interface Generator {
  readonly info: GeneratorInfo;
  /** `latents` holds `batch` rows of `info.latent.size` values. */
  generateFloat(latents: Float32Array, batch: number): Promise<FloatBatch>;
  generate(latents: Float32Array, batch: number): Promise<RgbBatch>;
  dispose(): Promise<void>;
}
