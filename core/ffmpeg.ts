/**
 * Which ffmpeg to run: $FFMPEG_PATH, else the system's (Debian's has pulse/alsa capture and ffprobe),
 * else the static build bundled by @ffmpeg-installer/ffmpeg (2018, libx264 and aac, no pulse). Said
 * once in the log, since recordings and animations depend on it.
 */
import { execFile, spawn } from 'node:child_process';
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
 * Which ffprobe to run: $FFPROBE_PATH (fluent-ffmpeg's variable), else the one beside the ffmpeg that
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

/** Runs ffmpeg to completion; rejects with the tail of its stderr on failure. */
export async function runFfmpeg(args: string[]): Promise<void> {
  const { path } = await resolveFfmpeg();
  await new Promise<void>((resolve, reject) => {
    const child = track(spawn(path, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] }));
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new RhodopsError('FFMPEG_FAILED', `ffmpeg exited with code ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`)),
    );
  });
}
