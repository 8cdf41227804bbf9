/**
 * A generator on its own thread. onnxruntime-node runs a session synchronously on the calling thread, so on
 * the main thread nothing else moves while a batch is made: an offline render could not feed ffmpeg then,
 * and waited for it afterwards. Here the engine makes batch k+1 while the main thread converts and pipes
 * batch k. Latents and frames cross as transferred buffers (no copies).
 */
import type { Worker } from 'node:worker_threads';
import type { OpenOptions } from './open.ts';
import type { FloatBatch, Generator, GeneratorInfo, RgbBatch } from './types.ts';
import { errorFrom, firstMessage, startWorker, WorkerChannel, type ErrorMessage } from './worker.ts';

export type WorkerRequest =
  | { id: number; kind: 'rgb' | 'float'; latents: Float32Array; batch: number }
  | { id: number; kind: 'dispose' };

export type WorkerReply =
  | { id: number; kind: 'ready'; info: GeneratorInfo }
  | { id: number; kind: 'rgb'; out: RgbBatch }
  | { id: number; kind: 'float'; out: FloatBatch }
  | { id: number; kind: 'disposed' }
  | ({ id: number; kind: 'error' } & ErrorMessage);

export class ThreadedGenerator implements Generator {
  private readonly channel: WorkerChannel<WorkerRequest, WorkerReply>;

  private constructor(
    worker: Worker,
    readonly info: GeneratorInfo,
  ) {
    this.channel = new WorkerChannel(worker, 'that ran the generator');
  }

  static async open(target: string, options: OpenOptions = {}): Promise<ThreadedGenerator> {
    const worker = startWorker(new URL('./engine-worker-main.ts', import.meta.url), { target, options });
    const ready = await firstMessage<WorkerReply>(worker, `opening ${target}`);
    if (ready.kind !== 'ready') {
      await worker.terminate();
      throw ready.kind === 'error' ? errorFrom(ready) : new Error(`unexpected first message '${ready.kind}' from the generator's thread`);
    }
    return new ThreadedGenerator(worker, ready.info);
  }

  /** The latents are copied once, so the caller may reuse its array (the copy is what travels). */
  private async run<K extends 'rgb' | 'float'>(kind: K, latents: Float32Array, batch: number): Promise<Extract<WorkerReply, { kind: K }>> {
    const own = Float32Array.from(latents);
    const r = await this.channel.request({ kind, latents: own, batch }, [own.buffer]);
    return r as Extract<WorkerReply, { kind: K }>;
  }

  async generate(latents: Float32Array, batch: number): Promise<RgbBatch> {
    return (await this.run('rgb', latents, batch)).out;
  }

  async generateFloat(latents: Float32Array, batch: number): Promise<FloatBatch> {
    return (await this.run('float', latents, batch)).out;
  }

  async dispose(): Promise<void> {
    if (!this.channel.failed) await this.channel.request({ kind: 'dispose' }).catch(() => undefined);
    await this.channel.worker.terminate();
  }
}
