/**
 * ffmpeg argument lists for a take, as plain data: the live encode (raw RGB on stdin → H.264 in MKV),
 * the remux to a standard MP4 (with the audio file muxed in), and the motion-interpolated copy.
 */
import { COLOR_TAGS, h264Output, rawRgbInput } from '../../core/video.ts';
import type { X264Preset } from './options.ts';

export interface EncodeSpec {
  width: number;
  height: number;
  fps: number;
  preset: X264Preset;
  crf: number;
}

/** Options before `-i pipe:0`: raw frames, one every 1/fps, timestamps from the frame count. */
export function liveInputOptions(s: EncodeSpec): string[] {
  return rawRgbInput(s.width, s.height, s.fps);
}

/**
 * Options for the crash-safe MKV. Matroska buffers a cluster in memory until it closes, so a kill
 * loses the open cluster: a cluster closes at a keyframe once it holds 4 KiB, or after
 * `cluster_time_limit` ms; the 1 s limit bounds the loss to about a second plus x264's lookahead (the frames
 * of a cluster decode from the keyframe before it, which is in the file). `-flush_packets 1` writes each
 * closed cluster through to the file at once.
 */
export function liveOutputOptions(s: EncodeSpec): string[] {
  return [
    '-map', '0:v:0',
    ...h264Output(s),
    '-f', 'matroska',
    '-cluster_time_limit', '1000',
    '-flush_packets', '1',
  ];
}

export interface RemuxSpec {
  mkv: string;
  /** Written to this name (format forced to mp4), then renamed by the caller. */
  out: string;
  fps: number;
  audio?: string | undefined;
  /** Seconds into the audio file where the video starts. */
  audioOffset?: number | undefined;
  /** Loop the audio file (a song played along in a loop): it never falls silent before the video ends. */
  audioLoop?: boolean | undefined;
  /** The take's length: the audio is cut (or padded with silence) to it. Unknown → `-shortest`. */
  durationS?: number | undefined;
}

/**
 * MKV → standard MP4 without re-encoding the video. The video track's timescale is the fps: the MKV
 * stores millisecond timestamps (33, 67, 100… at 30 fps), and rescaling them to 1/fps rounds them back
 * to exact frame times, so the MP4 is constant frame rate (what editors want), not 30.005 fps.
 */
export function remuxArgs(r: RemuxSpec): string[] {
  const seek = r.audioOffset ? ['-ss', r.audioOffset.toFixed(6)] : [];
  const loop = r.audioLoop ? ['-stream_loop', '-1'] : [];
  const audio = r.audio === undefined ? [] : [...loop, ...seek, '-i', r.audio];
  const audioOut =
    r.audio === undefined
      ? []
      : ['-map', '1:a:0', '-c:a', 'aac', '-b:a', '192k', '-af', 'apad', ...(r.durationS === undefined ? ['-shortest'] : ['-t', r.durationS.toFixed(6)])];
  return ['-i', r.mkv, ...audio, '-map', '0:v:0', '-c:v', 'copy', ...audioOut, '-video_track_timescale', String(r.fps), '-movflags', '+faststart', '-f', 'mp4', r.out];
}

/**
 * The "smoothed" copy at 2×fps: ffmpeg's motion-compensated interpolation (`mi_mode=mci`), re-encoded;
 * the audio is copied. minterpolate is single-threaded and slow: about real time at 256², a quarter of it at 512².
 */
export function smoothArgs(s: { mp4: string; out: string; fps: number; preset: X264Preset; crf: number }): string[] {
  const fps2 = 2 * s.fps;
  return [
    '-i', s.mp4,
    '-map', '0:v:0', '-map', '0:a?',
    '-vf', `minterpolate=fps=${fps2}:mi_mode=mci`,
    '-c:v', 'libx264', '-preset', s.preset, '-crf', String(s.crf), '-pix_fmt', 'yuv420p', '-g', String(2 * fps2),
    ...COLOR_TAGS,
    '-c:a', 'copy',
    '-video_track_timescale', String(fps2),
    '-movflags', '+faststart',
    '-f', 'mp4', s.out,
  ];
}
