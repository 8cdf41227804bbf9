/** One planned pastiche, from files to a PNG: what the stylize run does on each thread. */
import path from 'node:path';
import { writeFileAtomic } from '../../core/fsutil.ts';
import { rng } from '../../core/random.ts';
import { pngOf, readFloatImage } from './image.ts';
import { stylize, type StylizeOptions } from './transfer.ts';
import { stylizeGatys } from './gatys.ts';
import { onnxFeatureNet, randomFeatureNet, type FeatureNet } from './features.ts';

/** How a pastiche is made: texture synthesis from patches (the default), or Gatys's optimisation on features. */
export const METHODS = ['patches', 'gatys'] as const;
export type Method = (typeof METHODS)[number];

export interface PasticheTask {
  content: string;
  styles: { file: string; weight: number }[];
  startSize: number;
  seed: number;
  size: number;
  /** Engine settings beyond the defaults (tests make them cheap). */
  engine: Partial<StylizeOptions>;
  method: Method;
  /** For gatys: 'random' (random multi-scale filters) or a VGG19 ONNX file. */
  features: string;
  out: string;
}

/** Makes one pastiche and writes it atomically; returns the seconds it took. */
export async function makePastiche(t: PasticheTask): Promise<number> {
  const started = performance.now();
  // Inputs are read no larger than the output needs: wallpapers are 4K.
  const content = await readFloatImage(t.content, t.size);
  const styles = await Promise.all(t.styles.map(async (s) => ({ image: await readFloatImage(s.file, t.size), weight: s.weight })));
  const scales = { size: t.size, startSize: Math.min(t.startSize, t.size) };
  const made = t.method === 'gatys'
    ? await stylizeGatys(content, styles, scales, await featureNet(t.features), rng(t.seed))
    : await stylize(content, styles, { ...t.engine, ...scales }, rng(t.seed));
  await writeFileAtomic(path.resolve(t.out), await pngOf(made));
  return (performance.now() - started) / 1000;
}

/** One feature network per thread and spec: a VGG19 file is 550 MB to read. */
let loaded: { spec: string; net: FeatureNet } | null = null;

async function featureNet(spec: string): Promise<FeatureNet> {
  if (loaded?.spec !== spec) {
    loaded?.net.dispose();
    loaded = null;
    loaded = { spec, net: spec === 'random' ? randomFeatureNet() : await onnxFeatureNet(spec) };
  }
  return loaded.net;
}
