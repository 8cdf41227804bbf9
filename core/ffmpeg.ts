/**
 * ffmpeg, one way. Which binary: $FFMPEG_PATH, else the system's (Debian's has pulse/alsa capture and ffprobe),
 * else the static build bundled by @ffmpeg-installer/ffmpeg (2018, libx264 and aac, no pulse), said once in the
 * log. How it runs: `FfmpegProcess`, a tracked child with the tail of its stderr and its exit reported once,
 * whether it ended, failed to spawn or was killed: live takes, render segments, audio capture and decoding, and
 * one-shot jobs (`runFfmpeg`) all go through it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { promisify } from 'node:util';
import { RhodopsError } from './errors.ts';
import { logger } from './log.ts';
import { track } from './children.ts';

const log = logger('ffmpeg');
const run = promisify(execFile);

export interface FfmpegBinary {
  path: string;
  source: 'FFMPEG_PATH' | 'system' | 'bundled';
  version: string;
}

async function probe(file: string, tool: 'ffmpeg' | 'ffprobe' = 'ffmpeg'): Promise<string | null> {
  try {
    const running = run(file, ['-hide_banner', '-version'], { timeout: 10_000 });
    track(running.child);
    const { stdout } = await running;
    return stdout.split('\n')[0]?.replace(new RegExp(`^${tool} version `), '').split(' ')[0] ?? 'unknown';
  } catch {
    return null;
  }
}

let cached: Promise<FfmpegBinary> | null = null;

export function resolveFfmpeg(): Promise<FfmpegBinary> {
  cached ??= (async () => {
    const tried: string[] = [];
    const env = process.env['FFMPEG_PATH'];
    const candidates: [string, FfmpegBinary['source']][] = [];
    if (env) candidates.push([env, 'FFMPEG_PATH']);
    candidates.push(['ffmpeg', 'system']);
    try {
      const bundled = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
      candidates.push([bundled, 'bundled']);
    } catch {
      tried.push('@ffmpeg-installer/ffmpeg: not installed for this platform');
    }
    for (const [path, source] of candidates) {
      const version = await probe(path);
      if (version) {
        log.info(`using ${source} ffmpeg ${version} (${path})`);
        return { path, source, version };
      }
      tried.push(`${source} (${path}): did not run`);
    }
    cached = null;
    throw new RhodopsError('FFMPEG_UNAVAILABLE', `No working ffmpeg: ${tried.join('; ')}.`, {
      hint: 'Install it (Debian/Ubuntu: apt-get install ffmpeg) or set FFMPEG_PATH to an ffmpeg binary.',
    });
  })();
  return cached;
}

export interface FfprobeBinary {
  path: string;
  source: 'FFPROBE_PATH' | 'sibling' | 'system';
  version: string;
}

let cachedProbe: Promise<FfprobeBinary | null> | null = null;

/**
 * Which ffprobe to run: $FFPROBE_PATH, else the one beside the ffmpeg that
 * resolveFfmpeg chose, else the system's. Null when none runs: the bundled static build has no ffprobe,
 * so callers treat probing as optional (skip a check, leave a duration unknown) and say so.
 */
export function resolveFfprobe(): Promise<FfprobeBinary | null> {
  cachedProbe ??= (async () => {
    const candidates: [string, FfprobeBinary['source']][] = [];
    const env = process.env['FFPROBE_PATH'];
    if (env) candidates.push([env, 'FFPROBE_PATH']);
    const ffmpeg = await resolveFfmpeg().catch(() => null);
    if (ffmpeg && dirname(ffmpeg.path) !== '.') {
      const ext = extname(ffmpeg.path); // '.exe' on Windows
      candidates.push([join(dirname(ffmpeg.path), `ffprobe${ext}`), 'sibling']);
    }
    candidates.push(['ffprobe', 'system']);
    for (const [file, source] of candidates) {
      const version = await probe(file, 'ffprobe');
      if (version) {
        log.info(`using ${source} ffprobe ${version} (${file})`);
        return { path: file, source, version };
      }
    }
    log.warn('no ffprobe found (the bundled ffmpeg has none): recordings are not verified and durations are unknown');
    return null;
  })();
  return cachedProbe;
}

export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when ffmpeg could not be started at all (ENOENT, EACCES). */
  spawnError: Error | null;
  /** The last lines ffmpeg wrote on stderr, joined with ' | '. */
  stderr: string;
  /** We asked it to stop (kill()), so a non-zero exit is not a failure. */
  killedByUs: boolean;
}

/** "exited with code 1: <stderr>" / "was killed by SIGKILL" / "could not start: …", for messages. */
export function describeExit(e: FfmpegExit): string {
  if (e.spawnError) return `could not start: ${e.spawnError.message}`;
  const how = e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
  return e.stderr ? `${how}: ${e.stderr}` : how;
}

/** One ffmpeg child: `-hide_banner -loglevel error` and the caller's arguments; stdin and stdout piped if asked. */
export class FfmpegProcess {
  readonly child: ChildProcess;
  /** Resolves when the process runs; rejects when it could not be started. */
  readonly started: Promise<void>;
  readonly exited: Promise<FfmpegExit>;
  private stderrTail = '';
  private killedByUs = false;
  private spawnError: Error | null = null;

  constructor(ffmpeg: string, args: string[], io: { stdin?: boolean; stdout?: boolean } = {}) {
    const stdin = io.stdin ? 'pipe' : 'ignore';
    const stdout = io.stdout ? 'pipe' : 'ignore';
    this.child = track(spawn(ffmpeg, ['-hide_banner', '-loglevel', 'error', ...(io.stdin ? [] : ['-nostdin']), ...args], { stdio: [stdin, stdout, 'pipe'] }));
    this.child.stderr?.on('data', (d: Buffer) => (this.stderrTail = (this.stderrTail + d.toString()).slice(-4000)));
    // A dead ffmpeg is reported by `exited`; writing to its closed stdin must not throw on its own.
    this.child.stdin?.on('error', () => undefined);
    this.started = new Promise((resolve, reject) => {
      this.child.once('spawn', () => resolve());
      this.child.once('error', reject);
    });
    this.started.catch(() => undefined);
    this.exited = new Promise<FfmpegExit>((resolve) => {
      this.child.once('error', (e) => {
        this.spawnError = e;
        // 'close' may not follow a spawn failure; resolve here too (the promise keeps the first).
        if (this.child.pid === undefined) resolve(this.exitInfo(null, null));
      });
      this.child.once('close', (code, signal) => resolve(this.exitInfo(code, signal)));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get stdin(): Writable {
    if (!this.child.stdin) throw new Error('this ffmpeg was started without stdin');
    return this.child.stdin;
  }

  get stdout(): Readable {
    if (!this.child.stdout) throw new Error('this ffmpeg was started without stdout');
    return this.child.stdout;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined;
  }

  /** Ends the process: `signal` (SIGTERM lets it close its files), then SIGKILL after `graceMs`. Resolves when it has exited. */
  async kill(signal: NodeJS.Signals = 'SIGTERM', graceMs = 1000): Promise<FfmpegExit> {
    this.killedByUs = true;
    if (this.running) {
      this.child.kill(signal);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      timer.unref();
      const exit = await this.exited;
      clearTimeout(timer);
      return exit;
    }
    return this.exited;
  }

  private exitInfo(code: number | null, signal: NodeJS.Signals | null): FfmpegExit {
    const lines = this.stderrTail.trim().split('\n').filter((l) => l.trim().length > 0);
    return { code, signal, spawnError: this.spawnError, stderr: lines.slice(-3).join(' | '), killedByUs: this.killedByUs };
  }
}

/** Runs ffmpeg to completion (overwriting its output); rejects with the tail of its stderr on failure. */
export async function runFfmpeg(args: string[]): Promise<void> {
  const { path } = await resolveFfmpeg();
  const exit = await new FfmpegProcess(path, ['-y', ...args]).exited;
  if (exit.spawnError || exit.code !== 0) throw new RhodopsError('FFMPEG_FAILED', `ffmpeg ${describeExit(exit)}`);
}
