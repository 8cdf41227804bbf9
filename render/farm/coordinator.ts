/**
 * `rhodops render … --farm redis://HOST:PORT`: the render is planned here as for a local one (song, features,
 * mapping, latents: cheap), then each segment not yet in OUT.parts becomes one job in the farm's BullMQ queue,
 * with its latents and camera moves, the model by content hash and the render options. Workers render them;
 * this process takes each finished segment (checked by hash and frame count) into OUT.parts, where render.ts
 * assembles them with the song as it does its own.
 *
 * Jobs are keyed by the render's plan hash and the segment, so a coordinator started again with the same
 * command publishes nothing twice: it takes what finished meanwhile and waits for the rest.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { Queue, QueueEvents, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { encodeCamera } from '../../core/camera.ts';
import { RhodopsError, isRhodopsError, messageOf } from '../../core/errors.ts';
import { writeFileAtomic } from '../../core/fsutil.ts';
import { logger } from '../../core/log.ts';
import type { Precision } from '../../core/runtime/ort.ts';
import type { UpscaleFactor } from '../../core/upscale/esrgan.ts';
import type { DisplayChange } from '../../protocol/display.ts';
import { countVideoPackets } from '../../server/recorder/probe.ts';
import type { FrameInput } from '../segment-frames.ts';
import { segmentName } from '../segments.ts';
import { checkReachable, farmConnection, parseFarmUrl, type FarmUrl } from './connection.ts';
import { asPrintable, encodeLatents, jobId, KEY_PREFIX, MAX_JOB_BYTES, QUEUE_NAME, segmentResultSchema, type ModelRef, type SegmentJob, type SegmentResult } from './jobs.ts';
import { publishModel } from './models.ts';
import { FarmStore } from './store.ts';

const log = logger('farm');
const POLL_MS = 500;
/** A segment whose results are rejected this many times ends the render: something is wrong beyond chance. */
const MAX_REJECTIONS = 3;
const JOB_OPTIONS: JobsOptions = { attempts: 3, backoff: { type: 'fixed', delay: 1000 }, sizeLimit: MAX_JOB_BYTES };

export interface FarmOptions {
  /** `redis://HOST:PORT` (rediss:// for TLS; a password goes in the URL). */
  url: string;
  /** A folder this machine and the workers share: segments and models travel through it instead of Redis. */
  dir?: string | null;
}

/** What render.ts has planned: the segments to make, and how. */
export interface FarmPlan {
  plan: string;
  workDir: string;
  /** The first segment not yet in workDir, and how many there are. */
  first: number;
  segments: number;
  segFrames: number;
  total: number;
  fps: number;
  width: number;
  height: number;
  batch: number;
  upscale: UpscaleFactor | null;
  look: DisplayChange | null;
  precision: Precision;
  model: string;
  progress: boolean;
  signal?: AbortSignal;
  /** Each frame's inputs in order, from the first segment's first frame on. */
  next: () => FrameInput;
}

export interface FarmOutcome {
  /** workDir's segment files from `first` on, in order (a prefix of them when interrupted). */
  files: string[];
  /** Frames in the segments taken by this run. */
  rendered: number;
  interrupted: boolean;
}

export class FarmCoordinator {
  private constructor(
    private readonly farm: FarmUrl,
    private readonly connection: Redis,
    private readonly events: Redis,
    private readonly queue: Queue,
    private readonly store: FarmStore,
  ) {}

  /** Reaches the farm's Redis (FARM_UNREACHABLE at once if it cannot), refusing first what cannot be split. */
  static async connect(o: FarmOptions, look?: DisplayChange): Promise<FarmCoordinator> {
    if ((look?.trails ?? 0) > 0) {
      throw new RhodopsError('BAD_OPTION', '--look with trails carries every frame into the next, so its segments cannot be rendered apart on a farm', { hint: 'render it on one machine (without --farm), or set "trails" to 0' });
    }
    const farm = parseFarmUrl(o.url);
    await checkReachable(farm);
    const connection = farmConnection(farm);
    const events = farmConnection(farm);
    const queue = new Queue(QUEUE_NAME, { connection, prefix: KEY_PREFIX });
    return new FarmCoordinator(farm, connection, events, queue, new FarmStore(connection, o.dir ?? null));
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.connection.disconnect();
    this.events.disconnect();
  }

  async render(p: FarmPlan): Promise<FarmOutcome> {
    const model = await publishModel(p.model, this.store);
    // Segments after `first` that an earlier run took in already (out of order) are kept, not rendered again.
    const have = new Set(await fs.readdir(p.workDir));
    const kept = new Map<number, string>();
    for (let s = p.first; s < p.segments; s++) if (have.has(segmentName(s))) kept.set(s, path.join(p.workDir, segmentName(s)));
    const jobs = this.makeJobs(p, model, new Set(kept.keys()));
    const ids = new Map([...jobs.keys()].map((s) => [s, jobId(p.plan, s)]));
    // Jobs already in the queue (an earlier run of this command) stay as they are; failed ones get another go.
    if (jobs.size) await this.queue.addBulk([...jobs.entries()].map(([s, data]) => ({ name: 'segment', data, opts: { ...JOB_OPTIONS, jobId: ids.get(s)! } })));
    for (const id of ids.values()) {
      if ((await this.queue.getJobState(id)) === 'failed') await (await this.queue.getJob(id))?.retry('failed');
    }
    log.info(`${jobs.size} segment${jobs.size === 1 ? '' : 's'} on the farm at ${this.farm.shown} (render ${p.plan.slice(0, 8)}, model ${model.id.slice(0, 12)}…, segments via ${this.store.dir ? `the shared folder ${this.store.dir}` : 'Redis'})`);

    if (kept.size) log.info(`${kept.size} segment${kept.size === 1 ? '' : 's'} already in ${p.workDir}`);
    const progress = new Map<number, number>();
    const done = new Map<number, string>(kept);
    const events = new QueueEvents(QUEUE_NAME, { connection: this.events, prefix: KEY_PREFIX });
    events.on('progress', ({ jobId: id, data }) => {
      const s = [...ids.entries()].find(([, v]) => v === id)?.[0];
      // A late event of a segment already in would count it twice.
      if (s !== undefined && !done.has(s) && typeof data === 'number') progress.set(s, Math.min(data, jobs.get(s)!.frames));
    });
    const rejections = new Map<number, number>();
    const engines = new Set<string>();
    let rendered = 0;
    const segmentFrames = (s: number) => Math.min(p.total, (s + 1) * p.segFrames) - s * p.segFrames;
    const base = p.first * p.segFrames + [...kept.keys()].reduce((a, s) => a + segmentFrames(s), 0);
    const bar = p.progress
      ? new cliProgress.SingleBar({ format: 'farm |{bar}| {value}/{total} frames | ×{speed} real time | {workers} | ETA {eta_formatted}', stream: process.stderr, hideCursor: true, etaBuffer: 100 }, cliProgress.Presets.shades_classic)
      : null;
    bar?.start(p.total, base, { speed: '-', workers: '' });
    const t0 = performance.now();
    let lastLine = t0;
    try {
      while (done.size < p.segments - p.first && !p.signal?.aborted) {
        for (const [s, id] of ids) {
          if (done.has(s)) continue;
          const state = await this.queue.getJobState(id);
          if (state === 'completed') {
            const job = await this.queue.getJob(id);
            if (!job) continue;
            const file = await this.collect(p, s, job, jobs.get(s)!, rejections, engines);
            if (file) {
              done.set(s, file);
              rendered += jobs.get(s)!.frames;
              progress.delete(s);
            }
          } else if (state === 'failed') {
            const job = await this.queue.getJob(id);
            throw new RhodopsError('FARM_FAILED', `segment ${s} failed on the farm after ${job?.attemptsMade ?? '?'} attempts: ${asPrintable(job?.failedReason ?? 'no reason given', 400)}`, {
              hint: "see that worker's log; run the same command again to retry it (finished segments are kept)",
            });
          } else if (state === 'unknown') {
            // Removed from the queue behind our back (a cleaned queue): publish it again.
            await this.queue.add('segment', jobs.get(s)!, { ...JOB_OPTIONS, jobId: id });
          }
        }
        const frames = base + rendered + [...progress.values()].reduce((a, b) => a + b, 0);
        const secs = (performance.now() - t0) / 1000;
        const speed = (frames - base) / p.fps / Math.max(secs, 1e-3);
        const workers = await this.queue.getWorkersCount().catch(() => 0);
        bar?.update(frames, { speed: speed.toFixed(2), workers: `${workers} worker${workers === 1 ? '' : 's'}` });
        if (!bar && performance.now() - lastLine > 10_000) {
          lastLine = performance.now();
          log.info(`${frames}/${p.total} frames (${done.size}/${p.segments - p.first} segments in), ${workers} worker${workers === 1 ? '' : 's'}, ×${speed.toFixed(2)} real time`);
        }
        if (done.size < p.segments - p.first) await new Promise((r) => setTimeout(r, POLL_MS));
      }
    } finally {
      bar?.stop();
      await events.close();
    }
    // Interrupted: the segments in so far, up to the first gap, make the partial video; the rest stay queued.
    const files: string[] = [];
    for (let s = p.first; done.has(s); s++) files.push(done.get(s)!);
    const interrupted = done.size < p.segments - p.first;
    if (interrupted) log.info(`the farm keeps rendering the ${p.segments - p.first - done.size} segments not in yet; the same command takes them when run again`);
    return { files, rendered, interrupted };
  }

  /** One job per segment from `first` on; the frames' inputs are drawn in order, as a local render draws them. */
  private makeJobs(p: FarmPlan, model: ModelRef, skip: Set<number>): Map<number, SegmentJob> {
    const jobs = new Map<number, SegmentJob>();
    for (let s = p.first; s < p.segments; s++) {
      const from = s * p.segFrames;
      const frames = Math.min(p.total, from + p.segFrames) - from;
      let latents: Float32Array | null = null;
      const cameras = new Uint8Array(4 * frames);
      for (let k = 0; k < frames; k++) {
        const f = p.next();
        latents ??= new Float32Array(frames * f.latent.length);
        latents.set(f.latent, k * f.latent.length);
        encodeCamera(f.camera, cameras, 4 * k);
      }
      if (skip.has(s)) continue;
      const latentSize = latents!.length / frames;
      const job: SegmentJob = {
        v: 1, plan: p.plan, segment: s, frames, model, precision: p.precision, latentSize, latents: encodeLatents(latents!), cameras: Buffer.from(cameras).toString('base64'),
        width: p.width, height: p.height, fps: p.fps, batch: p.batch, upscale: p.upscale, look: p.look, returnVia: this.store.dir ? 'dir' : 'redis',
      };
      const bytes = Buffer.byteLength(JSON.stringify(job));
      if (bytes > MAX_JOB_BYTES) {
        throw new RhodopsError('BAD_OPTION', `a segment of ${frames} frames × ${latentSize} latent values makes a ${(bytes / 2 ** 20).toFixed(1)} MB job, over the farm's ${MAX_JOB_BYTES / 2 ** 20} MB`, { hint: 'use shorter segments (--segment)' });
      }
      jobs.set(s, job);
    }
    return jobs;
  }

  /**
   * Takes a finished segment into workDir: the result checked against the job (render, segment, frames), the
   * bytes against the hash the worker reported, the file's frame count against the job's. Anything else is
   * rejected and the job goes back to the queue. Returns the file, or null when rejected.
   */
  private async collect(p: FarmPlan, s: number, job: Job, want: SegmentJob, rejections: Map<number, number>, engines: Set<string>): Promise<string | null> {
    const parsed = segmentResultSchema.safeParse(job.returnvalue);
    let r: SegmentResult | null = parsed.success ? parsed.data : null;
    const file = path.join(p.workDir, segmentName(s));
    const checking = file.replace(/\.mkv$/, '.checking.mkv');
    try {
      if (!r) throw new RhodopsError('FARM_RESULT_REJECTED', `segment ${s}: the worker's result is malformed`, { hint: 'it is rendered again' });
      if (r.plan !== want.plan || r.segment !== s || r.frames !== want.frames) {
        const got = r;
        r = null; // not this job's: its bytes are not ours to delete
        throw new RhodopsError('FARM_RESULT_REJECTED', `segment ${s}: worker ${got.worker} answered for segment ${got.segment} of render ${got.plan.slice(0, 8)} (${got.frames} frames)`, { hint: 'it is rendered again' });
      }
      const bytes = await this.store.takeSegment(r);
      // Checked under another name, so a coordinator killed meanwhile never leaves an unchecked segment to resume from.
      await writeFileAtomic(checking, bytes);
      const frames = await countVideoPackets(checking).catch(() => -1);
      if (frames !== null && frames !== want.frames) {
        throw new RhodopsError('FARM_RESULT_REJECTED', `segment ${s} from worker ${r.worker} holds ${frames < 0 ? 'no readable' : frames} frames, not ${want.frames}`, { hint: 'it is rendered again' });
      }
      await fs.rename(checking, file);
    } catch (e) {
      if (!isRhodopsError(e, 'FARM_RESULT_REJECTED')) throw e;
      const n = (rejections.get(s) ?? 0) + 1;
      rejections.set(s, n);
      log.warn(e.describe());
      await fs.rm(checking, { force: true });
      if (r) await this.store.dropSegment(r).catch(() => undefined);
      if (n >= MAX_REJECTIONS) throw new RhodopsError('FARM_RESULT_REJECTED', `segment ${s} was rejected ${n} times: ${e.message}`, { hint: 'check the workers (disk, rhodops and ffmpeg versions); run the same command again to retry' });
      await job.retry('completed');
      return null;
    }
    await this.store.dropSegment(r).catch((e: unknown) => log.debug(`segment ${s}: ${messageOf(e)}`));
    await job.remove();
    const provider = r.engine.split(',')[0]!;
    if (engines.size > 0 && !engines.has(provider)) log.warn(`segment ${s} was made on ${provider}, others on ${[...engines].join(', ')}: different engines can differ in the last bit, so the video may not be byte-identical to a one-machine render`);
    engines.add(provider);
    log.info(`segment ${s}: from ${r.worker} (${r.engine}), ${(r.bytes / 1024).toFixed(0)} kB, sha256 ${r.sha256.slice(0, 12)}`);
    return file;
  }
}
