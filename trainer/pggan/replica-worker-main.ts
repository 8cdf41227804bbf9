/** A training replica on its own thread (replicas.ts): a request at a time, in the order the main thread sent them. */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '../../core/backend.ts';
import { errorMessage, workerInput } from '../../core/runtime/worker.ts';
import { flattenGrads, gradsFromFlat, type ReplicaInit, type ReplicaReply, type ReplicaRequest } from './replicas.ts';
import { PgganTrainer } from './trainer.ts';
import type { Phase } from '../../core/models/arch.ts';

const port = parentPort!;
const init = workerInput<ReplicaInit>();

let replica: PgganTrainer | null = null;
/** The step under way: its phase and minibatch, from its critic part to its finish. */
let current: { phase: Phase; batch: number } | null = null;

try {
  await initBackend(init.backend as BackendName);
  replica = new PgganTrainer(init.settings, init.resume, init.from, { average: false });
  port.postMessage({ id: 0, kind: 'ready' } satisfies ReplicaReply);
} catch (e) {
  port.postMessage({ id: 0, kind: 'error', ...errorMessage(e) } satisfies ReplicaReply);
}

async function answer(req: ReplicaRequest, r: PgganTrainer): Promise<{ reply: ReplicaReply; transfer: ArrayBuffer[] }> {
  switch (req.kind) {
    case 'critic': {
      r.step = req.sync.step;
      r.clock = req.sync.clock;
      r.run = req.sync.run;
      current = r.beginStep(req.real);
      const d = await r.criticGrads(req.real, current.phase, current.batch, req.parts);
      const grads = await flattenGrads(d.grads);
      tf.dispose(Object.values(d.grads));
      return { reply: { id: req.id, kind: 'critic', grads, losses: d.losses }, transfer: [grads.data.buffer as ArrayBuffer] };
    }
    case 'generator': {
      if (!current) throw new Error('a generator part without its critic part');
      r.applyGrads('d', gradsFromFlat(req.dSum));
      const g = await r.generatorGrads(current.phase, current.batch, req.parts);
      const grads = await flattenGrads(g.grads);
      tf.dispose(Object.values(g.grads));
      return { reply: { id: req.id, kind: 'generator', grads, loss: g.loss }, transfer: [grads.data.buffer as ArrayBuffer] };
    }
    case 'finish': {
      if (!current) throw new Error('a finish without its step');
      r.applyGrads('g', gradsFromFlat(req.gSum));
      r.endStep(current.batch);
      current = null;
      return { reply: { id: req.id, kind: 'done' }, transfer: [] };
    }
    case 'restore':
      r.dispose();
      replica = new PgganTrainer(req.settings, req.resume, undefined, { average: false });
      current = null;
      return { reply: { id: req.id, kind: 'done' }, transfer: [] };
    case 'dispose':
      r.dispose();
      replica = null;
      return { reply: { id: req.id, kind: 'done' }, transfer: [] };
  }
}

async function handle(req: ReplicaRequest): Promise<void> {
  try {
    if (!replica) throw new Error('the training replica did not start');
    const { reply, transfer } = await answer(req, replica);
    port.postMessage(reply, transfer);
    if (req.kind === 'dispose') port.close();
  } catch (e) {
    port.postMessage({ id: req.id, kind: 'error', ...errorMessage(e) } satisfies ReplicaReply);
  }
}

// Answers are asynchronous (losses are read back asynchronously): the chain keeps them one at a time, in order.
let answering = Promise.resolve();
port.on('message', (req: ReplicaRequest) => {
  answering = answering.then(() => handle(req));
});
