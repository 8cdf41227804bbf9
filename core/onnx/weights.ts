import type { WeightArray, WeightMap } from '../models/params.ts';
import { RhodopsError } from '../errors.ts';

export function weightOf(weights: WeightMap, name: string): WeightArray {
  const w = weights.get(name);
  if (!w) {
    throw new RhodopsError('CHECKPOINT_FILE_CORRUPT', `ONNX export: weight '${name}' is missing.`, {
      hint: 'The weights do not match the architecture in the manifest.',
    });
  }
  return w;
}
