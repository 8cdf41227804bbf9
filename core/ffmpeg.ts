/**
 * Which ffmpeg to run: $FFMPEG_PATH, else the system's (Debian's has pulse/alsa capture and ffprobe),
 * else the static build bundled by @ffmpeg-installer/ffmpeg (2018, libx264 and aac, no pulse). Said
 * once in the log, since recordings and animations depend on it.
 */
import { execFile, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { RhodopsError } from './errors.ts';
import { logger } from './log.ts';

const log = logger('ffmpeg');
const run = promisify(execFile);

export interface FfmpegBinary {
  path: string;
  source: 'FFMPEG_PATH' | 'system' | 'bundled';
  version: string;
}

async function probe(path: string): Promise<string | null> {
  try {
    const { stdout } = await run(path, ['-hide_banner', '-version'], { timeout: 10_000 });
    return stdout.split('\n')[0]?.replace(/^ffmpeg version /, '').split(' ')[0] ?? 'unknown';
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

/** Runs ffmpeg to completion; rejects with the tail of its stderr on failure. */
export async function runFfmpeg(args: string[]): Promise<void> {
  const { path } = await resolveFfmpeg();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(path, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new RhodopsError('FFMPEG_FAILED', `ffmpeg exited with code ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`)),
    );
  });
}
