/**
 * What a take is asked for, merged over complete defaults and checked with messages that name the
 * option and the valid range, before any file or process exists.
 */
import path from 'node:path';
import { RhodopsError } from '../../core/errors.ts';
import { checkRange } from '../../core/options.ts';
import { FPS_RANGE } from '../../core/video.ts';

export const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow'] as const;
export type X264Preset = (typeof X264_PRESETS)[number];

export interface TakeOptions {
  /** Directory the take's files go into; created when missing. */
  dir: string;
  /** File name stem (letters, digits, `.`, `_`, `-`); default `take-YYYYMMDD-HHMMSS`. Never overwrites: `-2`, `-3`… are appended. */
  name?: string;
  width: number;
  height: number;
  /** Frames per second of the take, an integer: the MP4's timescale is the fps, so every frame lasts exactly 1/fps. */
  fps: number;
  /** An audio file muxed in (AAC), from `audioOffset` at the start of the take, cut or padded with silence to its length. */
  audio?: string;
  /** Where in the audio file the take starts, in seconds (a song already playing when recording began). Default 0. */
  audioOffset?: number;
  /** The song plays in a loop (as the server plays it along): it starts again at its end instead of falling silent. */
  audioLoop?: boolean;
  /** Also write `<name>.smooth.mp4` at twice the frame rate through ffmpeg's motion interpolation. */
  smooth?: boolean;
  /** Most frames waiting for ffmpeg; beyond that, frames are dropped and counted. Default: 2 s of frames, at most 256 MiB. */
  queueFrames?: number;
  /** libx264 preset; faster presets keep up at larger sizes. Default `veryfast`. */
  preset?: X264Preset;
  /** libx264 constant rate factor, 0 (lossless) to 51; default 18, near-transparent for posting. */
  crf?: number;
  /** Keep the crash-safe MKV after a verified MP4 was made from it. Default false (it is always kept when not verified). */
  keepMkv?: boolean;
}

export interface ResolvedTakeOptions extends Required<Omit<TakeOptions, 'name' | 'audio'>> {
  name: string | undefined;
  audio: string | undefined;
}

export const DEFAULT_QUEUE_BYTES = 256 * 1024 * 1024;
const MAX_SIDE = 8192;

export function frameBytesOf(o: { width: number; height: number }): number {
  return o.width * o.height * 3;
}

/** The default queue: 2 seconds of frames, fewer when that would pass 256 MiB, never under 2. */
export function defaultQueueFrames(o: { width: number; height: number; fps: number }): number {
  return Math.max(2, Math.min(2 * o.fps, Math.floor(DEFAULT_QUEUE_BYTES / frameBytesOf(o))));
}

function bad(message: string, hint?: string): RhodopsError {
  return new RhodopsError('BAD_OPTION', message, hint === undefined ? {} : { hint });
}

function intIn(name: string, v: unknown, min: number, max: number): number {
  return checkRange(name, v, { min, max, integer: true }, { where: 'recording' });
}

/** A take name that is safe as a file name stem; a trailing .mp4/.mkv is dropped. */
export function checkTakeName(name: string): string {
  const stem = name.replace(/\.(mp4|mkv)$/i, '');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(stem) || stem.endsWith('.smooth')) {
    throw bad(`recording: name '${name}' is not a safe file name.`, 'Use up to 100 letters, digits, ".", "_" or "-", starting with a letter or digit.');
  }
  return stem;
}

export function resolveTakeOptions(o: TakeOptions): ResolvedTakeOptions {
  if (typeof o.dir !== 'string' || o.dir.length === 0) throw bad('recording: dir must be a directory path.');
  const width = intIn('width', o.width, 1, MAX_SIDE);
  const height = intIn('height', o.height, 1, MAX_SIDE);
  const fps = checkRange('fps', o.fps, FPS_RANGE, { where: 'recording' });
  const preset = o.preset ?? 'veryfast';
  if (!X264_PRESETS.includes(preset)) throw bad(`recording: unknown preset '${String(preset)}'.`, `Use one of: ${X264_PRESETS.join(', ')}.`);
  const crf = o.crf ?? 18;
  if (typeof crf !== 'number' || !(crf >= 0 && crf <= 51)) throw bad(`recording: crf must be from 0 to 51, got ${String(crf)}.`);
  const queueFrames = o.queueFrames === undefined ? defaultQueueFrames({ width, height, fps }) : intIn('queueFrames', o.queueFrames, 1, 100_000);
  if (o.audio !== undefined && (typeof o.audio !== 'string' || o.audio.length === 0)) throw bad('recording: audio must be a file path.');
  const audioOffset = o.audioOffset ?? 0;
  if (typeof audioOffset !== 'number' || !(audioOffset >= 0 && audioOffset < 86_400)) throw bad(`recording: audioOffset must be a number of seconds ≥ 0, got ${String(audioOffset)}.`);
  return {
    dir: path.resolve(o.dir),
    name: o.name === undefined ? undefined : checkTakeName(o.name),
    width,
    height,
    fps,
    audio: o.audio === undefined ? undefined : path.resolve(o.audio),
    audioOffset,
    audioLoop: o.audioLoop ?? false,
    smooth: o.smooth ?? false,
    queueFrames,
    preset,
    crf,
    keepMkv: o.keepMkv ?? false,
  };
}
