/**
 * ESRGAN upscaling (×2, ×4) with the pretrained weights that ship in the npm package @upscalerjs/esrgan-slim
 * (an RDN: Keras layers only, 0..255 in and out), read from node_modules directly: no network, no package
 * code. Two engines on the same weights: ONNX Runtime (the graph rebuilt by esrgan-onnx.ts; the default,
 * several times faster on a CPU and the one with GPU providers) and tfjs-wasm (the Keras model as it ships).
 */
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { initBackend } from '../backend.ts';
import { RhodopsError, messageOf } from '../errors.ts';
import { createSession, defaultOrtOptions, type OrtOptions } from '../runtime/ort.ts';
import { kerasToOnnx, kerasWeights, type KerasLayer } from './esrgan-onnx.ts';

export type UpscaleFactor = 2 | 4;
export type UpscaleEngine = 'ort' | 'tfjs-wasm';

interface ModelJson {
  modelTopology: { model_config: { config: { layers: KerasLayer[]; output_layers: [string, number, number][] } } };
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
}

function modelDir(factor: UpscaleFactor): string {
  let entry: string;
  try {
    // The package exports no package.json: find its root from its entry point.
    entry = createRequire(import.meta.url).resolve('@upscalerjs/esrgan-slim');
  } catch {
    throw new RhodopsError('BAD_OPTION', 'the ESRGAN weights (@upscalerjs/esrgan-slim) are not installed', { hint: 'run npm install' });
  }
  const root = entry.slice(0, entry.lastIndexOf(`${path.sep}dist${path.sep}`));
  return path.join(root, 'models', `x${factor}`);
}

async function readModel(factor: UpscaleFactor): Promise<{ json: ModelJson; blob: Uint8Array }> {
  const dir = modelDir(factor);
  try {
    const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8')) as ModelJson;
    const parts = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => fs.readFile(path.join(dir, p))));
    return { json, blob: new Uint8Array(Buffer.concat(parts)) };
  } catch (e) {
    throw new RhodopsError('BAD_OPTION', `cannot read the ESRGAN ×${factor} weights in ${dir}: ${messageOf(e)}`, { hint: 'reinstall: npm ci' });
  }
}

export interface Upscaler {
  readonly factor: UpscaleFactor;
  readonly engine: UpscaleEngine;
  /** `batch` RGB frames of width × height → the same frames `factor` times larger, RGB bytes. */
  upscale(rgb: Uint8Array, batch: number, width: number, height: number): Promise<Uint8Array>;
  dispose(): Promise<void>;
}

const toBytes = (v: ArrayLike<number>): Uint8Array => {
  const out = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = Math.round(v[i]!); // already clipped to 0..255
  return out;
};

class OrtUpscaler implements Upscaler {
  readonly engine = 'ort';
  constructor(
    private readonly session: ort.InferenceSession,
    readonly factor: UpscaleFactor,
  ) {}
  async upscale(rgb: Uint8Array, batch: number, width: number, height: number): Promise<Uint8Array> {
    const input = new ort.Tensor('float32', Float32Array.from(rgb), [batch, height, width, 3]);
    const out = await this.session.run({ image: input });
    return toBytes(out['upscaled']!.data as Float32Array);
  }
  async dispose(): Promise<void> {
    await this.session.release();
  }
}

class TfjsUpscaler implements Upscaler {
  readonly engine = 'tfjs-wasm';
  constructor(
    private readonly model: tf.LayersModel,
    readonly factor: UpscaleFactor,
  ) {}
  async upscale(rgb: Uint8Array, batch: number, width: number, height: number): Promise<Uint8Array> {
    const out = tf.tidy(() => {
      const x = tf.tensor4d(rgb, [batch, height, width, 3], 'int32').toFloat();
      return (this.model.predict(x) as tf.Tensor4D).clipByValue(0, 255);
    });
    try {
      return toBytes(await out.data());
    } finally {
      out.dispose();
    }
  }
  async dispose(): Promise<void> {
    this.model.dispose();
  }
}

export async function openUpscaler(factor: UpscaleFactor, o: { engine?: UpscaleEngine; ort?: Partial<OrtOptions> } = {}): Promise<Upscaler> {
  const { json, blob } = await readModel(factor);
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  if ((o.engine ?? 'ort') === 'ort') {
    const config = json.modelTopology.model_config.config;
    const onnx = kerasToOnnx({ layers: config.layers, output: config.output_layers[0]![0], weights: kerasWeights(specs, blob) }, factor);
    const { session } = await createSession(onnx, { ...defaultOrtOptions(), ...o.ort }, `ESRGAN ×${factor}`);
    return new OrtUpscaler(session, factor);
  }
  await initBackend('wasm');
  const weightData = blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength) as ArrayBuffer;
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'], weightSpecs: specs as tf.io.WeightsManifestEntry[], weightData }),
  );
  return new TfjsUpscaler(model, factor);
}
