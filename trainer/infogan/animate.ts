/** At the end of a run: each sample sheet's per-epoch PNGs as an animated GIF, through ffmpeg. */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runFfmpeg } from '../../core/ffmpeg.ts';
import { messageOf } from '../../core/errors.ts';
import { logger } from '../../core/log.ts';

const log = logger('train');

export async function animateSheets(dir: string, names: string[]): Promise<string[]> {
  const made: string[] = [];
  const files = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const frames = files.filter((f) => new RegExp(`^${name}-e\\d{4}\\.png$`).test(f)).sort();
    if (frames.length < 2) continue;
    const list = path.join(os.tmpdir(), `rhodops-${process.pid}-${name}.txt`);
    // The concat demuxer: each frame shown 0.5 s, the last one repeated so it is held too.
    const entries = [...frames, frames[frames.length - 1]!].map((f) => `file '${path.join(dir, f).replace(/'/g, "'\\''")}'\nduration 0.5\n`);
    await fs.writeFile(list, entries.join(''));
    const gif = path.join(dir, `${name}.gif`);
    try {
      await runFfmpeg(['-f', 'concat', '-safe', '0', '-i', list, '-vf', 'split[a][b];[a]palettegen=max_colors=64[p];[b][p]paletteuse', '-loop', '0', gif]);
      made.push(gif);
    } catch (e) {
      log.warn(`could not animate ${name}: ${messageOf(e)}`);
    } finally {
      await fs.rm(list, { force: true });
    }
  }
  if (made.length) log.info(`animations: ${made.map((m) => path.basename(m)).join(', ')} in ${dir}`);
  return made;
}
