/**
 * Audio files through ffmpeg: played along at the pace of a clock (the rehearsal source, and the
 * track a recording is muxed with), or decoded whole for the offline renderer.
 *
 * Playback decodes ahead (up to `readAheadS`, then pauses ffmpeg through pipe backpressure) and hands
 * samples to the extractor only as the clock passes them, so features appear when the music is heard.
 * The clock is given (seconds, any origin), not read from the system, so the server can drive it from its
 * render clock and tests from a fake one. Samples go out from `pump()`, which a timer calls every
 * `pumpIntervalMs`, or the caller calls itself (pumpIntervalMs: 0) right before reading features.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { RhodopsError } from '../errors.ts';
import { checkRange } from '../options.ts';
import { resolveFfmpeg, resolveFfprobe } from '../ffmpeg.ts';
import { logger } from '../log.ts';
import { describeExit, FfmpegPcm, pcmOutputArgs } from './ffmpeg-pcm.ts';
import type { Seconds } from './options.ts';
import { BaseAudioSource, type AudioSourceKind, type SourceBaseOptions } from './source.ts';
import { track } from '../children.ts';

const log = logger('audio');

function invalid(file: string, why: string, cause?: unknown): RhodopsError {
  return new RhodopsError('AUDIO_FILE_INVALID', `Cannot read audio from ${file}: ${why}.`, {
    hint: 'Pass an existing audio file in a format ffmpeg reads (wav, mp3, flac, ogg, m4a), or a video with an audio track.',
    ...(cause === undefined ? {} : { cause }),
  });
}

async function checkReadable(file: string): Promise<void> {
  const st = await fs.stat(file).catch((e: unknown) => {
    throw invalid(file, 'no such file', e);
  });
  if (!st.isFile()) throw invalid(file, 'not a file');
}

/** ffmpeg input and output options to decode the first audio stream of `file` to mono f32le at `rate`. */
function decodeArgs(file: string, rate: number): string[] {
  return ['-i', file, '-map', '0:a:0', ...pcmOutputArgs(rate)];
}

/** The file's duration in seconds from ffprobe; null when there is no ffprobe or it does not say. */
export async function probeDuration(file: string): Promise<Seconds | null> {
  const probe = await resolveFfprobe();
  if (!probe) return null;
  return new Promise((resolve) => {
    track(execFile(probe.path, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=noprint_wrappers=1:nokey=1', file], { timeout: 15_000 }, (err, stdout) => {
      const d = Number(String(stdout).trim());
      resolve(!err && Number.isFinite(d) && d > 0 ? d : null);
    }));
  });
}

/** The whole file as mono float samples at `rate` (the offline renderer's input). */
export async function decodeAudioFile(file: string, rate = 44100): Promise<Float32Array> {
  checkRange('rate', rate, { min: 8000, max: 192000, integer: true }, { where: 'decodeAudioFile', hint: "Use the extractor's sample rate (44100 by default)." });
  await checkReadable(file);
  const { path } = await resolveFfmpeg();
  const chunks: Float32Array[] = [];
  let total = 0;
  const proc = new FfmpegPcm(path, decodeArgs(file, rate), (s) => {
    chunks.push(s);
    total += s.length;
  });
  const exit = await proc.exited;
  if (exit.spawnError || exit.code !== 0) throw invalid(file, `ffmpeg ${describeExit(exit)}`);
  if (total === 0) throw invalid(file, 'it holds no audio samples');
  const out = new Float32Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export interface FileSourceOptions extends SourceBaseOptions {
  path: string;
  /** Start again at the end (rehearsing over a loop); else the source ends with the file. */
  loop?: boolean;
  /** Seconds on any origin; playback position = clock() − clock() at start. Default: performance.now() / 1000. */
  clock?: () => Seconds;
  /** How far ahead of the clock to decode. */
  readAheadS?: Seconds;
  /** The pump timer's period; 0 = no timer, the caller calls pump(). */
  pumpIntervalMs?: number;
}

/** A decoded chunk, or the end of one pass through the file. */
type Queued = Float32Array | { passEnd: number };

export class FileAudioSource extends BaseAudioSource {
  readonly kind: AudioSourceKind = 'file';
  readonly path: string;
  /** From ffprobe at start; else known after the first pass; null until then. */
  durationS: Seconds | null = null;
  private readonly o: FileSourceOptions;
  private readonly clock: () => Seconds;
  private readonly rate: number;
  private proc: FfmpegPcm | null = null;
  private queue: Queued[] = [];
  private headOffset = 0;
  private buffered = 0;
  private paused = false;
  private decodedInPass = 0;
  private clockStart = 0;
  /** Samples handed to the extractor since start, over all passes. */
  private delivered = 0;
  /** …and since the current pass began (the position in the file). */
  private deliveredInPass = 0;
  private timer: NodeJS.Timeout | null = null;
  private ffmpegPath = '';
  /** True during start(): a decoder failure then rejects start() instead of being reported as an event. */
  private opening = false;

  constructor(o: FileSourceOptions) {
    super(`file ${o.path}`, o);
    this.o = o;
    this.path = o.path;
    this.clock = o.clock ?? (() => performance.now() / 1000);
    this.rate = this.extractor.sampleRate;
    checkRange('readAheadS', o.readAheadS ?? 2, { min: 0.1, max: 60, unit: ' s' }, { where: 'file source', hint: 'Leave it out for 2 s.' });
  }

  /** Whether it starts again at the end. */
  get loops(): boolean {
    return this.o.loop ?? false;
  }

  /** Where playback is in the file, in seconds (restarts at 0 on each loop). The offset for muxing this file into a recording that starts now. */
  position(): Seconds {
    return this.deliveredInPass / this.rate;
  }

  protected async open(): Promise<void> {
    await checkReadable(this.path);
    this.ffmpegPath = (await resolveFfmpeg()).path;
    this.durationS = await probeDuration(this.path);
    this.queue = [];
    this.headOffset = 0;
    this.buffered = 0;
    this.delivered = 0;
    this.deliveredInPass = 0;
    this.opening = true;
    try {
      await this.spawnPass();
    } finally {
      this.opening = false;
    }
    this.clockStart = this.clock();
    const every = this.o.pumpIntervalMs ?? 10;
    if (every > 0) {
      this.timer = setInterval(() => this.pump(), every);
      this.timer.unref();
    }
    log.info(`${this.name}: playing${this.durationS ? ` (${this.durationS.toFixed(1)} s)` : ''}${this.o.loop ? ', looped' : ''}`);
  }

  /** Starts decoding one pass; resolves at its first samples, rejects if it ends without any. */
  private spawnPass(): Promise<void> {
    this.decodedInPass = 0;
    let gotData: () => void = () => undefined;
    const first = new Promise<void>((resolve) => (gotData = resolve));
    const proc = new FfmpegPcm(this.ffmpegPath, decodeArgs(this.path, this.rate), (samples) => {
      if (this.proc !== proc) return;
      this.queue.push(samples);
      this.buffered += samples.length;
      this.decodedInPass += samples.length;
      gotData();
      if (this.buffered > (this.o.readAheadS ?? 2) * this.rate && !this.paused) {
        this.paused = true;
        proc.pause();
      }
    });
    this.proc = proc;
    this.paused = false;
    const ended = proc.exited.then((exit) => {
      if (this.proc !== proc || exit.killedByUs) return;
      this.proc = null;
      if (exit.spawnError || exit.code !== 0) throw invalid(this.path, `ffmpeg ${describeExit(exit)}`);
      if (this.decodedInPass === 0) throw invalid(this.path, 'it holds no audio samples');
      this.queue.push({ passEnd: this.decodedInPass });
      // Looping: decode the next pass now, while the queue still holds the end of this one, so there is no gap.
      if (this.o.loop && this.running) this.spawnPass().catch(() => undefined); // its failures come through fail()
    });
    // During start() a failure rejects start(); afterwards it ends the run, reported once.
    ended.catch((e: unknown) => {
      if (this.running && !this.opening && e instanceof RhodopsError) this.fail(e);
    });
    return Promise.race([first, ended]);
  }

  /** Hands the extractor every sample the clock has passed; called by the timer or by the caller. */
  pump(): void {
    if (!this.running) return;
    const target = Math.floor((this.clock() - this.clockStart) * this.rate);
    let want = target - this.delivered;
    while (want > 0 && this.queue.length > 0) {
      const head = this.queue[0]!;
      if (!(head instanceof Float32Array)) {
        this.queue.shift();
        if (this.durationS === null || Math.abs(this.durationS - head.passEnd / this.rate) > 0.05) this.durationS = head.passEnd / this.rate;
        if (!this.o.loop) {
          for (const frame of this.extractor.flush()) this.announce(frame);
          this.running = false;
          void this.close().then(() => this.finish());
          return;
        }
        this.deliveredInPass = 0;
        continue;
      }
      const n = Math.min(want, head.length - this.headOffset);
      const chunk = head.subarray(this.headOffset, this.headOffset + n);
      this.headOffset += n;
      if (this.headOffset === head.length) {
        this.queue.shift();
        this.headOffset = 0;
      }
      this.buffered -= n;
      this.delivered += n;
      this.deliveredInPass += n;
      want -= n;
      this.deliver(chunk);
    }
    if (this.paused && this.proc && this.buffered < ((this.o.readAheadS ?? 2) * this.rate) / 2) {
      this.paused = false;
      this.proc.resume();
    }
  }

  protected async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const proc = this.proc;
    this.proc = null;
    this.queue = [];
    this.buffered = 0;
    if (proc) await proc.kill();
  }
}
