/** tfjs generator: the same forward pass the trainers use, on whichever tfjs backend is active. */
import * as tf from '@tensorflow/tfjs-core';
import { fullPhase, latentSizeOf, type GeneratorArch, type Phase } from '../models/arch.ts';
import { generate, generatorSpecs } from '../models/generator.ts';
import { checkParams, disposeParams, weightsToParams, type Params, type WeightMap } from '../models/params.ts';
import { latentSpecOf } from '../onnx/export.ts';
import { checkLatents, rawToFloat, rawToRgb, type RawImages } from './frames.ts';
import type { FloatBatch, Generator, GeneratorInfo, RgbBatch } from './types.ts';

export class TfjsGenerator implements Generator {
  readonly info: GeneratorInfo;
  private params: Params | null;

  constructor(
    private readonly arch: GeneratorArch,
    params: Params,
    private readonly phase: Phase = fullPhase(arch),
    name: string = arch.kind,
  ) {
    checkParams(generatorSpecs(arch), params, name);
    this.params = params;
    const res = arch.kind === 'pggan' ? phase.resolution : arch.size;
    this.info = {
      name,
      kind: arch.kind,
      engine: `tfjs ${tf.getBackend()}`,
      width: res,
      height: res,
      channels: arch.channels,
      latent: latentSpecOf(arch),
      output: { layout: 'NHWC', range: '-1..1' },
    };
  }

  static fromWeights(arch: GeneratorArch, weights: WeightMap, phase?: Phase, name?: string): TfjsGenerator {
    const params = weightsToParams(weights);
    try {
      return new TfjsGenerator(arch, params, phase, name);
    } catch (e) {
      disposeParams(params);
      throw e;
    }
  }

  private async runRaw(latents: Float32Array, batch: number): Promise<RawImages> {
    const params = this.params;
    if (!params) throw new Error('TfjsGenerator used after dispose()');
    checkLatents(latents, batch, latentSizeOf(this.arch), this.info.name);
    const images = tf.tidy(() => generate(this.arch, params, tf.tensor2d(latents, [batch, latentSizeOf(this.arch)]), this.phase));
    try {
      const data = (await images.data()) as Float32Array;
      return { data, batch, channels: this.info.channels, width: this.info.width, height: this.info.height, spec: this.info.output };
    } finally {
      images.dispose();
    }
  }

  async generate(latents: Float32Array, batch: number): Promise<RgbBatch> {
    return rawToRgb(await this.runRaw(latents, batch));
  }

  async generateFloat(latents: Float32Array, batch: number): Promise<FloatBatch> {
    return rawToFloat(await this.runRaw(latents, batch));
  }

  async dispose(): Promise<void> {
    if (this.params) disposeParams(this.params);
    this.params = null;
  }
}
