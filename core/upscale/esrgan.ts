/**
 * ESRGAN upscaling (×2, ×4) with the pretrained weights that ship in the npm package @upscalerjs/esrgan-slim
 * (an RDN, 0..255 in and out, Keras layers only), run by tfjs on the wasm backend. Its model.json and weights
 * are read from node_modules directly: no network, no package code.
 */
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../backend.ts';
import { RhodopsError, messageOf } from '../errors.ts';

export type UpscaleFactor = 2 | 4;

interface ModelJson {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
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

export class EsrganUpscaler {
  private constructor(
    private readonly model: tf.LayersModel,
    readonly factor: UpscaleFactor,
  ) {}

  static async open(factor: UpscaleFactor, backend: BackendName = 'wasm'): Promise<EsrganUpscaler> {
    await initBackend(backend);
    const dir = modelDir(factor);
    let json: ModelJson;
    let weightData: ArrayBuffer;
    try {
      json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8')) as ModelJson;
      const parts = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => fs.readFile(path.join(dir, p))));
      const all = Buffer.concat(parts);
      weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
    } catch (e) {
      throw new RhodopsError('BAD_OPTION', `cannot read the ESRGAN ×${factor} weights in ${dir}: ${messageOf(e)}`, { hint: 'reinstall: npm ci' });
    }
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'], weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData }),
    );
    return new EsrganUpscaler(model, factor);
  }

  /** `batch` RGB frames of width × height → the same frames `factor` times larger, RGB bytes. */
  async upscale(rgb: Uint8Array, batch: number, width: number, height: number): Promise<Uint8Array> {
    const out = tf.tidy(() => {
      const x = tf.tensor4d(rgb, [batch, height, width, 3], 'int32').toFloat();
      const y = this.model.predict(x) as tf.Tensor4D;
      return y.clipByValue(0, 255).round().toInt();
    });
    try {
      return Uint8Array.from(await out.data());
    } finally {
      out.dispose();
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}
