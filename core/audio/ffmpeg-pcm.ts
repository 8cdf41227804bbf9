/**
 * One ffmpeg process that writes mono f32le PCM to stdout: used for live capture, for playing a file
 * along, and for decoding a whole file. It turns the byte stream into Float32Arrays; the process, its stderr
 * and its exit are core/ffmpeg.ts's.
 */
import { FfmpegProcess, type FfmpegExit } from '../ffmpeg.ts';
import { F32leReader } from './pcm.ts';

export { describeExit } from '../ffmpeg.ts';
export type PcmExit = FfmpegExit;

/** Output options shared by every use: mono float at `rate`, written through at once. */
export function pcmOutputArgs(rate: number): string[] {
  return ['-vn', '-ac', '1', '-ar', String(rate), '-f', 'f32le', '-flush_packets', '1', 'pipe:1'];
}

export class FfmpegPcm {
  private readonly proc: FfmpegProcess;
  private readonly reader = new F32leReader();
  readonly exited: Promise<PcmExit>;

  /**
   * @param ffmpeg path of the binary (from resolveFfmpeg)
   * @param args everything after the binary's common options
   * @param onSamples each stdout chunk as whole samples (the array may be kept)
   */
  constructor(ffmpeg: string, args: string[], onSamples: (samples: Float32Array) => void) {
    this.proc = new FfmpegProcess(ffmpeg, args, { stdout: true });
    this.proc.stdout.on('data', (chunk: Buffer) => {
      const samples = this.reader.read(chunk);
      if (samples.length > 0) onSamples(samples);
    });
    this.exited = this.proc.exited;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Backpressure: stop reading stdout (ffmpeg blocks once the pipe fills) / read again. */
  pause(): void {
    this.proc.stdout.pause();
  }

  resume(): void {
    this.proc.stdout.resume();
  }

  /** Ends the process: SIGTERM, then SIGKILL if it is still there after `graceMs`. Resolves when it has exited. */
  kill(graceMs = 1000): Promise<PcmExit> {
    return this.proc.kill('SIGTERM', graceMs);
  }
}
