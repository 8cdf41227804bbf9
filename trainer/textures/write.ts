/**
 * `rhodops dataset textures OUT`: procedural source images for a training set (then `dataset augment` and
 * `dataset pack`, as with photographs). Resumable: an image already written is kept; each is written under
 * a temporary name and renamed.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import sharp from 'sharp';
import { checkRange } from '../../core/options.ts';
import { writeFileAtomic } from '../../core/fsutil.ts';
import { generateTexture } from './generate.ts';

export interface TexturesOptions {
  out: string;
  count: number;
  size: number;
  seed: number;
  progress: boolean;
}

export const textureName = (seed: number, kind: string) => `texture-${String(seed).padStart(5, '0')}-${kind}.png`;

export async function writeTextures(o: TexturesOptions): Promise<{ written: number; kept: number; files: string[] }> {
  checkRange('--count', o.count, { min: 1, max: 100_000, integer: true });
  checkRange('--size', o.size, { min: 16, max: 4096, integer: true });
  await fs.mkdir(o.out, { recursive: true });
  const bar = o.progress ? new cliProgress.SingleBar({ format: 'textures |{bar}| {value}/{total} | ETA {eta_formatted}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  bar?.start(o.count, 0);
  let written = 0;
  let kept = 0;
  const files: string[] = [];
  // Finished images by seed prefix (the name carries the family, known only once generated).
  const done = new Map<string, string>();
  for (const f of await fs.readdir(o.out)) {
    const m = /^(texture-\d+-)[a-z]+\.png$/.exec(f);
    if (m) done.set(m[1]!, f);
  }
  try {
    for (let i = 0; i < o.count; i++) {
      const seed = o.seed * 100_003 + i;
      const existing = done.get(`texture-${String(seed).padStart(5, '0')}-`);
      if (existing) {
        files.push(existing);
        kept++;
      } else {
        const t = generateTexture(seed, o.size);
        const name = textureName(seed, t.kind);
        await writeFileAtomic(path.join(o.out, name), await sharp(t.rgb, { raw: { width: t.width, height: t.height, channels: 3 } }).png().toBuffer());
        files.push(name);
        written++;
      }
      bar?.update(i + 1);
    }
  } finally {
    bar?.stop();
  }
  return { written, kept, files };
}

export function texturesCommand(): Command {
  return new Command('textures')
    .description('procedural abstract images (marble, flow, cells, rings) as sources for a training set')
    .argument('<out>', 'folder to write PNGs into')
    .option('--count <n>', 'how many images', '300')
    .option('--size <px>', 'width and height', '512')
    .option('--seed <n>', 'the set (same seed, same images)', '1')
    .option('--no-progress', 'no progress bar')
    .action(async (out: string, o: { count: string; size: string; seed: string; progress: boolean }) => {
      const r = await writeTextures({ out: path.resolve(out), count: Number(o.count), size: Number(o.size), seed: Number(o.seed), progress: o.progress && process.stderr.isTTY === true });
      process.stdout.write(`${out}: ${r.written} written, ${r.kept} kept. Next: rhodops dataset augment ${out} OUT_DIR\n`);
    });
}
