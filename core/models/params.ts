/**
 * A model's weights are a flat, named set of tensors described by ParamSpecs. The same specs drive
 * initialisation, shape checks when a checkpoint loads, and the ONNX exporter.
 */
import * as tf from '@tensorflow/tfjs-core';
import { RhodopsError } from '../errors.ts';
import { gaussianArray } from '../random.ts';

export interface ParamSpec {
  name: string;
  shape: number[];
  init: 'normal' | 'zeros' | 'ones';
  /** Standard deviation of a 'normal' init (1 for equalized-LR weights). */
  std?: number;
  /** A running statistic (batchnorm mean/variance): saved and exported, never trained by gradients. */
  stat?: boolean;
  /**
   * Runtime multiplier (equalized learning rate: weights are stored N(0,1) and scaled by
   * gain/sqrt(fanIn) at use). 1 for ordinary weights.
   */
  scale: number;
}

export type Params = Record<string, tf.Tensor>;

export function heScale(fanIn: number, gain = Math.SQRT2): number {
  return gain / Math.sqrt(fanIn);
}

/** Deterministic initialisation from a seed: every parameter gets its own derived seed. */
export function initParams(specs: ParamSpec[], seed: number): Params {
  const out: Params = {};
  specs.forEach((s, i) => {
    out[s.name] =
      s.init === 'normal'
        ? tf.randomNormal(s.shape, 0, s.std ?? 1, 'float32', seed * 7919 + i)
        : s.init === 'zeros'
          ? tf.zeros(s.shape)
          : tf.ones(s.shape);
  });
  return out;
}

/** Checks that params hold exactly the specs' names and shapes; says which one is off. */
export function checkParams(specs: ParamSpec[], params: Params, where: string): void {
  for (const s of specs) {
    const t = params[s.name];
    if (!t) {
      throw new RhodopsError('CHECKPOINT_FILE_CORRUPT', `${where}: weight '${s.name}' is missing.`, {
        hint: 'The weights do not belong to this architecture; re-export or retrain the checkpoint.',
      });
    }
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
      throw new RhodopsError(
        'CHECKPOINT_FILE_CORRUPT',
        `${where}: weight '${s.name}' has shape [${t.shape.join(',')}], the architecture needs [${s.shape.join(',')}].`,
        { hint: 'The manifest and the weights disagree; the checkpoint is from another model.' },
      );
    }
  }
}

/** Reads a param by name with its equalized-LR scale applied; throws a clear error if absent. */
export function scaled(params: Params, spec: ParamSpec): tf.Tensor {
  const t = params[spec.name];
  if (!t) throw new RhodopsError('CHECKPOINT_FILE_CORRUPT', `weight '${spec.name}' is missing`);
  return spec.scale === 1 ? t : tf.mul(t, spec.scale);
}

export function disposeParams(params: Params): void {
  for (const t of Object.values(params)) t.dispose();
}

export function specIndex(specs: ParamSpec[]): Map<string, ParamSpec> {
  return new Map(specs.map((s) => [s.name, s]));
}

/** Weights as plain data, independent of any tfjs backend: what checkpoints store and exporters read. */
export interface WeightArray {
  shape: number[];
  data: Float32Array;
}
export type WeightMap = Map<string, WeightArray>;

export async function paramsToWeights(params: Params): Promise<WeightMap> {
  const out: WeightMap = new Map();
  for (const [name, t] of Object.entries(params)) {
    out.set(name, { shape: [...t.shape], data: (await t.data()) as Float32Array });
  }
  return out;
}

export function weightsToParams(weights: WeightMap): Params {
  const out: Params = {};
  for (const [name, w] of weights) out[name] = tf.tensor(w.data, w.shape, 'float32');
  return out;
}

/** Initial weights as plain data (no tfjs), per the specs: what initParams makes, without a backend. */
export function initWeights(specs: ParamSpec[], seed: number): WeightMap {
  const out: WeightMap = new Map();
  specs.forEach((s, i) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const data = s.init === 'normal' ? gaussianArray(n, seed * 7919 + i, s.std ?? 1) : new Float32Array(n).fill(s.init === 'ones' ? 1 : 0);
    out.set(s.name, { shape: s.shape, data });
  });
  return out;
}

/**
 * Trainable tfjs variables from stored weights, by parameter name (running statistics are not trained). The
 * tensor each is made from is disposed, so only the variables stay.
 */
export function variablesFromWeights(specs: ParamSpec[], weights: WeightMap): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const s of specs) out[s.name] = tf.tidy(() => tf.variable(tf.tensor(weights.get(s.name)!.data, s.shape), !s.stat));
  return out;
}
