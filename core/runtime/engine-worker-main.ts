/** Runs one generator in a worker thread for threaded.ts: a request at a time, answers with transferred buffers. */
import { parentPort } from 'node:worker_threads';
import { openGenerator, type OpenOptions } from './open.ts';
import type { Generator } from './types.ts';
import type { WorkerReply, WorkerRequest } from './threaded.ts';
import { errorMessage, workerInput } from './worker.ts';

const port = parentPort!;
const { target, options } = workerInput<{ target: string; options: OpenOptions }>();

const errorReply = (id: number, e: unknown): WorkerReply => ({ id, kind: 'error', ...errorMessage(e) });

let gen: Generator | null = null;
try {
  gen = await openGenerator(target, options);
  port.postMessage({ id: 0, kind: 'ready', info: gen.info } satisfies WorkerReply);
} catch (e) {
  port.postMessage(errorReply(0, e));
}

port.on('message', (req: WorkerRequest) => {
  void (async () => {
    try {
      if (!gen) throw new Error('the generator did not open');
      if (req.kind === 'dispose') {
        await gen.dispose();
        gen = null;
        port.postMessage({ id: req.id, kind: 'disposed' } satisfies WorkerReply);
        port.close();
        return;
      }
      if (req.kind === 'rgb') {
        const out = await gen.generate(req.latents, req.batch);
        port.postMessage({ id: req.id, kind: 'rgb', out } satisfies WorkerReply, [out.data.buffer as ArrayBuffer]);
      } else {
        const out = await gen.generateFloat(req.latents, req.batch);
        port.postMessage({ id: req.id, kind: 'float', out } satisfies WorkerReply, [out.data.buffer as ArrayBuffer]);
      }
    } catch (e) {
      port.postMessage(errorReply(req.id, e));
    }
  })();
});
