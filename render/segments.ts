/**
 * Video out of an offline render: frames into H.264 segments (Matroska, each one complete when renamed
 * from its .partial name, so an interrupted render resumes at the first missing segment), then the segments
 * concatenated without re-encoding and the song muxed in as AAC, into an MP4 written beside and renamed.
 */
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describeExit, FfmpegProcess, resolveFfmpeg, runFfmpeg, type FfmpegExit } from '../core/ffmpeg.ts';
import { RhodopsError } from '../core/errors.ts';
import { h264Output, rawRgbInput } from '../core/video.ts';

export const segmentName = (i: number) => `segment-${String(i).padStart(5, '0')}.mkv`;

export class SegmentEncoder {
  private exit: FfmpegExit | null = null;

  private constructor(
    private readonly proc: FfmpegProcess,
    private readonly partial: string,
    readonly file: string,
    private readonly frameBytes: number,
  ) {
    void proc.exited.then((e) => (this.exit = e));
  }

  static async start(file: string, o: { width: number; height: number; fps: number; crf?: number }): Promise<SegmentEncoder> {
    const { path: ffmpeg } = await resolveFfmpeg();
    const partial = `${file}.partial`;
    // One thread and a fixed GOP: the same frames make the same bytes on any machine with this ffmpeg.
    const args = ['-y', ...rawRgbInput(o.width, o.height, o.fps), '-i', 'pipe:0',
      ...h264Output({ width: o.width, height: o.height, fps: o.fps, preset: 'fast', crf: o.crf ?? 14 }), '-threads', '1', '-f', 'matroska', partial];
    const proc = new FfmpegProcess(ffmpeg, args, { stdin: true });
    await proc.started.catch((e: unknown) => {
      throw new RhodopsError('FFMPEG_FAILED', `encoding ${path.basename(file)}: ffmpeg did not start: ${String(e)}`);
    });
    return new SegmentEncoder(proc, partial, file, o.width * o.height * 3);
  }

  /** Writes one frame, waiting while ffmpeg's pipe is full (memory stays bounded however slow x264 is). */
  async write(rgb: Uint8Array): Promise<void> {
    if (rgb.length !== this.frameBytes) throw new RhodopsError('BAD_OPTION', `frame of ${rgb.length} bytes; this video takes ${this.frameBytes}`);
    if (this.exit) throw this.failure(this.exit);
    const stdin = this.proc.stdin;
    if (!stdin.write(rgb)) {
      const stop = new AbortController();
      await Promise.race([once(stdin, 'drain', { signal: stop.signal }).catch(() => undefined), this.proc.exited]);
      stop.abort();
    }
  }

  private failure(exit: FfmpegExit): RhodopsError {
    return new RhodopsError('FFMPEG_FAILED', `encoding ${path.basename(this.file)}: ffmpeg ${describeExit(exit)}`);
  }

  /** Ends the segment: the file is complete (renamed into place) when this resolves. */
  async finish(): Promise<void> {
    this.proc.stdin.end();
    const exit = await this.proc.exited;
    if (exit.code !== 0) throw this.failure(exit);
    await fs.rename(this.partial, this.file);
  }

  /** Stops without keeping anything (an error elsewhere). */
  async abort(): Promise<void> {
    await this.proc.kill('SIGKILL', 0);
    await fs.rm(this.partial, { force: true });
  }
}

/**
 * The segments in order, concatenated (stream copy), the song muxed in from 0 as AAC, cut to the shorter
 * stream; written to OUT.partial.mp4 and renamed, so OUT is always a whole file.
 */
export async function assembleVideo(o: { segments: string[]; audio: string | null; out: string; workDir: string; audioOffset?: number; audioLoop?: boolean }): Promise<void> {
  if (o.segments.length === 0) throw new RhodopsError('BAD_OPTION', 'no frames were rendered; nothing to assemble');
  const list = path.join(o.workDir, 'segments.txt');
  await fs.writeFile(list, o.segments.map((s) => `file '${s.replace(/'/g, "'\\''")}'\n`).join(''));
  const partial = o.out.replace(/(\.mp4)?$/i, '.partial.mp4');
  // A replay's song starts where it was when the log began, and loops if it looped live.
  const input = [...(o.audioLoop ? ['-stream_loop', '-1'] : []), ...(o.audioOffset ? ['-ss', o.audioOffset.toFixed(6)] : [])];
  const audio = o.audio ? [...input, '-i', o.audio, '-map', '0:v:0', '-map', '1:a:0', '-c:a', 'aac', '-b:a', '192k', '-shortest'] : ['-map', '0:v:0'];
  await runFfmpeg(['-f', 'concat', '-safe', '0', '-i', list, ...audio, '-c:v', 'copy', '-movflags', '+faststart', partial]);
  await fs.rename(partial, o.out);
}
