/**
 * Style transfer by optimising the image (Gatys, Ecker & Bethge 2016, "Image Style Transfer Using Convolutional
 * Neural Networks"): the pastiche's pixels move down the gradient of a loss that asks its feature Gram matrices to
 * equal the styles' (texture) and one deeper layer's activations to equal the content's (layout). The features
 * come from a FeatureNet (features.ts): seeded random filters, or a VGG read from an ONNX file.
 *
 * Multi-scale like the patch engine (transfer.ts): synthesis starts small, where a net's fixed receptive fields
 * span more of the image, and the result is enlarged ×2 to the target; at every scale the estimate is given the
 * styles' colour histograms before and after the optimisation, so colours come from the style whatever the net
 * does with them.
 *
 * The losses are relative (squared errors over a squared norm of the style's own features), so one set of
 * weights suits any feature net, however its activations are scaled.
 *
 * Randomness (the initial noise) comes only from the caller's rng, and the wasm backend is deterministic: the
 * same seed gives the same pastiche bit for bit.
 */
import * as tf from '@tensorflow/tfjs-core';
import { RhodopsError } from '../../core/errors.ts';
import { checkRange, mergeOptions } from '../../core/options.ts';
import type { FeatureNet } from './features.ts';
import { unknownLayers } from './features.ts';
import { histogramReference, matchHistogram } from './histogram.ts';
import { coverSquare, resize, resizeShortSide, type RgbFloatImage } from './image.ts';
import { gaussian } from './patches.ts';
import { readScalar } from '../grads.ts';
import { MAX_STYLES, scaleSchedule, type StyleInput } from './transfer.ts';

export type GatysOptimizer = 'adam' | 'lbfgs';

export interface GatysOptions {
  /** Side of the square result, pixels. */
  size: number;
  /** Side at which optimisation starts; each scale doubles it until `size`. */
  startSize: number;
  /** Optimiser steps at each scale but the last (the loss and its gradient are evaluated once per step). */
  iterations: number;
  /**
   * Steps at the last scale (when there are several), where a step costs 4× one at the scale before and only
   * sharpens the grain. 0: the last scale is the enlarged estimate, colour-matched.
   */
  finalIterations: number;
  optimizer: GatysOptimizer;
  /** Adam's step, grey levels (0..255 units). */
  learningRate: number;
  /** Weight of the content loss against the style loss's 1 (0: pure texture synthesis). */
  contentWeight: number;
  /** Weight of the total-variation loss (mean squared neighbour difference, in units of 255²). */
  tvWeight: number;
  /** Standard deviation of the noise added to the content at the start (0..255 units). */
  noise: number;
  /** Style images are resized so their shorter side is `styleScale` × the current scale's side. */
  styleScale: number;
  /** Layers whose Gram matrices make the style; empty: the net's own choice. */
  styleLayers: string[];
  /** The content layer; empty: the net's own choice. */
  contentLayer: string;
}

/**
 * Measured on wallpapers with random filters (scratch/gatys-try.ts, 64² and 128²): L-BFGS reaches in 10 steps
 * a loss Adam (6 grey levels a step; 15 and 30 were worse) needs 25 to 50 for, and looks at 60 steps per scale
 * as Adam does at 120; past 60 steps per scale the pictures hardly change, and the last scale only sharpens the
 * grain. Content weight 0.03: at 0.3 the pastiche is the content recoloured, at 0 a texture with no layout. Total
 * variation even at 0.3 blurs the texture away, so it is off.
 */
export const DEFAULT_GATYS: Readonly<GatysOptions> = {
  size: 256,
  startSize: 64,
  iterations: 60,
  finalIterations: 20,
  optimizer: 'lbfgs',
  learningRate: 6,
  contentWeight: 0.03,
  tvWeight: 0,
  noise: 50,
  styleScale: 1,
  styleLayers: [],
  contentLayer: '',
};

export interface GatysProgress {
  /** Steps done and in all (every scale). */
  done: number;
  total: number;
  scale: number;
  /** Step within the scale, from 1. */
  iteration: number;
  /** The loss before this step, and its parts (unweighted). */
  loss: number;
  style: number;
  content: number;
  tv: number;
}

const where = 'gatys options';

function checkOptions(given: Partial<GatysOptions> | undefined): GatysOptions {
  const o = mergeOptions(where, { ...DEFAULT_GATYS, styleLayers: [...DEFAULT_GATYS.styleLayers] }, given);
  checkRange('size', o.size, { min: 16, max: 1024, integer: true }, { where });
  checkRange('startSize', o.startSize, { min: 16, max: o.size, integer: true }, { where, hint: 'pass a startSize no larger than size' });
  checkRange('iterations', o.iterations, { min: 1, max: 5000, integer: true }, { where });
  checkRange('finalIterations', o.finalIterations, { min: 0, max: 5000, integer: true }, { where });
  if (o.optimizer !== 'adam' && o.optimizer !== 'lbfgs') {
    throw new RhodopsError('BAD_OPTION', `${where}: optimizer must be 'adam' or 'lbfgs', got ${String(o.optimizer)}.`, { hint: "pass 'adam' or 'lbfgs'" });
  }
  checkRange('learningRate', o.learningRate, { min: 0, max: 255, exclusiveMin: true }, { where });
  checkRange('contentWeight', o.contentWeight, { min: 0, max: 1e4 }, { where });
  checkRange('tvWeight', o.tvWeight, { min: 0, max: 1e4 }, { where });
  checkRange('noise', o.noise, { min: 0, max: 255 }, { where });
  checkRange('styleScale', o.styleScale, { min: 0.25, max: 4 }, { where });
  if (!Array.isArray(o.styleLayers) || o.styleLayers.length > 32 || o.styleLayers.some((l) => typeof l !== 'string')) {
    throw new RhodopsError('BAD_OPTION', `${where}: styleLayers must be a list of up to 32 layer names, got ${String(o.styleLayers)}.`, { hint: 'pass e.g. ["relu1_1", "relu2_1"], or [] for the net\'s own' });
  }
  return o;
}

function checkInputs(content: RgbFloatImage, styles: readonly StyleInput[]): void {
  const valid = (img: RgbFloatImage) =>
    Number.isInteger(img.width) && Number.isInteger(img.height) && img.width > 0 && img.height > 0 && img.data.length === img.width * img.height * 3;
  if (!valid(content)) throw new RhodopsError('BAD_OPTION', 'stylizeGatys: the content image must be width × height × 3 floats.', { hint: 'pass an RgbFloatImage (e.g. from readFloatImage)' });
  if (styles.length < 1 || styles.length > MAX_STYLES) {
    throw new RhodopsError('BAD_OPTION', `stylizeGatys: pass 1 to ${MAX_STYLES} style images, got ${styles.length}.`, { hint: `blend at most ${MAX_STYLES} styles` });
  }
  styles.forEach((s, i) => {
    if (!valid(s.image)) throw new RhodopsError('BAD_OPTION', `stylizeGatys: style ${i} must be width × height × 3 floats.`, { hint: 'pass an RgbFloatImage (e.g. from readFloatImage)' });
    checkRange(`styles[${i}].weight`, s.weight, { min: 0, max: 1e6, exclusiveMin: true }, { where: 'stylizeGatys' });
  });
}

/** Fᵀ F / (h w): channel correlations averaged over positions, so images of any size compare. */
export function gram(f: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const [, h, w, c] = f.shape;
    const flat = tf.reshape(f, [h * w, c]);
    return tf.div(tf.matMul(flat, flat, true, false), h * w);
  });
}

const imageTensor = (img: RgbFloatImage): tf.Tensor4D => tf.tensor4d(img.data, [1, img.height, img.width, 3]);

/** The styles' Gram matrices at `layers`, each the weighted mean over the styles. */
function styleGrams(net: FeatureNet, styles: readonly StyleInput[], layers: readonly string[]): tf.Tensor2D[] {
  const total = styles.reduce((s, x) => s + x.weight, 0);
  return tf.tidy(() => {
    let sums: tf.Tensor2D[] | null = null;
    for (const s of styles) {
      // Inside tidy: the image tensor and activations go when the sums are kept.
      const acts = net.activations(imageTensor(s.image), layers);
      const grams = acts.map((a) => tf.mul(gram(a), s.weight / total) as tf.Tensor2D);
      sums = sums === null ? grams : sums.map((g, i) => tf.add(g, grams[i]!) as tf.Tensor2D);
    }
    return sums!;
  });
}

/** Loss and gradient at one point, with the loss's parts. */
interface Evaluation {
  loss: number;
  style: number;
  content: number;
  tv: number;
  grad: Float32Array;
}

/**
 * The loss of one scale as a function of the pixels: style = mean over layers of ‖G − A‖² / ‖A‖²;
 * content = ‖F − P‖² / (N · E), where E is the styles' mean squared activation at the content layer and N the
 * size of P: the content's difference measured on the scale of the style's features, not of its own, so a
 * flat content (tiny ‖P‖) does not outweigh the style; tv = mean squared neighbour difference / 255².
 */
class ScaleLoss {
  private readonly targets: tf.Tensor2D[];
  private readonly targetNorms: tf.Scalar[];
  private readonly contentTarget: tf.Tensor4D | null;
  private readonly contentNorm: tf.Scalar | null;
  private readonly layers: string[];

  constructor(
    private readonly net: FeatureNet,
    private readonly side: number,
    styles: readonly StyleInput[],
    styleLayers: readonly string[],
    private readonly contentLayer: string,
    content: RgbFloatImage,
    private readonly weights: { content: number; tv: number },
  ) {
    this.targets = styleGrams(net, styles, styleLayers);
    this.targetNorms = this.targets.map((t) => tf.tidy(() => tf.maximum<tf.Scalar>(tf.sum(tf.square(t)), 1e-12)));
    this.layers = [...styleLayers];
    if (weights.content > 0) {
      const c = imageTensor(content);
      const [p] = net.activations(c, [contentLayer]);
      c.dispose();
      this.contentTarget = p!;
      const total = styles.reduce((sum, st) => sum + st.weight, 0);
      this.contentNorm = tf.tidy(() => {
        let energy: tf.Scalar = tf.scalar(0);
        for (const st of styles) {
          const [a] = net.activations(imageTensor(st.image), [contentLayer]);
          energy = tf.add(energy, tf.mul(tf.mean(tf.square(a!)), st.weight / total));
        }
        return tf.maximum<tf.Scalar>(tf.mul(energy, p!.size), 1e-12);
      });
    } else {
      this.contentTarget = null;
      this.contentNorm = null;
    }
  }

  async evaluate(x: Float32Array): Promise<Evaluation> {
    const parts: tf.Scalar[] = [];
    const xt = tf.tensor4d(x, [1, this.side, this.side, 3]);
    try {
      const { value, grad } = tf.valueAndGrad((img: tf.Tensor4D) => {
        const names = this.contentTarget ? [...this.layers, this.contentLayer] : this.layers;
        const acts = this.net.activations(img, names);
        let style = tf.scalar(0);
        this.targets.forEach((t, i) => {
          style = tf.add(style, tf.div(tf.sum(tf.squaredDifference(gram(acts[i]!), t)), this.targetNorms[i]!));
        });
        style = tf.div(style, this.targets.length);
        let total = style;
        let content = tf.scalar(0);
        if (this.contentTarget && this.contentNorm) {
          content = tf.div(tf.sum(tf.squaredDifference(acts[this.layers.length]!, this.contentTarget)), this.contentNorm);
          total = tf.add(total, tf.mul(content, this.weights.content));
        }
        let tv = tf.scalar(0);
        if (this.weights.tv > 0) {
          const s = this.side;
          const dx = tf.sub(tf.slice(img, [0, 0, 1, 0], [1, s, s - 1, 3]), tf.slice(img, [0, 0, 0, 0], [1, s, s - 1, 3]));
          const dy = tf.sub(tf.slice(img, [0, 1, 0, 0], [1, s - 1, s, 3]), tf.slice(img, [0, 0, 0, 0], [1, s - 1, s, 3]));
          tv = tf.div(tf.add(tf.mean(tf.square(dx)), tf.mean(tf.square(dy))), 2 * 255 * 255);
          total = tf.add(total, tf.mul(tv, this.weights.tv));
        }
        parts.push(tf.keep(style), tf.keep(content), tf.keep(tv));
        return total as tf.Scalar;
      })(xt);
      try {
        const [style, content, tv, loss] = await Promise.all([...parts, value].map(readScalar));
        return { loss: loss!, style: style!, content: content!, tv: tv!, grad: (await grad.data()) as Float32Array };
      } finally {
        tf.dispose([value, grad]);
      }
    } finally {
      tf.dispose([xt, ...parts]);
    }
  }

  dispose(): void {
    tf.dispose([...this.targets, ...this.targetNorms]);
    if (this.contentTarget) tf.dispose([this.contentTarget]);
    if (this.contentNorm) tf.dispose([this.contentNorm]);
  }
}

/** One optimiser: `step` moves x in place given the gradient there. */
interface Optimizer {
  step(x: Float32Array, e: Evaluation): void;
}

/** Adam on the pixels, kept within 0..255 (the loss has no reason to leave that range, and clipping steadies it). */
function adam(n: number, lr: number): Optimizer {
  const m = new Float32Array(n);
  const v = new Float32Array(n);
  const b1 = 0.9, b2 = 0.999;
  let t = 0;
  let eps = 0;
  return {
    step(x, { grad }) {
      t++;
      if (t === 1) {
        // Relative losses give per-pixel gradients of ~1e-8: a fixed ε of 1e-8 would damp the first steps.
        let s = 0;
        for (let i = 0; i < n; i++) s += grad[i]! * grad[i]!;
        eps = Math.max(1e-30, 1e-3 * Math.sqrt(s / n));
      }
      const c1 = 1 / (1 - b1 ** t), c2 = 1 / (1 - b2 ** t);
      for (let i = 0; i < n; i++) {
        const g = grad[i]!;
        m[i] = b1 * m[i]! + (1 - b1) * g;
        v[i] = b2 * v[i]! + (1 - b2) * g * g;
        const xi = x[i]! - (lr * m[i]! * c1) / (Math.sqrt(v[i]! * c2) + eps);
        x[i] = xi < 0 ? 0 : xi > 255 ? 255 : xi;
      }
    },
  };
}

const dot = (a: Float32Array, b: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/**
 * L-BFGS without a line search (as torch.optim.LBFGS's default, which most Gatys implementations use): the
 * two-loop recursion over the last `history` steps; the first step, with no curvature known, moves pixels by one
 * grey level on average. With no line search a step can overshoot: one that more than doubles the loss is taken
 * back, the memory forgotten and the next first step halved.
 */
function lbfgs(n: number, history = 10): Optimizer {
  const ss: Float32Array[] = [];
  const ys: Float32Array[] = [];
  const rho: number[] = [];
  let prevX: Float32Array | null = null;
  let prevG: Float32Array | null = null;
  let prevLoss = Infinity;
  let scale = 1;
  return {
    step(x, e) {
      const g = e.grad;
      if (prevX && prevG && (!Number.isFinite(e.loss) || e.loss > 2 * prevLoss)) {
        x.set(prevX);
        ss.length = ys.length = rho.length = 0;
        scale *= 0.5;
        prevG = null;
        return;
      }
      if (prevX && prevG) {
        const s = new Float32Array(n), y = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          s[i] = x[i]! - prevX[i]!;
          y[i] = g[i]! - prevG[i]!;
        }
        const sy = dot(s, y);
        if (sy > 1e-30) {
          ss.push(s);
          ys.push(y);
          rho.push(1 / sy);
          if (ss.length > history) {
            ss.shift();
            ys.shift();
            rho.shift();
          }
        }
      }
      const d = Float32Array.from(g, (v) => -v);
      if (ss.length > 0) {
        const alpha: number[] = [];
        for (let k = ss.length - 1; k >= 0; k--) {
          const a = rho[k]! * dot(ss[k]!, d);
          alpha[k] = a;
          const y = ys[k]!;
          for (let i = 0; i < n; i++) d[i]! -= a * y[i]!;
        }
        const yl = ys.at(-1)!;
        const h = 1 / (rho.at(-1)! * dot(yl, yl));
        for (let i = 0; i < n; i++) d[i]! *= h;
        for (let k = 0; k < ss.length; k++) {
          const b = rho[k]! * dot(ys[k]!, d);
          const s = ss[k]!;
          for (let i = 0; i < n; i++) d[i]! += s[i]! * (alpha[k]! - b);
        }
      } else {
        // No curvature yet: a step of one grey level in L1 per pixel on average.
        let l1 = 0;
        for (let i = 0; i < n; i++) l1 += Math.abs(g[i]!);
        const t = (scale * n) / Math.max(l1, 1e-30);
        for (let i = 0; i < n; i++) d[i]! *= t;
      }
      prevX = x.slice();
      prevG = g.slice();
      prevLoss = e.loss;
      for (let i = 0; i < n; i++) x[i]! += d[i]!;
    },
  };
}

function addNoise(img: RgbFloatImage, std: number, rng: () => number): RgbFloatImage {
  const data = img.data.slice();
  if (std > 0) for (let i = 0; i < data.length; i++) data[i]! += std * gaussian(rng);
  return { width: img.width, height: img.height, data };
}

/**
 * A pastiche by Gatys-style optimisation: `content`'s layout in the textures and colours of `styles`,
 * size × size. `features` is not disposed.
 * @throws RhodopsError BAD_OPTION for an option, input or layer name out of range.
 */
export async function stylizeGatys(
  content: RgbFloatImage,
  styles: readonly StyleInput[],
  options: Partial<GatysOptions> | undefined,
  features: FeatureNet,
  rng: () => number,
  onProgress?: (p: GatysProgress) => void,
): Promise<RgbFloatImage> {
  checkInputs(content, styles);
  const o = checkOptions(options);
  const styleLayers = o.styleLayers.length > 0 ? o.styleLayers : [...features.styleLayers];
  const contentLayer = o.contentLayer !== '' ? o.contentLayer : features.contentLayer;
  const unknown = unknownLayers(features, [...styleLayers, contentLayer]);
  if (unknown.length > 0) {
    throw new RhodopsError('BAD_OPTION', `${where}: the feature net has no layer ${unknown.map((u) => `'${u}'`).join(', ')}; it has ${features.layers.map((l) => l.name).join(', ')}.`, {
      hint: 'pick styleLayers and contentLayer from that list, or leave them empty for the net\'s own',
    });
  }
  const scales = scaleSchedule(o.startSize, o.size);
  const stepsAt = (i: number) => (i === scales.length - 1 && scales.length > 1 ? o.finalIterations : o.iterations);
  const total = scales.reduce((s, _, i) => s + stepsAt(i), 0);
  let done = 0;
  let x: RgbFloatImage | null = null;
  for (const [si, side] of scales.entries()) {
    const scaledStyles = styles.map((s) => ({ image: resizeShortSide(s.image, Math.max(16, Math.round(side * o.styleScale))), weight: s.weight }));
    const ref = histogramReference(scaledStyles);
    // The content in the style's colours: its features then pull towards the layout, not back to its palette.
    const c = matchHistogram(coverSquare(content, side), ref);
    x = x === null ? matchHistogram(addNoise(c, o.noise, rng), ref) : matchHistogram(resize(x, side, side), ref);
    const steps = stepsAt(si);
    if (steps === 0) continue;
    const loss = new ScaleLoss(features, side, scaledStyles, styleLayers, contentLayer, c, { content: o.contentWeight, tv: o.tvWeight });
    try {
      const pixels = x.data;
      const opt = o.optimizer === 'adam' ? adam(pixels.length, o.learningRate) : lbfgs(pixels.length);
      for (let it = 0; it < steps; it++) {
        const e = await loss.evaluate(pixels);
        opt.step(pixels, e);
        done++;
        onProgress?.({ done, total, scale: side, iteration: it + 1, loss: e.loss, style: e.style, content: e.content, tv: e.tv });
        // Lets a progress bar draw and a signal handler run between steps.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      loss.dispose();
    }
    x = matchHistogram(x, ref);
  }
  return x!;
}
