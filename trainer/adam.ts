/**
 * Adam (Kingma & Ba) with all of its state explicit: per-parameter moments and the step count, saved
 * and restored exactly. tfjs's own Adam restores its bias corrections as pow(β, t) while training
 * accumulates them by repeated multiplication, so a resumed run would drift from an uninterrupted one.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WeightMap } from '../core/models/params.ts';
import { RhodopsError } from '../core/errors.ts';

export interface AdamOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export class Adam {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  step = 0;

  constructor(
    private readonly params: Record<string, tf.Variable>,
    private readonly o: AdamOptions,
  ) {
    for (const [name, p] of Object.entries(params)) {
      // tidy disposes the zeros each variable is made from (variables themselves survive a tidy).
      this.m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    }
  }

  /** One update from gradients keyed like the params (missing ones are left alone). */
  apply(grads: Record<string, tf.Tensor>): void {
    this.step++;
    const { beta1, beta2, epsilon } = this.o;
    // Bias corrections folded into the step size, computed in float64.
    const lr = (this.o.learningRate * Math.sqrt(1 - beta2 ** this.step)) / (1 - beta1 ** this.step);
    tf.tidy(() => {
      for (const [name, p] of Object.entries(this.params)) {
        const g = grads[name];
        if (!g) continue;
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        p.assign(tf.sub(p, tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsilon)), lr)));
      }
    });
  }

  /** Moments as `${prefix}${param}/m|v` plus `${prefix}step`. */
  async state(prefix: string): Promise<WeightMap> {
    const out: WeightMap = new Map();
    out.set(`${prefix}step`, { shape: [], data: new Float32Array([this.step]) });
    for (const [name, m] of this.m) {
      out.set(`${prefix}${name}/m`, { shape: [...m.shape], data: (await m.data()) as Float32Array });
      out.set(`${prefix}${name}/v`, { shape: [...m.shape], data: (await this.v.get(name)!.data()) as Float32Array });
    }
    return out;
  }

  load(prefix: string, weights: WeightMap, where: string): void {
    const step = weights.get(`${prefix}step`);
    if (!step) throw new RhodopsError('CHECKPOINT_FILE_CORRUPT', `${where}: optimizer state '${prefix}step' is missing.`, { hint: 'Resume from a checkpoint written by this trainer, or start afresh.' });
    this.step = step.data[0]!;
    for (const [name, m] of this.m) {
      for (const [key, target] of [['m', m], ['v', this.v.get(name)!]] as const) {
        const w = weights.get(`${prefix}${name}/${key}`);
        if (!w || w.data.length !== target.size) {
          throw new RhodopsError('CHECKPOINT_FILE_CORRUPT', `${where}: optimizer state for '${name}' is missing or of the wrong size.`, {
            hint: 'Resume from a checkpoint written by this trainer with the same architecture.',
          });
        }
        tf.tidy(() => target.assign(tf.tensor(w.data, target.shape)));
      }
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
