/**
 * Style transfer speed: seconds per pastiche of `dataset stylize`'s engine at 256² and 512², one thread, two
 * styles blended onto a content image (synthetic sources with smooth areas, edges and grain, as augment's
 * bench uses), median of a few runs after one warm-up.
 */
import { initBackend } from '../core/backend.ts';
import { rng } from '../core/random.ts';
import { toFloatImage } from '../trainer/stylize/image.ts';
import { stylize } from '../trainer/stylize/transfer.ts';
import { syntheticRgb } from './augment.ts';
import { measure } from './measure.ts';

export interface StylizeBenchRow {
  case: string;
  size: number;
  secondsPerPastiche: number;
}

export async function benchStylize(o: { quick: boolean }, say: (m: string) => void): Promise<StylizeBenchRow[]> {
  await initBackend('wasm');
  const rows: StylizeBenchRow[] = [];
  for (const size of o.quick ? [256] : [256, 512]) {
    const image = (seed: number, side: number) => toFloatImage({ width: side, height: side, data: syntheticRgb(side, seed) });
    const content = image(1, size);
    const styles = [{ image: image(2, size), weight: 0.6 }, { image: image(3, size), weight: 0.4 }];
    say(`stylize ${size}² (patch-based, 2 styles, start ${size / 2}²)…`);
    const t = await measure(() => stylize(content, styles, { size, startSize: size / 2 }, rng(size)), { minRuns: o.quick ? 1 : 3, minTimeMs: 0, warmup: 1 });
    rows.push({ case: 'patch-based, 2 styles', size, secondsPerPastiche: t.medianMs / 1000 });
    say(`  ${(t.medianMs / 1000).toFixed(1)} s per pastiche`);
  }
  return rows;
}
