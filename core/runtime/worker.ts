/**
 * Worker threads that run one of our TypeScript modules (through ts-worker.js), with the parent's log level,
 * errors that cross between threads keeping their code and hint, and requests answered by id (WorkerChannel).
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

/** A request without its id, for each kind of a union of requests. */
export type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** Every request and reply carries an id; a reply of kind 'error' rejects its request. */
export type Reply = { id: number; kind: string } | ({ id: number; kind: 'error' } & ErrorMessage);

/**
 * Requests to a worker, each answered by the reply with its id. A worker that fails or exits rejects every request
 * waiting and every one after, naming `what` the thread was for.
 */
export class WorkerChannel<Req extends { id: number }, Rep extends Reply> {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: Rep) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;

  constructor(
    readonly worker: Worker,
    what: string,
  ) {
    worker.on('message', (r: Rep) => {
      const w = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      if (r.kind === 'error') w?.reject(errorFrom(r as ErrorMessage));
      else w?.resolve(r);
    });
    const fail = (e: Error) => {
      this.failure ??= e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the thread ${what} exited (code ${code})`)));
  }

  /** Whether the worker has failed or exited. */
  get failed(): Error | null {
    return this.failure;
  }

  request(req: WithoutId<Req>, transfer: ArrayBuffer[] = []): Promise<Rep> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id }, transfer);
    });
  }
}
