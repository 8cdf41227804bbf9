/**
 * One recording: frames from the live render loop → a bounded queue → ffmpeg's stdin → H.264 in a
 * crash-safe MKV; at stop, a standard MP4 (and the smoothed copy).
 *
 * The render loop is never blocked and never sees an exception from here: pushFrame copies the frame
 * into the queue and returns; a writer moves frames to ffmpeg only as fast as ffmpeg takes them
 * (write() returning false → wait for 'drain'); a full queue drops the frame and counts it. If ffmpeg
 * dies, the take fails once (`error`, an FFMPEG_FAILED with ffmpeg's last lines, and an 'ended'
 * event), and pushFrame returns false from then on.
 */
import { EventEmitter } from 'node:events';
import { promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { RhodopsError, messageOf } from '../../core/errors.ts';
import { FfmpegProcess, resolveFfmpeg, resolveFfprobe, type FfmpegExit } from '../../core/ffmpeg.ts';
import { logger } from '../../core/log.ts';
import { evenSize } from '../../core/video.ts';
import { liveInputOptions, liveOutputOptions } from './args.ts';
import { finishTake } from './finish.ts';
import { frameBytesOf, resolveTakeOptions, type ResolvedTakeOptions, type TakeOptions } from './options.ts';
import { hasAudioStream } from './probe.ts';
import { FrameQueue } from './queue.ts';
import type { TakeState, TakeStats, TakeSummary } from '../../protocol/status.ts';

const log = logger('recorder');

/** After stdin is closed, how long ffmpeg may take to encode what it holds before it is killed. */
const STOP_TIMEOUT_MS = 60_000;

export interface TakeEvents {
  /** ffmpeg failed mid-take. Emitted only while someone listens, so an unwatched take cannot crash the process. */
  error: [RhodopsError];
  /** The live ffmpeg process has ended: after stop(), or by failing (then with its error). */
  ended: [{ error?: RhodopsError }];
  /** stop() has finished; the same summary it resolves with. */
  done: [TakeSummary];
}

/** Paths of MKVs being written by takes in this process (list() marks them as recording). */
export const activeRecordings = new Set<string>();

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Takes a name no earlier take used (no MKV, MP4 or smoothed MP4 by that name) and creates its MKV empty. */
async function reserveName(dir: string, wanted: string): Promise<string> {
  for (let i = 1; i <= 1000; i++) {
    const name = i === 1 ? wanted : `${wanted}-${i}`;
    const taken = await Promise.all(['.mp4', '.smooth.mp4'].map((ext) => fs.stat(path.join(dir, name + ext)).then(() => true, () => false)));
    if (taken.some(Boolean)) continue;
    try {
      await (await fs.open(path.join(dir, `${name}.mkv`), 'wx')).close();
      return name;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new RhodopsError('BAD_OPTION', `recording: every name from '${wanted}' to '${wanted}-1000' is taken in ${dir}.`, { hint: 'Pass another name, or move old takes away.' });
}

export class Take extends EventEmitter<TakeEvents> {
  readonly name: string;
  readonly dir: string;
  readonly mkvPath: string;
  readonly mp4Path: string;
  readonly options: ResolvedTakeOptions;
  /** Size of the encoded video: odd sides padded by one pixel. */
  readonly encodedSize: { width: number; height: number };

  private readonly frameBytes: number;
  private readonly queue: FrameQueue;
  private readonly proc: FfmpegProcess;
  private readonly startedAt = performance.now();
  private endedAt: number | null = null;
  private stateNow: TakeState = 'recording';
  private failure: RhodopsError | undefined;
  private waitingDrain = false;
  private inputEnded = false;
  private last: Buffer | undefined;
  private firstCaptureMs: number | undefined;
  private lastSlot = -1;
  private counts = { pushed: 0, written: 0, dropped: 0, repeated: 0, rejected: 0 };
  private readonly exited: Promise<void>;
  private markExited!: () => void;
  private stopping: Promise<TakeSummary> | undefined;

  get width(): number {
    return this.options.width;
  }

  get height(): number {
    return this.options.height;
  }

  /** Use Recorder.start (startTake): it checks the options, reserves the name and waits for ffmpeg to spawn. */
  constructor(options: ResolvedTakeOptions, name: string, ffmpegPath: string) {
    super();
    this.options = options;
    this.name = name;
    this.dir = options.dir;
    this.mkvPath = path.join(options.dir, `${name}.mkv`);
    this.mp4Path = path.join(options.dir, `${name}.mp4`);
    this.encodedSize = evenSize(options.width, options.height);
    this.frameBytes = frameBytesOf(options);
    this.queue = new FrameQueue(options.queueFrames);
    this.exited = new Promise((resolve) => (this.markExited = resolve));
    const spec = { width: options.width, height: options.height, fps: options.fps, preset: options.preset, crf: options.crf };
    // The MKV was created empty when the name was reserved: -y writes over it.
    const args = ['-y', ...liveInputOptions(spec), '-i', 'pipe:0', ...liveOutputOptions(spec), this.mkvPath];
    log.debug(`recording ${name}: ffmpeg ${args.join(' ')}`);
    this.proc = new FfmpegProcess(ffmpegPath, args, { stdin: true });
    void this.proc.exited.then((exit) => this.onExit(exit.code === 0 ? undefined : this.describeFailure(exit)));
    activeRecordings.add(this.mkvPath);
  }

  /** Resolves once ffmpeg runs; rejects if it could not be started. */
  async launch(): Promise<void> {
    try {
      await this.proc.started;
    } catch (e) {
      throw new RhodopsError('FFMPEG_FAILED', `recording ${this.name}: ffmpeg did not start: ${messageOf(e)}`, { cause: e });
    }
  }

  get state(): TakeState {
    return this.stateNow;
  }

  /** The failure of this take, if ffmpeg died. */
  get error(): RhodopsError | undefined {
    return this.failure;
  }

  /** ffmpeg's process id while it runs (for diagnostics and tests). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  /**
   * Offers a frame: `width × height × 3` bytes of RGB, rows top to bottom. Returns at once: true if
   * it was queued, false if it was dropped (queue full), refused (wrong size) or the take no longer
   * records (stopped, or ffmpeg failed). Never throws, never waits for ffmpeg.
   *
   * The frame is copied when it is queued, so the caller may reuse or overwrite its buffer as soon as
   * this returns.
   *
   * `captureTimeMs` (any clock in ms, e.g. performance.now()) keeps the take on the wall clock when the
   * render loop skips ticks: if a frame arrives one or more frame slots after the previous one, the
   * previous frame is repeated to fill them (as far as the queue has room), so the video stays in sync
   * with the audio. Frames without it take one slot each: right for offline rendering.
   */
  pushFrame(rgb: Uint8Array, captureTimeMs?: number): boolean {
    if (this.stateNow !== 'recording') return false;
    this.counts.pushed++;
    if (rgb.length !== this.frameBytes) {
      if (this.counts.rejected++ === 0) {
        log.warn(`recording ${this.name}: refused a frame of ${rgb.length} bytes; this take records ${this.options.width}×${this.options.height} RGB (${this.frameBytes} bytes)`);
      }
      return false;
    }
    let repeats = 0;
    if (captureTimeMs !== undefined && Number.isFinite(captureTimeMs)) {
      this.firstCaptureMs ??= captureTimeMs;
      const slot = Math.round(((captureTimeMs - this.firstCaptureMs) * this.options.fps) / 1000);
      // A source faster than the take (an unthrottled loop): the slot is filled already, so this frame is
      // not needed. A frame only a little early (jitter) still takes the next slot.
      if (slot < this.lastSlot) return true;
      if (this.last !== undefined) repeats = Math.max(0, Math.min(slot - this.lastSlot - 1, this.queue.free - 1));
      if (this.queue.free > 0) this.lastSlot = Math.max(slot, this.lastSlot + 1 + repeats);
    }
    if (this.queue.free === 0) {
      this.counts.dropped++;
      return false;
    }
    for (let i = 0; i < repeats; i++) this.queue.push(this.last!);
    this.counts.repeated += repeats;
    const copy = Buffer.allocUnsafeSlow(this.frameBytes);
    copy.set(rgb);
    this.queue.push(copy);
    this.last = copy;
    if (captureTimeMs === undefined) this.lastSlot++;
    this.pump();
    return true;
  }

  stats(): TakeStats {
    let bytes = 0;
    try {
      bytes = statSync(this.mkvPath).size;
    } catch {
      // Not there yet, or already replaced by the MP4.
    }
    const elapsedMs = (this.endedAt ?? performance.now()) - this.startedAt;
    return {
      name: this.name,
      state: this.stateNow,
      width: this.options.width,
      height: this.options.height,
      fps: this.options.fps,
      queued: this.queue.length,
      queuedMax: this.queue.highWater,
      queueCap: this.queue.capacity,
      pushed: this.counts.pushed,
      written: this.counts.written,
      dropped: this.counts.dropped,
      repeated: this.counts.repeated,
      rejected: this.counts.rejected,
      elapsedMs,
      videoSeconds: this.counts.written / this.options.fps,
      bytes,
    };
  }

  /**
   * Stops the take: no more frames are accepted, the queued ones are written, stdin is closed (ffmpeg
   * then finishes the MKV itself), then the MP4 is
   * made (see finishTake). Never rejects: problems are in the summary's `error`. Calling it again
   * returns the same promise.
   */
  stop(): Promise<TakeSummary> {
    this.stopping ??= this.finish();
    return this.stopping;
  }

  private async finish(): Promise<TakeSummary> {
    if (this.stateNow === 'recording') {
      this.stateNow = 'stopping';
      this.pump();
    }
    const timer = setTimeout(() => {
      log.warn(`recording ${this.name}: ffmpeg did not finish ${STOP_TIMEOUT_MS / 1000} s after stdin closed; killing it`);
      this.proc.child.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
    this.stateNow = 'finishing';
    const o = this.options;
    let summary: TakeSummary;
    try {
      const r = await finishTake({
        mkv: this.mkvPath,
        mp4: this.mp4Path,
        smoothMp4: o.smooth ? path.join(o.dir, `${this.name}.smooth.mp4`) : undefined,
        audio: o.audio,
        audioOffset: o.audioOffset,
        audioLoop: o.audioLoop,
        fps: o.fps,
        preset: o.preset,
        crf: o.crf,
        keepMkv: o.keepMkv,
        framesWritten: this.counts.written,
        clean: this.failure === undefined,
      });
      const problem = this.failure ?? r.problems[0];
      const files: TakeSummary['files'] = {};
      if (r.mp4) files.mp4 = r.mp4;
      if (r.smooth) files.smooth = r.smooth;
      if (r.mkv) files.mkv = r.mkv;
      summary = this.summary(files, r.frames, r.audio, r.verified, problem);
    } catch (e) {
      // finishTake reports ffmpeg's failures itself; this is for the unexpected (a file system error).
      const problem = new RhodopsError('FFMPEG_FAILED', `recording ${this.name}: finishing the take failed: ${messageOf(e)}`, { cause: e });
      summary = this.summary({ mkv: this.mkvPath }, null, false, false, this.failure ?? problem);
    }
    this.stateNow = 'done';
    const f = summary.files;
    log.info(
      `recording ${this.name}: ${summary.framesWritten} frames (${summary.durationS.toFixed(2)} s), ${summary.framesDropped} dropped` +
        ` → ${[f.mp4, f.smooth, f.mkv].filter(Boolean).map((p) => path.basename(p!)).join(', ') || 'no file'}`,
    );
    this.emit('done', summary);
    return summary;
  }

  private summary(files: TakeSummary['files'], frames: number | null, audio: boolean, verified: boolean, problem: RhodopsError | undefined): TakeSummary {
    const s: TakeSummary = {
      name: this.name,
      dir: this.dir,
      files,
      framesPushed: this.counts.pushed,
      framesWritten: this.counts.written,
      framesDropped: this.counts.dropped,
      framesRepeated: this.counts.repeated,
      durationS: (frames ?? this.counts.written) / this.options.fps,
      elapsedS: ((this.endedAt ?? performance.now()) - this.startedAt) / 1000,
      audio,
      verified,
    };
    if (problem) s.error = { code: problem.code, message: problem.message, ...(problem.hint ? { hint: problem.hint } : {}) };
    return s;
  }

  /** Moves queued frames into ffmpeg's stdin for as long as it accepts them; closes stdin once a stopped take's queue is empty. */
  private pump(): void {
    if (this.waitingDrain || this.inputEnded || this.failure) return;
    for (let frame = this.queue.shift(); frame !== undefined; frame = this.queue.shift()) {
      this.counts.written++;
      if (!this.proc.stdin.write(frame)) {
        this.waitingDrain = true;
        this.proc.stdin.once('drain', () => {
          this.waitingDrain = false;
          this.pump();
        });
        return;
      }
    }
    if (this.stateNow === 'stopping') {
      this.inputEnded = true;
      this.proc.stdin.end();
    }
  }

  private describeFailure(exit: FfmpegExit): RhodopsError {
    const tail = exit.stderr;
    const mkv = path.basename(this.mkvPath);
    if (exit.code === 255) {
      // ffmpeg's exit code after SIGINT/SIGTERM, which it handles by closing the file properly. A Ctrl-C in the
      // terminal reaches it too: it shares the server's process group.
      return new RhodopsError('FFMPEG_FAILED', `recording ${this.name}: ffmpeg was interrupted by a signal (exit code 255) and closed ${mkv}${tail ? `: ${tail}` : ''}`, {
        hint: `Ctrl-C in the terminal interrupts ffmpeg too; ${mkv} is complete up to that moment, and stopping the take makes its MP4.`,
      });
    }
    const how = exit.spawnError ? `ffmpeg could not start: ${exit.spawnError.message}` : exit.signal ? `ffmpeg was killed with signal ${exit.signal}` : `ffmpeg exited with code ${exit.code}`;
    return new RhodopsError('FFMPEG_FAILED', `recording ${this.name}: ${how}${tail ? `: ${tail}` : ''}`, {
      hint: `Check free disk space in ${this.dir} and that ffmpeg still runs; ${mkv} keeps what was recorded before the failure.`,
    });
  }

  private onExit(failure: RhodopsError | undefined): void {
    if (this.endedAt !== null) return;
    this.endedAt = performance.now();
    activeRecordings.delete(this.mkvPath);
    if (failure) {
      this.failure = failure;
      if (this.stateNow === 'recording') this.stateNow = 'failed';
      this.queue.clear();
      this.last = undefined;
      this.proc.stdin.destroy();
      if (this.listenerCount('error') > 0) this.emit('error', failure);
      else log.error(failure.describe());
    }
    this.emit('ended', failure ? { error: failure } : {});
    this.markExited();
  }
}

let prepared: Promise<string> | null = null;

/**
 * Finds ffmpeg (and ffprobe), which takes a run of each. Call it when the server starts so the first take
 * records from the moment it is asked for. Resolves to ffmpeg's path.
 */
export function prepareRecorder(): Promise<string> {
  prepared ??= (async () => {
    const bin = await resolveFfmpeg();
    await resolveFfprobe();
    return bin.path;
  })().catch((e: unknown) => {
    prepared = null;
    throw e;
  });
  return prepared;
}

/**
 * Starts a take: checks the options (BAD_OPTION), creates the directory (RECORDING_DIR_UNWRITABLE),
 * checks the audio file (RECORDING_AUDIO_INVALID), reserves the name and spawns ffmpeg
 * (FFMPEG_UNAVAILABLE / FFMPEG_FAILED). The take records from the moment this resolves.
 */
export async function startTake(opts: TakeOptions): Promise<Take> {
  const o = resolveTakeOptions(opts);
  if (o.audio !== undefined) {
    const isFile = await fs.stat(o.audio).then((s) => s.isFile(), () => false);
    if (!isFile) throw new RhodopsError('RECORDING_AUDIO_INVALID', `recording: audio file ${o.audio} does not exist.`, { hint: 'Pass the path of an audio file (wav, mp3, flac, m4a, ogg…).' });
    const audible = await hasAudioStream(o.audio).catch(() => false);
    if (audible === false) throw new RhodopsError('RECORDING_AUDIO_INVALID', `recording: ${o.audio} has no audio stream ffmpeg can read.`, { hint: 'Convert it to a common format (wav, mp3, flac, m4a), or record without audio.' });
  }
  const ffmpegPath = await prepareRecorder();
  let name: string;
  try {
    await fs.mkdir(o.dir, { recursive: true });
    name = await reserveName(o.dir, o.name ?? `take-${stamp(new Date())}`);
  } catch (e) {
    if (e instanceof RhodopsError) throw e;
    throw new RhodopsError('RECORDING_DIR_UNWRITABLE', `recording: cannot write takes into ${o.dir}: ${messageOf(e)}`, {
      hint: 'Pick a directory you can write to, or fix its permissions.',
      cause: e,
    });
  }
  const take = new Take(o, name, ffmpegPath);
  try {
    await take.launch();
  } catch (e) {
    await fs.rm(take.mkvPath, { force: true });
    throw e;
  }
  log.info(`recording ${name} (${o.width}×${o.height} @ ${o.fps} fps${o.audio ? ', with audio' : ''}${o.smooth ? ', smoothed copy' : ''}) → ${take.mkvPath}`);
  return take;
}
