/** Transfer learning's starting weights (`train … --from CHECKPOINT`), shared by both trainers. */
import type { WeightMap } from '../core/models/params.ts';

/** A trained run's G and D, read from its checkpoint, that a new run starts from. */
export interface TransferSource {
  weights: WeightMap;
  where: string;
}

/**
 * Every G and D parameter the source has, the rest (e.g. resolutions it never had) as a new run initialises
 * them. The source's optimizer state is left behind: a new dataset, new moments.
 */
export function transferWeights(fresh: WeightMap, source: WeightMap): WeightMap {
  const out: WeightMap = new Map();
  for (const [name, w] of fresh) out.set(name, source.get(name) ?? w);
  return out;
}
