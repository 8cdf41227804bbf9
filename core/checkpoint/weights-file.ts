/**
 * tfjs/model.json + tfjs/weights.bin: weights in TensorFlow.js's weights-manifest format (a JSON
 * index of names, shapes and dtypes plus one little-endian float32 blob), readable by tf.io too.
 */
import { z } from 'zod';
import type { WeightMap } from '../models/params.ts';
import { RhodopsError } from '../errors.ts';

export const WEIGHTS_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

const weightsJsonSchema = z.object({
  format: z.literal('rhodops-weights'),
  weightsManifest: z
    .array(
      z.object({
        paths: z.array(z.string()).length(1),
        weights: z.array(z.object({ name: z.string(), shape: z.array(z.number().int().nonnegative()), dtype: z.literal('float32') })),
      }),
    )
    .length(1),
});

export function encodeWeights(weights: WeightMap): { json: string; bin: Uint8Array } {
  const entries = [...weights.entries()];
  const total = entries.reduce((s, [, w]) => s + w.data.length, 0);
  const blob = new Float32Array(total);
  let offset = 0;
  for (const [, w] of entries) {
    blob.set(w.data, offset);
    offset += w.data.length;
  }
  const json = {
    format: 'rhodops-weights',
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: entries.map(([name, w]) => ({ name, shape: w.shape, dtype: 'float32' })) }],
  };
  return { json: JSON.stringify(json, null, 1), bin: new Uint8Array(blob.buffer) };
}

export function decodeWeights(jsonText: string, bin: Uint8Array, where: string): WeightMap {
  let parsed: unknown;
  try {
    parsed = JSON.parse(jsonText);
  } catch (e) {
    throw new RhodopsError('CHECKPOINT_FILE_CORRUPT', `${where}/${WEIGHTS_JSON} is not valid JSON (${(e as Error).message}).`);
  }
  const r = weightsJsonSchema.safeParse(parsed);
  if (!r.success) {
    throw new RhodopsError('CHECKPOINT_FILE_CORRUPT', `${where}/${WEIGHTS_JSON} is not a rhodops weights index: ${r.error.issues[0]?.message}.`);
  }
  const specs = r.data.weightsManifest[0]!.weights;
  const needed = specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0) * 4;
  if (bin.byteLength !== needed) {
    throw new RhodopsError(
      'CHECKPOINT_FILE_CORRUPT',
      `${where}/${WEIGHTS_BIN} holds ${bin.byteLength} bytes; ${WEIGHTS_JSON} describes ${needed}.`,
      { hint: 'The weights file is truncated or from another checkpoint.' },
    );
  }
  // Copy into an aligned buffer: Float32Array views need 4-byte alignment.
  const all = new Float32Array(bin.slice().buffer);
  const out: WeightMap = new Map();
  let offset = 0;
  for (const w of specs) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    out.set(w.name, { shape: w.shape, data: all.subarray(offset, offset + n) });
    offset += n;
  }
  return out;
}
