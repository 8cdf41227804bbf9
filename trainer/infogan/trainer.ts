/**
 * One InfoGAN training run's state and its step. A step is a D step (D and Q learn to tell real from
 * fake and to read the codes back) then a G step (G learns to fool D while keeping its codes readable).
 * Every random draw comes from (seed, step), and Adam's state is explicit, so a run resumed from a
 * checkpoint continues exactly as an uninterrupted one would.
 */
import { transferWeights, type TransferSource } from '../transfer.ts';
import * as tf from '@tensorflow/tfjs-core';
import type { InfoganArch } from '../../core/models/arch.ts';
import { infoganGenerateTraining, infoganGeneratorSpecs, infoganLayers } from '../../core/models/infogan.ts';
import { infoganDiscriminate, infoganDiscSpecs, type InfoganDiscArch, type QOutput } from '../../core/models/infogan-disc.ts';
import { checkParams, initWeights, paramsToWeights, variablesFromWeights, type WeightMap } from '../../core/models/params.ts';
import { latentSpecOf } from '../../core/onnx/export.ts';
import { Adam } from '../adam.ts';
import { gradsFor, readScalar } from '../grads.ts';
import { sampleCodes, stepSeed, type CodeSample } from './codes.ts';

export interface InfoganTrainConfig {
  arch: InfoganArch;
  disc: InfoganDiscArch;
  batch: number;
  lrD: number;
  lrG: number;
  beta1: number;
  beta2: number;
  /** Weight of the mutual-information term for categorical and continuous codes. */
  lambdaCat: number;
  lambdaCont: number;
  seed: number;
  /** FreezeD: this many of the critic's first conv layers keep their weights (0 or absent: none). */
  freezeD?: number;
}

export interface StepLosses {
  /** Discriminator loss (real + fake binary cross-entropy). */
  d: number;
  /** Generator's adversarial loss (non-saturating). */
  g: number;
  /** Mutual-information loss (λ-weighted), and its two parts unweighted. */
  mi: number;
  miCat: number;
  miCont: number;
  /** Mean D(x) on real and on fake images, as probabilities. */
  realProb: number;
  fakeProb: number;
}

const PURPOSE_D = 1;
const PURPOSE_G = 2;
const PURPOSE_BN = 3;

type Vars = Record<string, tf.Variable>;

export class InfoganTrainer {
  readonly config: InfoganTrainConfig;
  readonly g: Vars;
  readonly d: Vars;
  private readonly optG: Adam;
  private readonly optD: Adam;
  step = 0;

  /**
   * A new run (weights from the seed, or from `from`'s G, D and Q with fresh Adam: transfer learning), or a
   * resumed one from a checkpoint's saved state.
   */
  constructor(config: InfoganTrainConfig, resume?: { state: WeightMap; step: number; where: string }, from?: TransferSource) {
    this.config = config;
    const gSpecs = infoganGeneratorSpecs(config.arch);
    const dSpecs = infoganDiscSpecs(config.arch, config.disc);
    const fresh = new Map([...initWeights(gSpecs, config.seed), ...initWeights(dSpecs, config.seed + 1)]);
    const weights = resume?.state ?? (from ? transferWeights(fresh, from.weights) : fresh);
    const params = Object.fromEntries([...gSpecs, ...dSpecs].map((s) => [s.name, weights.get(s.name)]).filter(([, w]) => w));
    // Shapes checked before any variable exists, so a mismatched checkpoint leaks nothing.
    const shapes = Object.fromEntries(Object.entries(params).map(([k, w]) => [k, { shape: (w as { shape: number[] }).shape }]));
    checkParams([...gSpecs, ...dSpecs], shapes as never, resume?.where ?? from?.where ?? 'initial weights');
    this.g = variablesFromWeights(gSpecs, weights);
    this.d = variablesFromWeights(dSpecs, weights);
    for (const [name, v] of Object.entries(this.d)) if (frozenInfoganCriticParam(name, config.freezeD ?? 0)) v.trainable = false;
    const adam = (lr: number) => ({ learningRate: lr, beta1: config.beta1, beta2: config.beta2, epsilon: 1e-8 });
    this.optG = new Adam(this.g, adam(config.lrG));
    this.optD = new Adam(this.d, adam(config.lrD));
    if (resume) {
      this.optG.load('opt/g/', resume.state, resume.where);
      this.optD.load('opt/d/', resume.state, resume.where);
      this.step = resume.step;
    }
  }

  private codes(purpose: number): CodeSample {
    return sampleCodes(latentSpecOf(this.config.arch), this.config.batch, stepSeed(this.config.seed, this.step, purpose));
  }

  /** λ-weighted cross-entropy of the categorical codes plus Gaussian NLL of the continuous ones. */
  private miLoss(q: QOutput, codes: CodeSample): { total: tf.Scalar; cat: tf.Scalar; cont: tf.Scalar } {
    const { arch, lambdaCat, lambdaCont } = this.config;
    const n = codes.batch;
    let cat: tf.Scalar = tf.scalar(0);
    arch.categorical.forEach((k, c) => {
      const idx = tf.tensor1d(Array.from({ length: n }, (_, b) => codes.categorical[b * arch.categorical.length + c]!), 'int32');
      const ce = tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(idx, k), tf.logSoftmax(q.categorical[c]!)), 1)));
      cat = tf.add(cat, ce) as tf.Scalar;
    });
    let cont: tf.Scalar = tf.scalar(0);
    if (q.mean) {
      const c = tf.tensor2d(codes.continuous, [n, arch.continuous]);
      const sq = tf.square(tf.sub(c, q.mean));
      const nll = q.logVariance ? tf.add(tf.mul(sq, tf.exp(tf.neg(q.logVariance))), q.logVariance) : sq;
      cont = tf.mean(tf.sum(tf.mul(nll, 0.5), 1));
    }
    return { total: tf.add(tf.mul(cat, lambdaCat), tf.mul(cont, lambdaCont)), cat, cont };
  }

  /** One D step then one G step on a batch of real images (NHWC in [-1, 1]); advances the step count. */
  async trainStep(real: Float32Array): Promise<StepLosses> {
    const d = await this.dStep(real);
    const losses = { ...d, ...(await this.gStep()) };
    this.step++;
    return losses;
  }

  /** D and Q learn to tell real from fake and to read the codes back from fakes. Only D's side changes. */
  dStep(real: Float32Array): Promise<Pick<StepLosses, 'd' | 'realProb' | 'fakeProb'>> {
    const { arch, disc, batch } = this.config;
    const params = { ...this.g, ...this.d };
    const codes = this.codes(PURPOSE_D);
    return this.withLosses(['d', 'realProb', 'fakeProb'], (keep) => {
      const realT = tf.tensor4d(real, [batch, arch.size, arch.size, arch.channels]);
      const fake = infoganGenerateTraining(arch, params, this.latentTensor(codes)).images;
      const { grads } = gradsFor(() => {
        const r = infoganDiscriminate(arch, disc, params, realT);
        const f = infoganDiscriminate(arch, disc, params, fake);
        keep('realProb', tf.mean(tf.sigmoid(r.logits)));
        keep('fakeProb', tf.mean(tf.sigmoid(f.logits)));
        const adversarial = keep('d', tf.add(tf.mean(tf.softplus(tf.neg(r.logits))), tf.mean(tf.softplus(f.logits))));
        return tf.add(adversarial, this.miLoss(f.q, codes).total) as tf.Scalar;
      }, this.d);
      this.optD.apply(grads);
    });
  }

  /** G learns to fool D while keeping its codes readable by Q. Only G changes. */
  gStep(): Promise<Pick<StepLosses, 'g' | 'mi' | 'miCat' | 'miCont'>> {
    const { arch, disc } = this.config;
    const params = { ...this.g, ...this.d };
    const codes = this.codes(PURPOSE_G);
    return this.withLosses(['g', 'mi', 'miCat', 'miCont'], (keep) => {
      const { grads } = gradsFor(() => {
        const images = infoganGenerateTraining(arch, params, this.latentTensor(codes)).images;
        const f = infoganDiscriminate(arch, disc, params, images);
        const mi = this.miLoss(f.q, codes);
        keep('miCat', mi.cat);
        keep('miCont', mi.cont);
        keep('mi', mi.total);
        return tf.add(keep('g', tf.mean(tf.softplus(tf.neg(f.logits)))), mi.total) as tf.Scalar;
      }, this.g);
      this.optG.apply(grads);
    });
  }

  private latentTensor(codes: CodeSample): tf.Tensor2D {
    return tf.tensor2d(codes.latents, [codes.batch, codes.latents.length / codes.batch]);
  }

  /**
   * Runs `body` in a tidy scope; the scalars it passes to `keep` survive the gradient closures' own
   * scopes, are read once, and disposed.
   */
  private async withLosses<K extends keyof StepLosses>(keys: K[], body: (keep: <T extends tf.Tensor>(k: K, t: T) => T) => void): Promise<Pick<StepLosses, K>> {
    const kept = new Map<K, tf.Tensor>();
    try {
      tf.tidy(() => body((k, t) => (kept.set(k, tf.keep(t)), t)));
      const values = await Promise.all(keys.map((k) => readScalar(kept.get(k)!)));
      return Object.fromEntries(keys.map((k, i) => [k, values[i]!])) as Pick<StepLosses, K>;
    } finally {
      tf.dispose([...kept.values()]);
    }
  }

  /**
   * Sets the generator's batchnorm statistics to the population values of its training-mode activations
   * (averaged over `samples` latents from a fixed seed), for inference and export. Training itself
   * always normalises with batch statistics, so this never changes the course of a run.
   */
  async recalibrateBatchNorm(samples = 640): Promise<void> {
    const { arch, seed } = this.config;
    const chunk = Math.min(samples, 64);
    const rounds = Math.ceil(samples / chunk);
    const sums = new Map<string, { mean: Float64Array; meanSq: Float64Array }>();
    for (let r = 0; r < rounds; r++) {
      const codes = sampleCodes(latentSpecOf(arch), chunk, stepSeed(seed, r, PURPOSE_BN));
      const moments = tf.tidy(() => {
        const { moments } = infoganGenerateTraining(arch, this.g, tf.tensor2d(codes.latents, [chunk, codes.latents.length / chunk]));
        return Object.entries(moments).map(([layer, m]) => ({ layer, mean: m.mean, variance: m.variance }));
      });
      try {
        for (const { layer, mean: meanT, variance: varianceT } of moments) {
          const [mean, variance] = await Promise.all([meanT.data(), varianceT.data()]);
          const acc = sums.get(layer) ?? { mean: new Float64Array(mean.length), meanSq: new Float64Array(mean.length) };
          for (let i = 0; i < mean.length; i++) {
            acc.mean[i]! += mean[i]! / rounds;
            acc.meanSq[i]! += (variance[i]! + mean[i]! ** 2) / rounds;
          }
          sums.set(layer, acc);
        }
      } finally {
        tf.dispose(moments.flatMap((m) => [m.mean, m.variance]));
      }
    }
    tf.tidy(() => {
      for (const l of infoganLayers(arch)) {
        const acc = sums.get(l.name);
        if (!acc) continue;
        const variance = acc.meanSq.map((v, i) => Math.max(v - acc.mean[i]! ** 2, 0));
        this.g[`${l.name}/bn/mean`]!.assign(tf.tensor1d(Float32Array.from(acc.mean)));
        this.g[`${l.name}/bn/variance`]!.assign(tf.tensor1d(Float32Array.from(variance)));
      }
    });
  }

  /** Everything a resume needs: G, D and Q weights and both optimizers' state. */
  async state(): Promise<WeightMap> {
    return new Map([...(await paramsToWeights(this.g)), ...(await paramsToWeights(this.d)), ...(await this.optG.state('opt/g/')), ...(await this.optD.state('opt/d/'))]);
  }

  dispose(): void {
    for (const v of [...Object.values(this.g), ...Object.values(this.d)]) v.dispose();
    this.optG.dispose();
    this.optD.dispose();
  }
}

/** FreezeD for InfoGAN: whether critic parameter `name` belongs to one of its first `freezeD` conv layers. */
export function frozenInfoganCriticParam(name: string, freezeD: number): boolean {
  const m = /^d\/conv(\d+)\//.exec(name);
  return m !== null && Number(m[1]) < freezeD;
}
