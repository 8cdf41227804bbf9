/**
 * `rhodops worker --farm redis://HOST:PORT`: takes segment jobs from the farm's queue, renders each with the
 * same frame pipeline as a local render (segment-frames.ts) on this machine's best provider (`--ep auto`), and
 * leaves the segment where the coordinator takes it. A worker holds a job under a lock it renews while it
 * works; a worker that dies stops renewing, and another worker's stalled-job check puts the job back.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { decodeCamera } from '../../core/camera.ts';
import { isRhodopsError, messageOf } from '../../core/errors.ts';
import { logger } from '../../core/log.ts';
import { ThreadedGenerator } from '../../core/runtime/threaded.ts';
import type { OrtOptions } from '../../core/runtime/ort.ts';
import { openUpscaler, type UpscaleFactor, type Upscaler } from '../../core/upscale/esrgan.ts';
import { DEFAULT_DISPLAY } from '../../protocol/display.ts';
import { Look } from '../look.ts';
import { encodeSegment } from '../segment-frames.ts';
import { segmentName, SegmentEncoder } from '../segments.ts';
import { checkReachable, farmConnection, parseFarmUrl } from './connection.ts';
import { asPrintable, jobLatents, KEY_PREFIX, parseSegmentJob, QUEUE_NAME, type SegmentJob, type SegmentResult } from './jobs.ts';
import { ModelCache } from './models.ts';
import { FarmStore, sha256 } from './store.ts';

const log = logger('worker');

export interface WorkerOptions {
  farm: string;
  /** The shared folder, if this machine sees the coordinator's. */
  farmDir: string | null;
  /** Where fetched models are kept (default ~/.cache/rhodops/farm/models). */
  cacheDir: string;
  /** Shown in the queue and in the coordinator's log. */
  name: string;
  /** How long a job's lock lasts without renewal: a dead worker's job goes back to the queue after about this. */
  lockMs: number;
  ort: Partial<OrtOptions>;
  /** Stops taking jobs (the current one finishes first). */
  signal?: AbortSignal;
}

/** The model, precision and upscaler of the last job, kept open: a farm renders many segments of one model. */
interface Open {
  key: string;
  gen: ThreadedGenerator;
}

export async function runWorker(o: WorkerOptions): Promise<void> {
  const farm = parseFarmUrl(o.farm);
  await checkReachable(farm);
  const connection = farmConnection(farm);
  const store = new FarmStore(connection, o.farmDir);
  const models = new ModelCache(o.cacheDir, store);
  const work = await workFolder(o.cacheDir);
  let open: Open | null = null;
  const upscalers = new Map<string, Upscaler>();

  const generator = async (job: SegmentJob): Promise<ThreadedGenerator> => {
    const key = `${job.model.id}:${job.precision}`;
    if (open?.key === key) return open.gen;
    await open?.gen.dispose();
    open = null;
    const target = await models.get(job.model);
    open = { key, gen: await ThreadedGenerator.open(target, { engine: 'ort', ort: { ...o.ort, precision: job.precision } }) };
    log.info(`model ${job.model.id.slice(0, 12)}…: ${open.gen.info.name} on ${open.gen.info.engine}`);
    return open.gen;
  };
  // With the job's precision too, as a local render opens it (int8 keeps `--ep auto` on the CPU).
  const upscaler = async (factor: UpscaleFactor, precision: SegmentJob['precision']): Promise<Upscaler> => {
    const key = `${factor}:${precision}`;
    let u = upscalers.get(key);
    if (!u) upscalers.set(key, (u = await openUpscaler(factor, { ort: { ...o.ort, precision } })));
    return u;
  };

  const renderJob = async (job: Job<unknown, SegmentResult>): Promise<SegmentResult> => {
    let j: SegmentJob;
    try {
      j = parseSegmentJob(job.data);
    } catch (e) {
      // A malformed job is malformed on every worker: fail it now rather than pass it round.
      throw new UnrecoverableError(messageOf(e));
    }
    const gen = await generator(j);
    if (gen.info.latent.size !== j.latentSize) throw new UnrecoverableError(`segment ${j.segment}: the job's latents have ${j.latentSize} values, the model's ${gen.info.latent.size}`);
    const look = new Look({ ...DEFAULT_DISPLAY, ...j.look }, j.fps);
    if (look.remembers) throw new UnrecoverableError(`segment ${j.segment}: a look with trails cannot be rendered in pieces`);
    const latents = jobLatents(j);
    const cameras = Buffer.from(j.cameras, 'base64');
    const file = path.join(work, segmentName(j.segment));
    log.info(`segment ${j.segment} of render ${j.plan.slice(0, 8)}: ${j.frames} frames at ${j.width}×${j.height}`);
    const t0 = performance.now();
    const enc = await SegmentEncoder.start(file, { width: j.width, height: j.height, fps: j.fps });
    try {
      let k = 0;
      const next = () => {
        const f = { latent: latents.subarray(k * j.latentSize, (k + 1) * j.latentSize), camera: decodeCamera(cameras, 4 * k) };
        k++;
        return f;
      };
      const pipeline = { gen, upscaler: j.upscale ? await upscaler(j.upscale, j.precision) : null, width: j.width, height: j.height, look, batch: j.batch };
      // Progress in frames: the coordinator's bar, and a sign (for tests, for people) that the worker is mid-segment.
      await encodeSegment(pipeline, j.frames, next, enc, { onBatch: (written) => job.updateProgress(written) });
      await enc.finish();
    } catch (e) {
      await enc.abort();
      throw e;
    }
    const bytes = await fs.readFile(file);
    await fs.rm(file, { force: true });
    const sha = sha256(bytes);
    await store.putSegment(j.returnVia, j.plan, j.segment, sha, bytes);
    log.info(`segment ${j.segment}: ${(bytes.byteLength / 1024).toFixed(0)} kB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return { v: 1, plan: j.plan, segment: j.segment, frames: j.frames, bytes: bytes.byteLength, sha256: sha, via: j.returnVia, worker: asPrintable(o.name, 120), engine: asPrintable(gen.info.engine, 200) };
  };

  const worker = new Worker<unknown, SegmentResult>(QUEUE_NAME, renderJob, {
    connection,
    prefix: KEY_PREFIX,
    name: o.name,
    concurrency: 1,
    lockDuration: o.lockMs,
    // The stalled check runs as often as a lock lasts, so a killed worker's job waits at most about two locks.
    stalledInterval: o.lockMs,
    // A farm's machines come and go; a segment may outlive a few dead workers before it counts as failed.
    maxStalledCount: 5,
  });
  worker.on('failed', (job, e) => log.warn(`segment job ${job?.id ?? '?'} failed: ${isRhodopsError(e) ? e.describe() : messageOf(e)}`));
  worker.on('error', (e) => log.warn(`queue: ${messageOf(e)}`));
  try {
    await worker.waitUntilReady();
    log.info(`${o.name} waiting for segments on ${farm.shown}${o.farmDir ? ` (shared folder ${o.farmDir})` : ''}`);
    await new Promise<void>((resolve) => {
      if (o.signal?.aborted) resolve();
      o.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    log.info('stopping: finishing the current segment first');
  } finally {
    await worker.close();
    await (open as Open | null)?.gen.dispose();
    for (const u of upscalers.values()) await u.dispose();
    connection.disconnect();
    await fs.rm(work, { recursive: true, force: true });
  }
}

/**
 * This worker's scratch folder, beside its models (`.work-PID-…`), after removing those of workers on this machine
 * that are gone (a killed worker leaves its half-made segment behind).
 */
async function workFolder(cacheDir: string): Promise<string> {
  await fs.mkdir(cacheDir, { recursive: true });
  for (const name of await fs.readdir(cacheDir)) {
    const pid = Number(/^\.work-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid) continue;
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch (e) {
      alive = (e as NodeJS.ErrnoException).code !== 'ESRCH';
    }
    if (!alive) await fs.rm(path.join(cacheDir, name), { recursive: true, force: true });
  }
  return fs.mkdtemp(path.join(cacheDir, `.work-${process.pid}-`));
}

/** The default worker name: the machine and the process, unique on a farm. */
export function defaultWorkerName(): string {
  return `${os.hostname()}-${process.pid}`;
}

