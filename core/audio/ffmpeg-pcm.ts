/**
 * One ffmpeg process that writes mono f32le PCM to stdout: used for live capture, for playing a file
 * along, and for decoding a whole file. It turns the byte stream into Float32Arrays, keeps the tail of
 * stderr for error messages, and reports its exit once, whether it ended, failed to spawn, or was killed.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { F32leReader } from './pcm.ts';
import { track } from '../children.ts';

export interface PcmExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when ffmpeg could not be started at all (ENOENT, EACCES). */
  spawnError: Error | null;
  /** The last lines ffmpeg wrote on stderr, joined with ' | '. */
  stderr: string;
  /** We asked it to stop (kill()), so a non-zero exit is not a failure. */
  killedByUs: boolean;
}

/** Output options shared by every use: mono float at `rate`, written through at once. */
export function pcmOutputArgs(rate: number): string[] {
  return ['-vn', '-ac', '1', '-ar', String(rate), '-f', 'f32le', '-flush_packets', '1', 'pipe:1'];
}

export class FfmpegPcm {
  private readonly child: ChildProcessByStdio<null, Readable, Readable>;
  private readonly reader = new F32leReader();
  private stderrTail = '';
  private killedByUs = false;
  private spawnError: Error | null = null;
  readonly exited: Promise<PcmExit>;

  /**
   * @param ffmpeg path of the binary (from resolveFfmpeg)
   * @param args everything after the binary; '-hide_banner -loglevel error -nostdin' are prepended
   * @param onSamples each stdout chunk as whole samples (the array may be kept)
   */
  constructor(ffmpeg: string, args: string[], onSamples: (samples: Float32Array) => void) {
    this.child = track(spawn(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-nostdin', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
    this.child.stdout.on('data', (chunk: Buffer) => {
      const samples = this.reader.read(chunk);
      if (samples.length > 0) onSamples(samples);
    });
    this.child.stderr.on('data', (d: Buffer) => (this.stderrTail = (this.stderrTail + d.toString()).slice(-4000)));
    this.exited = new Promise<PcmExit>((resolve) => {
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

  /** Backpressure: stop reading stdout (ffmpeg blocks once the pipe fills) / read again. */
  pause(): void {
    this.child.stdout.pause();
  }

  resume(): void {
    this.child.stdout.resume();
  }

  /** Ends the process: SIGTERM, then SIGKILL if it is still there after `graceMs`. Resolves when it has exited. */
  async kill(graceMs = 1000): Promise<PcmExit> {
    this.killedByUs = true;
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      timer.unref();
      const exit = await this.exited;
      clearTimeout(timer);
      return exit;
    }
    return this.exited;
  }

  private exitInfo(code: number | null, signal: NodeJS.Signals | null): PcmExit {
    const lines = this.stderrTail.trim().split('\n').filter((l) => l.trim().length > 0);
    return { code, signal, spawnError: this.spawnError, stderr: lines.slice(-3).join(' | '), killedByUs: this.killedByUs };
  }
}

/** "exited with code 1: <stderr>" / "was killed by SIGKILL" / "could not start: …", for messages. */
export function describeExit(e: PcmExit): string {
  if (e.spawnError) return `could not start: ${e.spawnError.message}`;
  const how = e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
  return e.stderr ? `${how}: ${e.stderr}` : how;
}
