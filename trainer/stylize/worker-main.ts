/** A stylize thread (run.ts): makes the pastiches it is sent, one at a time. */
import { parentPort } from 'node:worker_threads';
import { initBackend } from '../../core/backend.ts';
import { errorMessage, workerInput } from '../../core/runtime/worker.ts';
import { makePastiche } from './pastiche.ts';
import type { StylizeReply, StylizeRequest } from './run.ts';

const port = parentPort!;
const backend = workerInput<string>();
try {
  await initBackend(backend);
  port.postMessage({ id: 0, kind: 'ready' } satisfies StylizeReply);
} catch (e) {
  port.postMessage({ id: 0, kind: 'error', ...errorMessage(e) } satisfies StylizeReply);
}

port.on('message', (req: StylizeRequest) => {
  if (req.kind === 'close') {
    port.close();
    return;
  }
  makePastiche(req.task).then(
    (seconds) => port.postMessage({ id: req.id, kind: 'done', seconds } satisfies StylizeReply),
    (e: unknown) => port.postMessage({ id: req.id, kind: 'error', ...errorMessage(e) } satisfies StylizeReply),
  );
});
