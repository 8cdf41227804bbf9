/**
 * Worker threads that run one of our TypeScript modules (through ts-worker.js), with the parent's log level,
 * and errors that cross between threads keeping their code and hint.
 */
import { Worker, workerData } from 'node:worker_threads';
import { RhodopsError, type ErrorCode } from '../errors.ts';
import { logLevel, setLogLevel, type LogLevel } from '../log.ts';

export interface ErrorMessage {
  code: string | null;
  message: string;
  hint: string | null;
}

export function errorMessage(e: unknown): ErrorMessage {
  const err = e as { code?: string; message?: string; hint?: string };
  return { code: err.code ?? null, message: err.message ?? String(e), hint: err.hint ?? null };
}

export function errorFrom(m: ErrorMessage): Error {
  return m.code ? new RhodopsError(m.code as ErrorCode, m.message, m.hint ? { hint: m.hint } : {}) : new Error(m.message);
}

interface Envelope {
  entry: string;
  data: unknown;
  logLevel: LogLevel;
}

/** Starts `entry` (a module URL) on its own thread; it reads `data` with workerInput(). */
export function startWorker(entry: URL, data: unknown): Worker {
  return new Worker(new URL('./ts-worker.js', import.meta.url), { workerData: { entry: entry.href, data, logLevel: logLevel() } satisfies Envelope });
}

/** In the worker: the parent's data, after taking the parent's log level (tests set it to silent). */
export function workerInput<T>(): T {
  const e = workerData as Envelope;
  setLogLevel(e.logLevel);
  return e.data as T;
}

/** The worker's first message; a worker that dies first rejects, saying `what` it was doing. */
export function firstMessage<T>(worker: Worker, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the thread that was ${what} exited (code ${code})`)));
  });
}
