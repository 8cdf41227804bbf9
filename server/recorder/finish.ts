/**
 * After the live ffmpeg has ended: MKV → standard MP4 (the audio file muxed in), verified, then the
 * smoothed copy. The MKV is deleted only once the MP4 holds every frame written to ffmpeg; it is
 * kept whenever that cannot be shown (the take failed, no ffprobe, a count differs) or when asked.
 */
import { promises as fs } from 'node:fs';
import { RhodopsError, isRhodopsError, messageOf } from '../../core/errors.ts';
import { runFfmpeg } from '../../core/ffmpeg.ts';
import { tempNameFor } from '../../core/fsutil.ts';
import { logger } from '../../core/log.ts';
import { remuxArgs, smoothArgs } from './args.ts';
import type { X264Preset } from './options.ts';
import { countVideoPackets } from './probe.ts';

const log = logger('recorder');

export interface FinishSpec {
  mkv: string;
  mp4: string;
  smoothMp4: string | undefined;
  audio: string | undefined;
  audioOffset: number;
  audioLoop: boolean;
  fps: number;
  preset: X264Preset;
  crf: number;
  keepMkv: boolean;
  /** Frames handed to ffmpeg. */
  framesWritten: number;
  /** ffmpeg ended by itself after stdin was closed (not killed, no error). */
  clean: boolean;
}

export interface FinishResult {
  mp4?: string;
  smooth?: string;
  mkv?: string;
  /** Video frames in the MP4 (or in the MKV when there is no MP4), when known. */
  frames: number | null;
  audio: boolean;
  /** The MP4 was checked with ffprobe to hold every frame written. */
  verified: boolean;
  problems: RhodopsError[];
}

async function size(file: string): Promise<number> {
  return fs.stat(file).then(
    (s) => s.size,
    () => -1,
  );
}

function asFfmpegError(e: unknown, what: string): RhodopsError {
  if (isRhodopsError(e)) return new RhodopsError(e.code, `${what}: ${e.message}`, { hint: e.hint ?? 'Check disk space and that the file is readable.', cause: e });
  return new RhodopsError('FFMPEG_FAILED', `${what}: ${messageOf(e)}`, { hint: 'Check disk space and that the file is readable.', cause: e });
}

/** Runs ffmpeg into a temporary name and renames it into place, so a half-written file never carries the real name. */
async function ffmpegInto(out: string, argsFor: (tmp: string) => string[]): Promise<void> {
  const tmp = tempNameFor(out);
  try {
    await runFfmpeg(argsFor(tmp));
    await fs.rename(tmp, out);
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

export async function finishTake(s: FinishSpec): Promise<FinishResult> {
  const result: FinishResult = { frames: null, audio: false, verified: false, problems: [] };
  const bytes = await size(s.mkv);
  if (bytes < 0) {
    result.problems.push(new RhodopsError('FFMPEG_FAILED', `recording: ${s.mkv} was not written.`, { hint: 'Check that the recording directory is writable and has space.' }));
    return result;
  }
  // null: no ffprobe, or a file it cannot read (then the remux below says why, and the MKV is kept).
  const inMkv = bytes === 0 ? 0 : await countVideoPackets(s.mkv).catch(() => null);
  if (inMkv === 0 || (inMkv === null && s.clean && s.framesWritten === 0)) {
    // Stopped before any frame: nothing worth keeping.
    await fs.rm(s.mkv, { force: true });
    result.frames = 0;
    return result;
  }
  result.mkv = s.mkv;
  const frames = inMkv ?? (s.clean ? s.framesWritten : null);
  result.frames = frames;
  if (inMkv !== null && s.clean && inMkv !== s.framesWritten) {
    log.warn(`recording: ${s.mkv} holds ${inMkv} frames, ${s.framesWritten} were written to ffmpeg; keeping it`);
  }

  try {
    const durationS = frames === null ? undefined : frames / s.fps;
    await ffmpegInto(s.mp4, (out) => remuxArgs({ mkv: s.mkv, out, fps: s.fps, audio: s.audio, audioOffset: s.audioOffset, audioLoop: s.audioLoop, durationS }));
    result.mp4 = s.mp4;
    result.audio = s.audio !== undefined;
  } catch (e) {
    result.problems.push(asFfmpegError(e, `recording: remuxing ${s.mkv} to MP4 failed (the MKV is kept)`));
    return result;
  }

  const inMp4 = await countVideoPackets(s.mp4).catch(() => null);
  if (inMp4 !== null) result.frames = inMp4;
  result.verified = s.clean && inMp4 !== null && inMp4 === s.framesWritten;
  if (result.verified && !s.keepMkv) {
    await fs.rm(s.mkv, { force: true });
    delete result.mkv;
  } else if (!result.verified) {
    log.warn(`recording: kept ${s.mkv} (${s.clean ? (inMp4 === null ? 'no ffprobe to verify the MP4' : `the MP4 holds ${inMp4} of ${s.framesWritten} frames`) : 'the take did not end cleanly'})`);
  }

  if (s.smoothMp4 !== undefined) {
    const smooth = s.smoothMp4;
    try {
      await ffmpegInto(smooth, (out) => smoothArgs({ mp4: s.mp4, out, fps: s.fps, preset: s.preset, crf: s.crf }));
      result.smooth = smooth;
    } catch (e) {
      result.problems.push(asFfmpegError(e, `recording: the smoothed copy of ${s.mp4} failed`));
    }
  }
  return result;
}
