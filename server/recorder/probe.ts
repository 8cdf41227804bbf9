/** ffprobe, JSON output, for checking takes: optional, since the bundled ffmpeg ships without it. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { resolveFfprobe } from '../../core/ffmpeg.ts';
import { track } from '../../core/children.ts';

const run = promisify(execFile);

export interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  pix_fmt?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  nb_read_packets?: string;
  nb_read_frames?: string;
  duration?: string;
}

export interface ProbeResult {
  streams?: ProbeStream[];
  format?: { duration?: string; size?: string };
}

/** Runs ffprobe with `args` and JSON output; null when there is no ffprobe. Rejects when the file cannot be read. */
export async function probeJson(file: string, args: string[]): Promise<ProbeResult | null> {
  const bin = await resolveFfprobe();
  if (!bin) return null;
  const running = run(bin.path, ['-v', 'error', ...args, '-of', 'json', file], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  track(running.child);
  const { stdout } = await running;
  return JSON.parse(stdout) as ProbeResult;
}

/** Video packets in the first video stream: a frame count that reads the container only, without decoding. */
export async function countVideoPackets(file: string): Promise<number | null> {
  const r = await probeJson(file, ['-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=nb_read_packets']);
  const n = Number(r?.streams?.[0]?.nb_read_packets);
  return r && Number.isFinite(n) ? n : null;
}

/** The container's duration in seconds (read from the header: cheap for MP4s and finished MKVs); null if unknown. */
export async function probeDuration(file: string): Promise<number | null> {
  const r = await probeJson(file, ['-show_entries', 'format=duration']);
  const d = Number(r?.format?.duration);
  return r && Number.isFinite(d) ? d : null;
}

/** Whether the file has an audio stream; null when there is no ffprobe to tell. */
export async function hasAudioStream(file: string): Promise<boolean | null> {
  const r = await probeJson(file, ['-select_streams', 'a', '-show_entries', 'stream=codec_type']);
  return r === null ? null : (r.streams?.length ?? 0) > 0;
}
