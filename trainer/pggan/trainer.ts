/**
 * One PGGAN training run's state and its step: a critic (D) step with WGAN-GP and drift, then a generator step,
 * at the phase (resolution, fade-in alpha) the schedule gives for the images shown so far. Every random draw
 * comes from (seed, step, purpose, rollbacks) and Adam's state is explicit, so a run resumed from a checkpoint
 * continues exactly as an uninterrupted one would, and a rolled-back run draws fresh noise.
 */
import { transferWeights, type TransferSource } from '../transfer.ts';
import * as tf from '@tensorflow/tfjs-core';
import type { Phase } from '../../core/models/arch.ts';
import { pgganGenerate, pgganGeneratorSpecs } from '../../core/models/pggan.ts';
import { pgganDiscriminate, pgganDiscSpecs } from '../../core/models/pggan-disc.ts';
import { downsample2x, upsample2x } from '../../core/models/layers.ts';
import { checkParams, initWeights, paramsToWeights, variablesFromWeights, type WeightMap } from '../../core/models/params.ts';
import { gaussianArray, hash32, rng } from '../../core/random.ts';
import { RhodopsError } from '../../core/errors.ts';
import { Adam, type AdamOptions } from '../adam.ts';
import { gradsFor, readScalar } from '../grads.ts';
import { diffAugment } from './diff-augment.ts';
import { criticLoss, generatorLoss, logisticCriticLoss, logisticGeneratorLoss, type CriticLoss } from './loss.ts';
import { clockAt, pointAt, type SchedulePoint } from './schedule.ts';
import { initialRunState, type PgganSettings, type Remedy, type RunState } from './settings.ts';

export interface PgganStepLosses {
  /** Critic loss: −wdist + gp + drift. */
  d: number;
  /** Generator loss: −E[D(fake)]. */
  g: number;
  /** E[D(real)] − E[D(fake)]. */
  wdist: number;
  gp: number;
  drift: number;
}

const PURPOSE_D = 1;
const PURPOSE_G = 2;
const PURPOSE_MIX = 3;
const PURPOSE_AUGMENT_REAL = 4;
const PURPOSE_AUGMENT_FAKE_D = 5;
const PURPOSE_AUGMENT_FAKE_G = 6;

type Vars = Record<string, tf.Variable>;

/**
 * Where a checkpoint keeps G's trained weights when G's own names hold the moving average (what plays, exports
 * and resumes as the generator): `train/g/4/dense/w`.
 */
export const TRAINED_G_PREFIX = 'train/';

/** Which of G's weights draw: the moving average (samples, metrics, export) or the weights training moves. */
export type GeneratorWeights = 'average' | 'trained';

/** A slice of the minibatch: its first image and how many. */
export interface MicroBatch {
  from: number;
  n: number;
}

/**
 * The minibatch in slices of at most `micro` images, each a multiple of the minibatch-stddev `group` where `micro`
 * holds one (the last may be smaller where the minibatch is not a multiple), so a group never straddles two slices.
 * A `micro` below the group makes the groups that small (the critic groups within what it sees, as the paper's
 * code does for minibatches below the group size at 1024²).
 */
export function microBatches(batch: number, micro: number, group: number): MicroBatch[] {
  const g = Math.max(1, Math.min(group, batch));
  const m = Math.max(1, Math.min(micro, batch));
  const size = m >= g ? Math.floor(m / g) * g : m;
  const out: MicroBatch[] = [];
  for (let from = 0; from < batch; from += size) out.push({ from, n: Math.min(size, batch - from) });
  return out;
}

export interface PgganResume {
  state: WeightMap;
  step: number;
  clock: number;
  run: RunState;
  where: string;
}

export interface RemedyApplied {
  resolution: number;
  lr: [number, number];
  lambdaGp: [number, number];
  transitionKimg: [number, number] | null;
  clock: [number, number];
}

export class PgganTrainer {
  readonly settings: PgganSettings;
  /** G's trained weights: what the gradients move. */
  readonly g: Vars;
  /**
   * G's exponential moving average (Karras et al. 2018's Gs; Yazıcı et al. 2019): smoother pictures than any one
   * step's weights. Null with `emaKimg` 0, and on replicas (replicas.ts), which only compute gradients.
   */
  readonly gAverage: Vars | null;
  readonly d: Vars;
  run: RunState;
  step = 0;
  /** Images into the schedule (manifest training.imagesSeen). */
  clock = 0;
  private optG: Adam;
  private optD: Adam;
  /** stepPeakBytes is measuring: the lazy penalty counts on every step. */
  private measuring = false;

  /**
   * A new run (from `from`'s G and D where given: transfer learning, with fresh Adam), or a resumed one. Shapes are
   * checked before any variable exists.
   */
  constructor(settings: PgganSettings, resume?: PgganResume, from?: TransferSource, opts: { average?: boolean } = {}) {
    this.settings = settings;
    const gSpecs = pgganGeneratorSpecs(settings.arch);
    const dSpecs = pgganDiscSpecs(settings.arch);
    const fresh = () => new Map([...initWeights(gSpecs, settings.seed), ...initWeights(dSpecs, settings.seed + 1)]);
    const saved = resume?.state ?? (from ? transferWeights(fresh(), from.weights) : fresh());
    // A checkpoint with an average keeps the trained weights aside; one without (an older run, or emaKimg 0)
    // has only the trained ones, and the average starts there.
    const trainedAside = gSpecs.every((spec) => saved.has(TRAINED_G_PREFIX + spec.name));
    const weights = trainedAside ? new Map([...saved, ...gSpecs.map((spec) => [spec.name, saved.get(TRAINED_G_PREFIX + spec.name)!] as const)]) : saved;
    // Shapes are checked before any variable exists, so a mismatched checkpoint leaks nothing.
    const shapes = Object.fromEntries([...weights].map(([k, w]) => [k, { shape: w.shape }]));
    checkParams([...gSpecs, ...dSpecs], shapes as unknown as Record<string, tf.Tensor>, resume?.where ?? from?.where ?? 'initial weights');
    this.run = resume ? structuredClone(resume.run) : initialRunState(settings);
    // tf.variable(t) and Variable.assign(t) keep t's data but leave t itself alive: the tidy disposes those
    // handles (variables outlive a tidy), so neither a new run nor a resume leaves tensors behind.
    let g: Vars = {};
    // (typed by hand: assigned inside the tidy's callback, where the compiler does not look)
    let gAverage = null as Vars | null;
    let d: Vars = {};
    let optG: Adam | null = null;
    let optD: Adam | null = null;
    try {
      tf.tidy(() => {
        g = variablesFromWeights(gSpecs, weights);
        if (settings.emaKimg > 0 && opts.average !== false) {
          gAverage = variablesFromWeights(gSpecs, trainedAside ? saved : weights);
          for (const v of Object.values(gAverage)) v.trainable = false;
        }
        d = variablesFromWeights(dSpecs, weights);
        optG = this.adam('g', g);
        optD = this.adam('d', d);
        if (resume) {
          optG.load('opt/g/', resume.state, resume.where);
          optD.load('opt/d/', resume.state, resume.where);
        }
      });
    } catch (e) {
      // A checkpoint without (or with mismatched) optimizer state: free what was built before saying so.
      for (const v of [...Object.values(g), ...Object.values(gAverage ?? {}), ...Object.values(d)]) v.dispose();
      (optG as Adam | null)?.dispose();
      (optD as Adam | null)?.dispose();
      throw e;
    }
    this.g = g;
    this.gAverage = gAverage;
    this.d = d;
    for (const [name, v] of Object.entries(d)) if (frozenCriticParam(name, settings)) v.trainable = false;
    this.optG = optG!;
    this.optD = optD!;
    if (resume) {
      this.step = resume.step;
      this.clock = resume.clock;
    }
  }

  /**
   * Adam reads its learning rate at every update; a getter makes that the current level's rate (scaled per
   * network), so a new resolution or a remedy takes effect without rebuilding the optimizer.
   */
  private adam(net: 'g' | 'd', vars: Vars): Adam {
    const { beta1, beta2, epsilon } = this.settings;
    const current = () => this.learningRate(net);
    const options: AdamOptions = {
      get learningRate() {
        return current();
      },
      beta1,
      beta2,
      epsilon,
    };
    return new Adam(vars, options);
  }

  learningRate(net: 'g' | 'd'): number {
    const level = this.run.levels[this.point().stage.level]!;
    return level.lr * (net === 'g' ? this.settings.lrScaleG : this.settings.lrScaleD);
  }

  point(): SchedulePoint {
    return pointAt(this.run.levels, this.clock);
  }

  phase(): Phase {
    const p = this.point();
    return { resolution: p.resolution, alpha: p.alpha };
  }

  get done(): boolean {
    return this.point().done;
  }

  /** What the next step trains on: resolution, minibatch and the stream position of its real images. */
  nextBatch(): { resolution: number; batch: number; dataPos: number } {
    const p = this.point();
    return { resolution: p.resolution, batch: this.run.levels[p.stage.level]!.batch, dataPos: this.run.dataPos };
  }

  private seed(purpose: number): number {
    return hash32(this.settings.seed, this.step, purpose, this.run.rollbacks);
  }

  /**
   * One critic step then one generator step on `real` (NHWC in [-1, 1] at nextBatch()'s resolution and size);
   * advances the step, the schedule clock and the data position. The minibatch is worked through in micro-batches
   * of at most `micro` images (gradients summed, each weighted by its share of the minibatch, then one update):
   * the same losses' gradients in a fraction of the memory (microBatches: how the minibatch-stddev groups fall).
   */
  async trainStep(real: Float32Array, micro = Infinity): Promise<PgganStepLosses> {
    const { phase, batch } = this.beginStep(real);
    const parts = microBatches(batch, micro, this.settings.mbstdGroup);
    const d = await this.criticGrads(real, phase, batch, parts);
    this.applyGrads('d', d.grads);
    const g = await this.generatorGrads(phase, batch, parts);
    this.applyGrads('g', g.grads);
    this.endStep(batch);
    return { ...d.losses, g: g.loss };
  }

  /**
   * The start of a step (parallel.ts drives a step's parts on several replicas): checks `real`, restarts Adam at
   * a new stage, and says the phase and minibatch.
   */
  beginStep(real: Float32Array): { phase: Phase; batch: number } {
    const point = this.point();
    if (point.done) throw new Error('PgganTrainer.trainStep: the schedule is complete');
    const { resolution: res, batch } = this.nextBatch();
    const channels = this.settings.arch.channels;
    if (real.length !== batch * res * res * channels) {
      throw new Error(`PgganTrainer.trainStep: expected ${batch} images of ${res}²×${channels}, got ${real.length} values`);
    }
    if (point.stage.index !== this.run.adamStage) this.resetOptimizers(point.stage.index);
    return { phase: { resolution: res, alpha: point.alpha }, batch };
  }

  /**
   * One network's update with these gradients (summed over the minibatch), which it then disposes; G's average
   * follows G's update.
   */
  applyGrads(net: 'g' | 'd', grads: Record<string, tf.Tensor>): void {
    (net === 'g' ? this.optG : this.optD).apply(grads);
    tf.dispose(Object.values(grads));
    if (net === 'g') this.updateAverage();
  }

  /**
   * avg ← w + β(avg − w) with β = ½^(minibatch ÷ half-life): the weight of a step's G halves every `emaKimg`
   * thousand images, whatever the minibatch (StyleGAN2's ema_kimg; PGGAN's β 0.999 at 16 images is 11 kimg).
   */
  private updateAverage(): void {
    const avg = this.gAverage;
    if (!avg) return;
    const beta = 0.5 ** (this.nextBatch().batch / (this.settings.emaKimg * 1000));
    tf.tidy(() => {
      for (const [k, w] of Object.entries(this.g)) avg[k]!.assign(tf.add(w, tf.mul(tf.sub(avg[k]!, w), beta)));
    });
  }

  /** The end of a step: the counters move on by the minibatch. */
  endStep(batch: number): void {
    this.step++;
    this.clock += batch;
    this.run.imagesShown += batch;
    this.run.dataPos += batch;
  }

  /**
   * How far a step of `n` images of `real` raises the memory in use at its peak (bytes), at the current phase:
   * the gradients of both networks are computed and thrown away, so the run is left exactly as it was.
   */
  async stepPeakBytes(real: Float32Array, n: number): Promise<number> {
    const point = this.point();
    const phase = { resolution: point.resolution, alpha: point.alpha };
    const parts = [{ from: 0, n }];
    const held = tf.memory().numBytes;
    // The heaviest step: with the lazy penalty, whichever step this is.
    this.measuring = true;
    try {
      const p = await tf.profile(async () => {
        tf.dispose(Object.values((await this.criticGrads(real, phase, n, parts)).grads));
        tf.dispose(Object.values((await this.generatorGrads(phase, n, parts)).grads));
      });
      return Math.max(0, p.peakBytes - held);
    } finally {
      this.measuring = false;
    }
  }

  /** Adam starts afresh at each stage (the official code's reset_opt_for_new_lod): old moments fit another network. */
  private resetOptimizers(stage: number): void {
    this.optG.dispose();
    this.optD.dispose();
    tf.tidy(() => {
      this.optG = this.adam('g', this.g);
      this.optD = this.adam('d', this.d);
    });
    this.run.adamStage = stage;
  }

  /**
   * This step's R1 penalty, or null on the steps that skip it. γ is given at 64² with a minibatch of 16 and scales
   * with res² ÷ minibatch (StyleGAN2-ADA's rule), so one setting serves every resolution of a progressive run.
   */
  private r1(phase: Phase, batch: number): { gamma: number; every: number } | null {
    const every = this.settings.r1Every;
    if (this.step % every !== 0 && !this.measuring) return null;
    return { gamma: this.run.lambdaGp * ((phase.resolution * phase.resolution) / 4096) * (16 / batch), every };
  }

  private critic(phase: Phase) {
    const { arch, mbstdGroup } = this.settings;
    return (x: tf.Tensor4D) => pgganDiscriminate(arch, this.d, x, phase, mbstdGroup);
  }

  async criticGrads(real: Float32Array, phase: Phase, batch: number, parts: MicroBatch[]): Promise<{ grads: Record<string, tf.Tensor>; losses: Omit<PgganStepLosses, 'g'> }> {
    const { arch, drift } = this.settings;
    const res = phase.resolution;
    const size = arch.latentSize;
    const imageSize = res * res * arch.channels;
    // Every draw is the whole minibatch's, sliced: the micro-batches see what one pass would.
    const z = gaussianArray(batch * size, this.seed(PURPOSE_D));
    const r = rng(this.seed(PURPOSE_MIX));
    const u = Float32Array.from({ length: batch }, () => r());
    const kept: { loss: CriticLoss; weight: number }[] = [];
    try {
      const grads = this.accumulate(parts, batch, ({ from, n }, weight) => {
        let realT = tf.tensor4d(real.subarray(from * imageSize, (from + n) * imageSize), [n, res, res, arch.channels]);
        // Real images fade between resolutions like the generator's output (the official code's process_reals).
        if (res > 4 && phase.alpha < 1) {
          const coarse = upsample2x(downsample2x(realT));
          realT = tf.add(coarse, tf.mul(tf.sub(realT, coarse), phase.alpha)) as tf.Tensor4D;
        }
        // The critic sees both through the same kind of augmentation (none unless the run asks for it).
        const policy = this.settings.augment;
        realT = diffAugment(realT, policy, this.seed(PURPOSE_AUGMENT_REAL), from);
        const fake = diffAugment(pgganGenerate(arch, this.g, tf.tensor2d(z.subarray(from * size, (from + n) * size), [n, size]), phase), policy, this.seed(PURPOSE_AUGMENT_FAKE_D), from);
        const uT = tf.tensor1d(u.subarray(from, from + n));
        let loss: CriticLoss | null = null;
        const { grads } = gradsFor(() => {
          const l = this.settings.loss === 'logistic-r1' ? logisticCriticLoss(this.critic(phase), realT, fake, this.r1(phase, batch)) : criticLoss(this.critic(phase), realT, fake, uT, this.run.lambdaGp, drift);
          // The gradient's scope disposes what the loss made; these scalars are read after it, then disposed.
          loss = { total: tf.keep(l.total), wdist: tf.keep(l.wdist), gp: tf.keep(l.gp), drift: tf.keep(l.drift) };
          return tf.mul(l.total, weight) as tf.Scalar;
        }, this.d);
        // The closure ran synchronously: `loss` is set (the compiler cannot see through the callback).
        kept.push({ loss: loss as unknown as CriticLoss, weight });
        return grads;
      });
      const losses = { d: 0, wdist: 0, gp: 0, drift: 0 };
      await readOrDispose(grads, async () => {
        for (const { loss: l, weight } of kept) {
          const [total, wdist, gp, drift] = await Promise.all([l.total, l.wdist, l.gp, l.drift].map(readScalar));
          losses.d += total! * weight;
          losses.wdist += wdist! * weight;
          losses.gp += gp! * weight;
          losses.drift += drift! * weight;
        }
      });
      return { grads, losses };
    } finally {
      tf.dispose(kept.flatMap(({ loss: l }) => [l.total, l.wdist, l.gp, l.drift]));
    }
  }

  async generatorGrads(phase: Phase, batch: number, parts: MicroBatch[]): Promise<{ grads: Record<string, tf.Tensor>; loss: number }> {
    const size = this.settings.arch.latentSize;
    const z = gaussianArray(batch * size, this.seed(PURPOSE_G));
    const lossOf = this.settings.loss === 'logistic-r1' ? logisticGeneratorLoss : generatorLoss;
    const values: tf.Scalar[] = [];
    try {
      const grads = this.accumulate(parts, batch, ({ from, n }, weight) => {
        const zT = tf.tensor2d(z.subarray(from * size, (from + n) * size), [n, size]);
        const augmentSeed = this.seed(PURPOSE_AUGMENT_FAKE_G);
        const { value, grads } = gradsFor(() => {
          const fake = diffAugment(pgganGenerate(this.settings.arch, this.g, zT, phase), this.settings.augment, augmentSeed, from);
          return tf.mul(lossOf(this.critic(phase), fake), weight) as tf.Scalar;
        }, this.g);
        values.push(tf.keep(value));
        return grads;
      });
      let loss = 0;
      await readOrDispose(grads, async () => {
        for (const v of values) loss += await readScalar(v);
      });
      return { grads, loss };
    } finally {
      tf.dispose(values);
    }
  }

  /**
   * Sums `part`'s gradients over the micro-batches, each in its own tidy scope so that only the running sums
   * outlive it: the memory is one micro-batch's graph, not the minibatch's. The sums are the caller's to dispose.
   */
  private accumulate(parts: MicroBatch[], batch: number, part: (p: MicroBatch, weight: number) => Record<string, tf.Tensor>): Record<string, tf.Tensor> {
    let sum: Record<string, tf.Tensor> = {};
    for (const p of parts) {
      const next = tf.tidy(() => {
        const g = part(p, p.n / batch);
        const out: Record<string, tf.Tensor> = {};
        for (const [k, v] of Object.entries(g)) out[k] = sum[k] ? tf.add(sum[k], v) : v;
        return out;
      });
      tf.dispose(Object.values(sum));
      sum = next;
    }
    return sum;
  }

  /**
   * Images [n, res, res, C] (unclamped, about [-1, 1]) for `latents` (n × latentSize) at `phase` (default: now),
   * by G's average where the run keeps one.
   */
  generate(latents: Float32Array, n: number, phase: Phase = this.phase(), which: GeneratorWeights = 'average'): tf.Tensor4D {
    const g = which === 'average' ? (this.gAverage ?? this.g) : this.g;
    return tf.tidy(() => pgganGenerate(this.settings.arch, g, tf.tensor2d(latents, [n, this.settings.arch.latentSize]), phase));
  }

  /**
   * Applies a collapse remedy from the current resolution on: learning rate × remedy.lr, λ_gp × remedy.gp, and
   * every transition not yet finished × remedy.fade. Inside a fade the clock moves to where the lengthened fade
   * has the same alpha, so the generator's output does not jump.
   */
  applyRemedy(remedy: Remedy): RemedyApplied {
    const point = this.point();
    const current = point.stage.level;
    const inTransition = point.stage.kind === 'transition';
    const before = this.run.levels;
    const levels = this.run.levels.map((l, i) => {
      if (i < current) return l;
      const fade = i > current || inTransition ? remedy.fade : 1;
      return { ...l, lr: l.lr * remedy.lr, transitionKimg: l.transitionKimg * fade };
    });
    const clockBefore = this.clock;
    if (inTransition && remedy.fade !== 1) this.clock = clockAt(levels, { resolution: point.resolution, alpha: point.alpha });
    const gpBefore = this.run.lambdaGp;
    this.run.levels = levels;
    this.run.lambdaGp = gpBefore * remedy.gp;
    // The fade it lengthened: the one in progress, else the next one (none at the final resolution).
    const faded = inTransition ? current : current + 1;
    const transitionKimg: [number, number] | null =
      faded < levels.length ? [before[faded]!.transitionKimg, levels[faded]!.transitionKimg] : null;
    return {
      resolution: point.resolution,
      lr: [before[current]!.lr, levels[current]!.lr],
      lambdaGp: [gpBefore, this.run.lambdaGp],
      transitionKimg,
      clock: [clockBefore, this.clock],
    };
  }

  /**
   * Everything a resume needs: G and D weights and both optimizers' state (the run state goes in the manifest).
   * G's names hold what plays (the average, where kept; the trained weights then under TRAINED_G_PREFIX).
   */
  async state(): Promise<WeightMap> {
    const trained = await paramsToWeights(this.g);
    const g = this.gAverage ? [...(await paramsToWeights(this.gAverage)), ...[...trained].map(([k, w]) => [TRAINED_G_PREFIX + k, w] as const)] : [...trained];
    return new Map([...g, ...(await paramsToWeights(this.d)), ...(await this.optG.state('opt/g/')), ...(await this.optD.state('opt/d/'))]);
  }

  dispose(): void {
    for (const v of [...Object.values(this.g), ...Object.values(this.gAverage ?? {}), ...Object.values(this.d)]) v.dispose();
    this.optG.dispose();
    this.optD.dispose();
  }
}

/** FreezeD: whether critic parameter `name` belongs to one of the `freezeD` highest resolutions (the image side). */
export function frozenCriticParam(name: string, s: Pick<PgganSettings, 'freezeD' | 'arch'>): boolean {
  if (s.freezeD <= 0) return false;
  const m = /^d\/(\d+)\//.exec(name);
  if (!m) return false;
  return Number(m[1]) > s.arch.maxResolution / 2 ** s.freezeD;
}

/** For error messages: the schedule point in words, e.g. "32² fade-in α 0.41". */
export function describePoint(p: Pick<SchedulePoint, 'resolution' | 'alpha' | 'stage'>): string {
  return p.stage.kind === 'transition' ? `${p.resolution}² fade-in α ${p.alpha.toFixed(2)}` : `${p.resolution}² stable`;
}

export function assertCompatible(settings: PgganSettings, where: string): void {
  for (const l of settings.levels) {
    if (l.batch < 2 && settings.mbstdGroup > 1) {
      throw new RhodopsError('BAD_OPTION', `${where}: minibatch ${l.batch} at ${l.resolution}² leaves nothing for the minibatch standard deviation.`, {
        hint: 'Use a minibatch of at least 2 (the paper uses 16 up to 128²).',
      });
    }
  }
}

/** Runs `read` (the step's losses, read back); if it fails, the gradients it came with are disposed first. */
async function readOrDispose(grads: Record<string, tf.Tensor>, read: () => Promise<void>): Promise<void> {
  try {
    await read();
  } catch (e) {
    tf.dispose(Object.values(grads));
    throw e;
  }
}
