/**
 * How interpretable is a trained InfoGAN's categorical code? A small CNN classifier is trained on the
 * labelled dataset (held-out accuracy reported), then `perValue` images are generated for each value of
 * the code with random noise and other codes, and classified. Purity of a value: the share of its images
 * given its majority class; coverage: how many distinct classes the values' majorities cover.
 */
import * as tf from '@tensorflow/tfjs-core';
import { RhodopsError } from '../../core/errors.ts';
import { initWeights, type ParamSpec } from '../../core/models/params.ts';
import type { Generator } from '../../core/runtime/types.ts';
import { Adam } from '../adam.ts';
import { batchAt, epochOrder, type ImageDataset } from '../datasets/index.ts';
import { sampleCodes } from './codes.ts';

export interface Classifier {
  classes: number;
  /** Accuracy on the held-out tenth of the dataset. */
  heldOutAccuracy: number;
  predict(images: Float32Array, n: number): Promise<Int32Array>;
  dispose(): void;
}

function classifierSpecs(channels: number, size: number, classes: number): ParamSpec[] {
  const n = (name: string, shape: number[], fanIn: number): ParamSpec => ({ name, shape, init: 'normal', std: Math.sqrt(2 / fanIn), scale: 1 });
  const z = (name: string, shape: number[]): ParamSpec => ({ name, shape, init: 'zeros', scale: 1 });
  const flat = Math.ceil(size / 4) ** 2 * 32;
  return [
    n('c1/w', [5, 5, channels, 16], 25 * channels), z('c1/b', [16]),
    n('c2/w', [5, 5, 16, 32], 25 * 16), z('c2/b', [32]),
    n('fc/w', [flat, 64], flat), z('fc/b', [64]),
    n('out/w', [64, classes], 64), z('out/b', [classes]),
  ];
}

function logits(p: Record<string, tf.Tensor>, x: tf.Tensor4D): tf.Tensor2D {
  const c1 = tf.relu(tf.add(tf.conv2d(x, p['c1/w'] as tf.Tensor4D, 2, 'same'), p['c1/b']!)) as tf.Tensor4D;
  const c2 = tf.relu(tf.add(tf.conv2d(c1, p['c2/w'] as tf.Tensor4D, 2, 'same'), p['c2/b']!));
  const h = tf.relu(tf.add(tf.matMul(tf.reshape(c2, [x.shape[0], -1]), p['fc/w']!), p['fc/b']!));
  return tf.add(tf.matMul(h as tf.Tensor2D, p['out/w']!), p['out/b']!) as tf.Tensor2D;
}

export async function trainClassifier(ds: ImageDataset, opts: { epochs?: number; seed?: number } = {}): Promise<Classifier> {
  if (!ds.labels) throw new RhodopsError('DATASET_INVALID', `${ds.source} has no labels; purity needs a labelled dataset (mnist, idx:, svhn:).`);
  const labels = ds.labels;
  const classes = Math.max(...labels) + 1;
  const seed = opts.seed ?? 7;
  const specs = classifierSpecs(ds.channels, ds.size, classes);
  const weights = initWeights(specs, seed);
  const vars = Object.fromEntries(specs.map((s) => [s.name, tf.variable(tf.tensor(weights.get(s.name)!.data, s.shape))]));
  const adam = new Adam(vars, { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
  const order = epochOrder(ds.count, seed, 0);
  const heldOut = order.subarray(0, Math.floor(ds.count / 10));
  const train = order.subarray(heldOut.length);
  const batch = 64;
  const shape = (n: number): [number, number, number, number] => [n, ds.size, ds.size, ds.channels];
  for (let e = 0; e < (opts.epochs ?? 3); e++) {
    const perm = epochOrder(train.length, seed, e + 1).map((i) => train[i]!);
    for (let s = 0; s + batch <= perm.length; s += batch) {
      const b = batchAt(ds, perm, s, batch);
      tf.tidy(() => {
        const x = tf.tensor4d(b.images, shape(batch));
        const y = tf.oneHot(tf.tensor1d(b.labels!, 'int32'), classes);
        const { grads } = tf.variableGrads(() => tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(logits(vars, x))), 1))) as tf.Scalar, Object.values(vars));
        const byName = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, grads[v.name]!]));
        adam.apply(byName);
      });
    }
  }
  adam.dispose();
  const predict = async (images: Float32Array, n: number): Promise<Int32Array> => {
    const classes = tf.tidy(() => tf.argMax(logits(vars, tf.tensor4d(images, shape(n))), 1));
    try {
      return (await classes.data()) as Int32Array;
    } finally {
      classes.dispose();
    }
  };
  const test = batchAt(ds, heldOut, 0, heldOut.length);
  const predicted = await predict(test.images, heldOut.length);
  const correct = predicted.reduce((s, p, i) => s + (p === test.labels![i] ? 1 : 0), 0);
  return { classes, heldOutAccuracy: correct / heldOut.length, predict, dispose: () => Object.values(vars).forEach((v) => v.dispose()) };
}

export interface PurityReport {
  code: number;
  perValue: number;
  /** For each code value: its majority class and the share of its images in that class. */
  values: { value: number; majority: number; purity: number }[];
  meanPurity: number;
  /** Distinct majority classes over the code's values. */
  coverage: number;
}

/** Purity and coverage of categorical code `code` of a generator (its output must match the classifier's input). */
export async function codePurity(gen: Generator, classifier: Classifier, code: number, perValue: number, seed = 11): Promise<PurityReport> {
  const spec = gen.info.latent;
  const k = spec.categorical[code];
  if (k === undefined) throw new RhodopsError('BAD_OPTION', `the model has no categorical code #${code}.`);
  const offset = spec.noise + spec.categorical.slice(0, code).reduce((s, c) => s + c, 0);
  const values: PurityReport['values'] = [];
  for (let v = 0; v < k; v++) {
    const { latents } = sampleCodes(spec, perValue, seed * 1000 + v);
    for (let b = 0; b < perValue; b++) {
      const row = b * spec.size + offset;
      latents.fill(0, row, row + k);
      latents[row + v] = 1;
    }
    const images = await gen.generateFloat(latents, perValue);
    const predicted = await classifier.predict(images.data, perValue);
    const counts = new Array<number>(classifier.classes).fill(0);
    for (const p of predicted) counts[p]!++;
    const majority = counts.indexOf(Math.max(...counts));
    values.push({ value: v, majority, purity: counts[majority]! / perValue });
  }
  return {
    code,
    perValue,
    values,
    meanPurity: values.reduce((s, v) => s + v.purity, 0) / k,
    coverage: new Set(values.map((v) => v.majority)).size,
  };
}
