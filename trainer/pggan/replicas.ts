/**
 * Data-parallel PGGAN training on several threads. tfjs-wasm runs on one core (its threaded build does not load in
 * Node), so each extra thread holds a replica of the run, G, D and both Adam states, in its own wasm heap. A
 * step splits the minibatch into one shard per thread (whole minibatch-stddev groups); every thread computes its
 * shard's gradients (in micro-batches), the main thread sums them in shard order and sends the sums back, and
 * every replica applies the same sums with the same Adam: the replicas stay bit-identical, so the main thread's
 * trainer (the one the run loop saves, samples and guards) is the run. The run state travels with each step, so
 * remedies, rollbacks and resume overrides reach the replicas without messages of their own.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Worker } from 'node:worker_threads';
import { firstMessage, startWorker, WorkerChannel, errorFrom, type ErrorMessage } from '../../core/runtime/worker.ts';
import type { PgganSettings, RunState } from './settings.ts';
import type { WeightMap } from '../../core/models/params.ts';
import { microBatches, type MicroBatch, type PgganResume, type PgganStepLosses, type PgganTrainer } from './trainer.ts';

/** A network's gradients as one buffer, for the trip between threads. */
export interface FlatGrads {
  keys: string[];
  shapes: number[][];
  data: Float32Array;
}

export async function flattenGrads(grads: Record<string, tf.Tensor>): Promise<FlatGrads> {
  const keys = Object.keys(grads).sort();
  const data = new Float32Array(keys.reduce((n, k) => n + grads[k]!.size, 0));
  let at = 0;
  for (const k of keys) {
    data.set((await grads[k]!.data()) as Float32Array, at);
    at += grads[k]!.size;
  }
  return { keys, shapes: keys.map((k) => grads[k]!.shape), data };
}

export function gradsFromFlat(f: FlatGrads): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  let at = 0;
  f.keys.forEach((k, i) => {
    const shape = f.shapes[i]!;
    const size = shape.reduce((a, b) => a * b, 1);
    out[k] = tf.tensor(f.data.subarray(at, at + size), shape);
    at += size;
  });
  return out;
}

/** The run as the main thread has it at the start of a step. */
export interface StepSync {
  step: number;
  clock: number;
  run: RunState;
}

export type ReplicaRequest =
  | { id: number; kind: 'critic'; sync: StepSync; real: Float32Array; parts: MicroBatch[] }
  | { id: number; kind: 'generator'; dSum: FlatGrads; parts: MicroBatch[] }
  | { id: number; kind: 'finish'; gSum: FlatGrads }
  | { id: number; kind: 'restore'; settings: PgganSettings; resume: PgganResume }
  | { id: number; kind: 'dispose' };

export type ReplicaReply =
  | { id: number; kind: 'ready' }
  | { id: number; kind: 'critic'; grads: FlatGrads; losses: Omit<PgganStepLosses, 'g'> }
  | { id: number; kind: 'generator'; grads: FlatGrads; loss: number }
  | { id: number; kind: 'done' }
  | ({ id: number; kind: 'error' } & ErrorMessage);

/** What a replica thread starts from: the backend to load and the run (a new one, or a saved state). */
export interface ReplicaInit {
  backend: string;
  settings: PgganSettings;
  resume?: PgganResume;
  /** Transfer learning's starting weights (a new run's), as PgganTrainer takes them. */
  from?: { weights: WeightMap; where: string };
}


/**
 * The minibatch's shards, at most one per thread, each whole minibatch-stddev groups (the last may be smaller).
 * Fewer shards than threads leaves the last threads without images; they still apply every update.
 */
export function shardsOf(batch: number, threads: number, group: number): MicroBatch[] {
  const g = Math.max(1, Math.min(group, batch));
  return microBatches(batch, Math.ceil(batch / threads / g) * g, g);
}

const add = (sums: Record<string, tf.Tensor>, more: Record<string, tf.Tensor>): Record<string, tf.Tensor> => {
  const out: Record<string, tf.Tensor> = { ...sums };
  for (const [k, v] of Object.entries(more)) {
    const s = out[k];
    out[k] = s ? tf.add(s, v) : v.clone();
  }
  return out;
};

export class Replicas {
  private constructor(private readonly channels: WorkerChannel<ReplicaRequest, ReplicaReply>[]) {}

  /** `count` − 1 threads beside the main one, each with a replica of the run. */
  static async start(count: number, init: ReplicaInit): Promise<Replicas> {
    const workers: Worker[] = [];
    try {
      for (let i = 1; i < count; i++) workers.push(startWorker(new URL('./replica-worker-main.ts', import.meta.url), init));
      for (const [i, w] of workers.entries()) {
        const first = await firstMessage<ReplicaReply>(w, `starting training thread ${i + 2}`);
        if (first.kind === 'error') throw errorFrom(first);
      }
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    return new Replicas(workers.map((w, i) => new WorkerChannel<ReplicaRequest, ReplicaReply>(w, `of training replica ${i + 2}`)));
  }

  get threads(): number {
    return this.channels.length + 1;
  }

  /** One step of `local` (the main thread's trainer) with every replica: PgganTrainer.trainStep, shared out. */
  async step(local: PgganTrainer, real: Float32Array, micro: number): Promise<PgganStepLosses> {
    const sync: StepSync = { step: local.step, clock: local.clock, run: structuredClone(local.run) };
    const { phase, batch } = local.beginStep(real);
    const group = local.settings.mbstdGroup;
    const shards = shardsOf(batch, this.threads, group);
    const partsOf = (i: number): MicroBatch[] => {
      const s = shards[i];
      return s ? microBatches(s.n, micro, group).map((p) => ({ from: s.from + p.from, n: p.n })) : [];
    };
    // Each thread gets its own copy of the images: a transferred buffer leaves the sender's empty.
    const critics = this.channels.map((c, i) => c.request({ kind: 'critic', sync, real: Float32Array.from(real), parts: partsOf(i + 1) }));
    const d = await local.criticGrads(real, phase, batch, partsOf(0));
    const losses = { ...d.losses };
    const dSum = await this.sum(d.grads, critics, (r) => {
      if (r.kind !== 'critic') throw new Error(`a training replica answered '${r.kind}' to a critic step`);
      for (const k of ['d', 'wdist', 'gp', 'drift'] as const) losses[k] += r.losses[k];
      return r.grads;
    });
    const dFlat = await flattenGrads(dSum);
    local.applyGrads('d', dSum);
    const generators = this.channels.map((c, i) => c.request({ kind: 'generator', dSum: dFlat, parts: partsOf(i + 1) }));
    const g = await local.generatorGrads(phase, batch, partsOf(0));
    let gLoss = g.loss;
    const gSum = await this.sum(g.grads, generators, (r) => {
      if (r.kind !== 'generator') throw new Error(`a training replica answered '${r.kind}' to a generator step`);
      gLoss += r.loss;
      return r.grads;
    });
    const gFlat = await flattenGrads(gSum);
    local.applyGrads('g', gSum);
    const finished = this.channels.map((c) => c.request({ kind: 'finish', gSum: gFlat }));
    local.endStep(batch);
    await Promise.all(finished);
    return { ...losses, g: gLoss };
  }

  /** The main thread's gradients plus every replica's, in shard order (so every thread sums alike). */
  private async sum(own: Record<string, tf.Tensor>, replies: Promise<ReplicaReply>[], grads: (r: ReplicaReply) => FlatGrads): Promise<Record<string, tf.Tensor>> {
    let sum = own;
    for (const reply of replies) {
      const flat = grads(await reply);
      if (flat.keys.length === 0) continue;
      const next = tf.tidy(() => add(sum, gradsFromFlat(flat)));
      tf.dispose(Object.values(sum).filter((t) => !Object.values(next).includes(t)));
      sum = next;
    }
    return sum;
  }

  /** After a rollback: every replica starts again from the restored state. */
  async restore(settings: PgganSettings, resume: PgganResume): Promise<void> {
    await Promise.all(this.channels.map((c) => c.request({ kind: 'restore', settings, resume })));
  }

  async close(): Promise<void> {
    await Promise.all(
      this.channels.map(async (c) => {
        if (!c.failed) await c.request({ kind: 'dispose' }).catch(() => undefined);
        await c.worker.terminate();
      }),
    );
  }
}
