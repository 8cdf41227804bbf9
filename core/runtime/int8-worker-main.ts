/** Builds one int8 model off the main thread for int8.ts, and posts it back (the bytes transferred). */
import { parentPort, workerData } from 'node:worker_threads';
import { setLogLevel } from '../log.ts';
import { buildInt8Pggan, type Int8Job } from './int8.ts';

const job = workerData as Int8Job;
setLogLevel(job.logLevel);
try {
  const b = await buildInt8Pggan(job.arch, job.weights, job.phase, job.ortOptions, job.where, job.weightBits);
  parentPort!.postMessage({ ok: true, build: b }, [b.model.buffer as ArrayBuffer]);
} catch (e) {
  const err = e as { code?: string; message?: string; hint?: string };
  parentPort!.postMessage({ ok: false, code: err.code ?? null, message: err.message ?? String(e), hint: err.hint ?? null });
}
