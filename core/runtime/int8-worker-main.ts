/** Builds one int8 model off the main thread for int8.ts, and posts it back (the bytes transferred). */
import { parentPort } from 'node:worker_threads';
import { buildInt8Pggan, type Int8Job } from './int8.ts';
import { errorMessage, workerInput } from './worker.ts';

const job = workerInput<Int8Job>();
try {
  const b = await buildInt8Pggan(job.arch, job.weights, job.phase, job.ortOptions, job.where, job.weightBits);
  parentPort!.postMessage({ ok: true, build: b }, [b.model.buffer as ArrayBuffer]);
} catch (e) {
  parentPort!.postMessage({ ok: false, ...errorMessage(e) });
}
