/**
 * The engine the render loop calls: one Generator at a time, replaced at a frame boundary. A new model
 * loads in the background while the old one keeps playing; a model that fails to load leaves the old
 * one playing and reports why. A GPU provider that fails mid-show (a lost device, a driver reset) hands over
 * to the CPU: the same model opens there and the show goes on, slower, with one warning.
 */
import { logger } from '../core/log.ts';
import { RhodopsError, messageOf } from '../core/errors.ts';
import { openGenerator, type OpenOptions } from '../core/runtime/open.ts';
import type { Generator, GeneratorInfo, RgbBatch } from '../core/runtime/types.ts';

const log = logger('engine');

export interface ModelRef {
  /** What the user named: a checkpoint directory or .onnx file. */
  path: string;
  info: GeneratorInfo;
}

export class Engine {
  private current: { gen: Generator; ref: ModelRef };
  private pending: Promise<ModelRef> | null = null;
  private next: { gen: Generator; ref: ModelRef } | null = null;
  /** Exponential moving average of the engine's time per frame. */
  engineMs = 0;

  private constructor(gen: Generator, path: string, private openOptions: OpenOptions) {
    this.current = { gen, ref: { path, info: gen.info } };
  }

  static async open(path: string, openOptions: OpenOptions = {}): Promise<Engine> {
    return new Engine(await openGenerator(path, openOptions), path, openOptions);
  }

  get model(): ModelRef {
    return this.current.ref;
  }

  get switching(): boolean {
    return this.pending !== null;
  }

  /** Starts loading another model; it replaces the current one at the next frame boundary. */
  switchTo(path: string): Promise<ModelRef> {
    if (this.pending) return Promise.reject(new RhodopsError('BUSY', 'a model switch is already in progress', { hint: 'wait for it: the new model takes over when it has loaded' }));
    const started = performance.now();
    this.pending = openGenerator(path, this.openOptions)
      .then((gen) => {
        this.next = { gen, ref: { path, info: gen.info } };
        log.info(`loaded ${gen.info.name} in ${(performance.now() - started).toFixed(0)} ms; switching at the next frame`);
        return this.next.ref;
      })
      .catch((e: unknown) => {
        log.warn(`could not load ${path}: ${messageOf(e)}; still playing ${this.current.ref.info.name}`);
        throw e;
      })
      .finally(() => {
        this.pending = null;
      });
    return this.pending;
  }

  /** Applies a loaded switch, if any: called by the loop between frames. Returns true if the model changed. */
  swapIfReady(): boolean {
    if (!this.next) return false;
    const old = this.current;
    this.current = this.next;
    this.next = null;
    void old.gen.dispose();
    return true;
  }

  async render(latent: Float32Array): Promise<RgbBatch> {
    const t0 = performance.now();
    const frame = await this.current.gen.generate(latent, 1).catch(async (e: unknown) => {
      if (!onGpu(this.current.gen.info)) throw e;
      await this.fallBackToCpu(e);
      return this.current.gen.generate(latent, 1);
    });
    const ms = performance.now() - t0;
    this.engineMs = this.engineMs === 0 ? ms : this.engineMs * 0.9 + ms * 0.1;
    return frame;
  }

  /** Reopens the current model on the CPU, for this frame and every model after it. */
  private async fallBackToCpu(e: unknown): Promise<void> {
    const failed = this.current;
    log.warn(`${failed.ref.info.engine} failed (${messageOf(e)}); playing ${failed.ref.info.name} on the CPU from now on`);
    this.openOptions = { ...this.openOptions, ort: { ...this.openOptions.ort, executionProvider: 'cpu' } };
    const gen = await openGenerator(failed.ref.path, this.openOptions);
    this.current = { gen, ref: { path: failed.ref.path, info: gen.info } };
    void failed.gen.dispose().catch(() => undefined);
  }

  /** A batch from the current model outside the loop (principal directions); not counted in engineMs. */
  sample(latents: Float32Array, batch: number): Promise<RgbBatch> {
    return this.current.gen.generate(latents, batch);
  }

  async close(): Promise<void> {
    await this.pending?.catch(() => undefined);
    await this.next?.gen.dispose();
    await this.current.gen.dispose();
  }
}

/** Whether a generator runs on a GPU provider (its engine is named after the provider). */
function onGpu(info: GeneratorInfo): boolean {
  return info.engine.startsWith('onnxruntime ') && !info.engine.startsWith('onnxruntime cpu');
}
