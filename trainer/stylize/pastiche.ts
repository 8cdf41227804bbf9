/** One planned pastiche, from files to a PNG: what the stylize run does on each thread. */
import path from 'node:path';
import { writeFileAtomic } from '../../core/fsutil.ts';
import { rng } from '../../core/random.ts';
import { pngOf, readFloatImage } from './image.ts';
import { stylize, type StylizeOptions } from './transfer.ts';

export interface PasticheTask {
  content: string;
  styles: { file: string; weight: number }[];
  startSize: number;
  seed: number;
  size: number;
  /** Engine settings beyond the defaults (tests make them cheap). */
  engine: Partial<StylizeOptions>;
  out: string;
}

/** Makes one pastiche and writes it atomically; returns the seconds it took. */
export async function makePastiche(t: PasticheTask): Promise<number> {
  const started = performance.now();
  // Inputs are read no larger than the output needs: wallpapers are 4K.
  const content = await readFloatImage(t.content, t.size);
  const styles = await Promise.all(t.styles.map(async (s) => ({ image: await readFloatImage(s.file, t.size), weight: s.weight })));
  const made = await stylize(content, styles, { ...t.engine, size: t.size, startSize: Math.min(t.startSize, t.size) }, rng(t.seed));
  await writeFileAtomic(path.resolve(t.out), await pngOf(made));
  return (performance.now() - started) / 1000;
}
