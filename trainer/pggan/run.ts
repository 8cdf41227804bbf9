/**
 * `rhodops train pggan`: streams a packed dataset through PgganTrainer along the progressive-growing schedule;
 * logs every step to log.jsonl; saves a checkpoint (manifest with phase and alpha, tfjs state, generator.onnx at
 * the current phase) at intervals and at every phase change, with a sample grid, and a grid and an interpolation
 * video per finished phase; watches sample diversity and rolls back from a collapse (guard.ts); stops cleanly on
 * Ctrl-C; resumes exactly, mid-transition included.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import * as tf from '@tensorflow/tfjs-core';
import type { Phase } from '../../core/models/arch.ts';
import { messageOf, RhodopsError } from '../../core/errors.ts';
import { REPORT_FILE, writeTrainingReport } from '../report/report.ts';
import { formatDuration } from '../report/html.ts';
import { widthAt } from '../../core/models/pggan.ts';
import { exists } from '../../core/fsutil.ts';
import { lockRun } from '../../core/run-lock.ts';
import { logger } from '../../core/log.ts';
import { openCheckpoint, readWeights } from '../../core/checkpoint/io.ts';
import { saveModelCheckpoint } from '../../core/checkpoint/from-model.ts';
import { describeZodError } from '../../core/checkpoint/manifest.ts';
import type { PackedDataset } from '../prepare/pack-format.ts';
import { trimLog } from '../log-file.ts';
import { BatchStream, checkPackFits, openPackDir } from './data.ts';
import { generatedDiversity, guardLatents, isHealthy, observe, realDiversity } from './guard.ts';
import { gridLatents, phaseStem, writeGrid, writeVideo, type Generate } from './samples.ts';
import { etaSeconds, images, pgganStepCost, pointAt, stages, totalImages, type Stage, type StageKind } from './schedule.ts';
import { parsePerResolution, savedSettingsSchema, type GuardSettings, type PgganSettings, type RunState, type SavedSettings } from './settings.ts';
import { assertCompatible, describePoint, PgganTrainer, TRAINED_G_PREFIX, type PgganResume, type PgganStepLosses, type RemedyApplied } from './trainer.ts';
import { MicroBatchPlanner, type MicroBatchSetting } from './micro-batch.ts';
import { measureQuality, qualityLatents, type QualityReport } from './quality.ts';
import { Replicas } from './replicas.ts';
import { threadCount } from '../../core/backend.ts';

const log = logger('train');

/** The last checkpoint saved while the guard was healthy: the rollback target. */
export const HEALTHY_DIR = 'healthy';

/** What a resumed run may change; everything else comes from the checkpoint. */
export interface ResumeOverrides {
  /** Length of the final stabilisation (the rest of training at full resolution). */
  finalKimg?: number;
  /** Learning rate from the current resolution on. */
  lr?: number;
  checkpointEveryKimg?: number;
  checkpointEveryMinutes?: number;
  metricsEveryKimg?: number;
  /** Half-life of G's moving average (0: none). */
  emaKimg?: number;
  guard?: Partial<GuardSettings>;
  /**
   * Stage lengths as given on the command line (one kimg, or RES:KIMG pairs). They change only stages that have not
   * begun: a single value applies to every such stage, a pair naming a stage already begun is an error.
   */
  stabiliseKimg?: string;
  transitionKimg?: string;
  /** The minibatch from the current resolution on (one, or RES:N pairs), as --batch takes it. */
  batch?: string;
}

export interface RollbackEvent {
  /** Step at which the collapse was detected. */
  detectedAt: number;
  ratio: number;
  /** Step of the healthy checkpoint restored, or null when there was none (the remedy was applied in place). */
  rolledBackTo: number | null;
  remedy: RemedyApplied | null;
  gaveUp: boolean;
}

export interface PgganRunHooks {
  /** After every step (tests use it to provoke a collapse). */
  afterStep?: (trainer: PgganTrainer) => void;
  /** After a rollback, with the restored trainer, before training goes on. */
  onRollback?: (event: RollbackEvent, trainer: PgganTrainer) => void | Promise<void>;
}

export interface PgganRunOptions {
  /** New runs: every setting. Resumed runs use the checkpoint's, changed only by `overrides`. */
  settings?: PgganSettings;
  out: string;
  resume: boolean;
  overrides?: ResumeOverrides;
  /** Images per pass of a step (micro-batch.ts); `auto` (the default) fits the step in the wasm heap. */
  microBatch?: MicroBatchSetting;
  /** Threads that share each step (replicas.ts): `auto` is one per core on wasm and cpu; default 1. */
  threads?: number | 'auto';
  /** The dataset; by default the pack directory in settings.data is opened. */
  pack?: PackedDataset;
  /** Stops after the current step, saving a checkpoint first (Ctrl-C). */
  signal?: AbortSignal;
  /** Stop after this many steps in this invocation. */
  maxSteps?: number;
  /** Draw a progress bar on stderr. */
  progress?: boolean;
  /** Sample grids at each checkpoint and per phase (default true). */
  samples?: boolean;
  /** A latent-interpolation video per phase, with ffmpeg (default: as `samples`). */
  video?: boolean;
  hooks?: PgganRunHooks;
}

export interface PgganRunSummary {
  dir: string;
  step: number;
  kimg: number;
  phase: Phase;
  stoppedEarly: boolean;
  /** The guard rolled back maxRollbacks times and stopped the run at the last healthy checkpoint. */
  gaveUp: boolean;
  rollbacks: number;
  imagesPerSecond: number;
}

interface Loaded extends PgganResume {
  settings: PgganSettings;
}

/** Reads a checkpoint written by this trainer into what PgganTrainer resumes from. */
export async function loadRun(dir: string): Promise<Loaded> {
  const ckpt = await openCheckpoint(dir);
  const parsed = savedSettingsSchema.safeParse(ckpt.manifest.settings);
  if (!parsed.success) {
    throw new RhodopsError('MANIFEST_INVALID', `${dir} was not written by the PGGAN trainer: settings.${describeZodError(parsed.error)}.`, {
      hint: 'Resume a checkpoint made by `rhodops train pggan`, or start a new run with another --out.',
    });
  }
  const { settings, run } = parsed.data;
  const training = ckpt.manifest.training;
  if (!training) throw new RhodopsError('MANIFEST_INVALID', `${dir}/manifest.json has no training state.`, { hint: 'Resume a checkpoint made by `rhodops train pggan`.' });
  return { settings, run, step: training.step, clock: training.imagesSeen, state: await readWeights(ckpt), where: ckpt.dir };
}

function applyOverrides(loaded: Loaded, o: ResumeOverrides | undefined): Loaded {
  if (!o) return loaded;
  const settings: PgganSettings = structuredClone(loaded.settings);
  const run: RunState = structuredClone(loaded.run);
  // Stage lengths first, so that --final-kimg beside a single --stabilise-kimg still sets the last one.
  if (o.transitionKimg !== undefined) setUnbegunStages(settings, run, loaded.clock, 'transition', o.transitionKimg);
  if (o.stabiliseKimg !== undefined) setUnbegunStages(settings, run, loaded.clock, 'stabilise', o.stabiliseKimg);
  if (o.finalKimg !== undefined) {
    settings.levels[settings.levels.length - 1]!.stabiliseKimg = o.finalKimg;
    run.levels[run.levels.length - 1]!.stabiliseKimg = o.finalKimg;
  }
  if (o.lr !== undefined) {
    const current = pointAt(run.levels, loaded.clock).stage.level;
    for (const levels of [settings.levels, run.levels]) levels.forEach((l, i) => (l.lr = i >= current ? o.lr! : l.lr));
  }
  if (o.batch !== undefined) setBatchFromNow(settings, run, loaded.clock, o.batch);
  if (o.checkpointEveryKimg !== undefined) settings.checkpointEveryKimg = o.checkpointEveryKimg;
  if (o.metricsEveryKimg !== undefined) settings.metricsEveryKimg = o.metricsEveryKimg;
  if (o.emaKimg !== undefined) settings.emaKimg = o.emaKimg;
  if (o.checkpointEveryMinutes !== undefined) settings.checkpointEveryMinutes = o.checkpointEveryMinutes;
  if (o.guard) settings.guard = { ...settings.guard, ...o.guard };
  return { ...loaded, settings, run };
}

/**
 * Changes the minibatch from the resolution training is at on: the schedule counts images, not steps, so a step of
 * another size continues the same stage at the same point. Resolutions already left behind keep theirs.
 */
function setBatchFromNow(settings: PgganSettings, run: RunState, clock: number, text: string): void {
  const current = pointAt(run.levels, clock).stage.level;
  const done = run.levels.slice(0, current).map((l) => l.resolution);
  let values: Map<number, number>;
  try {
    values = parsePerResolution(text, run.levels.map((l) => l.resolution), () => Number.NaN);
  } catch (e) {
    throw new RhodopsError('BAD_OPTION', `--batch: ${(e as Error).message}.`, { hint: 'Pass one minibatch (e.g. 8) or RES:N pairs (e.g. 64:8,128:4).' });
  }
  for (const [res, batch] of values) {
    if (Number.isNaN(batch)) continue;
    if (!(Number.isInteger(batch) && batch >= 1 && batch <= 1024)) throw new RhodopsError('BAD_OPTION', `--batch: ${batch} at ${res}² is not a whole number from 1 to 1024.`, { hint: 'Pass a minibatch such as 8.' });
    if (done.includes(res)) {
      if (text.includes(':')) throw new RhodopsError('BAD_OPTION', `--batch: training has left ${res}² behind, so its minibatch cannot change.`, { hint: `Name only ${run.levels.slice(current).map((l) => `${l.resolution}²`).join(', ')}.` });
      continue;
    }
    for (const levels of [settings.levels, run.levels]) levels.find((l) => l.resolution === res)!.batch = batch;
  }
}

/**
 * Changes the length of the `kind` stages that have not begun at `clock`: a fade under way keeps its length,
 * because alpha is a function of it. A stabilisation under way may be named (RES:KIMG) and lengthened, or
 * shortened to no earlier than now: alpha is 1 throughout it. The stages before `clock` keep their starts, so the
 * run continues at the same point.
 */
function setUnbegunStages(settings: PgganSettings, run: RunState, clock: number, kind: StageKind, text: string): void {
  const option = kind === 'transition' ? '--transition-kimg' : '--stabilise-kimg';
  const begun = new Set(stages(run.levels).filter((s) => s.kind === kind && clock >= s.start && s.images > 0).map((s) => s.resolution));
  const now = pointAt(run.levels, clock);
  // The stabilisation under way, which RES:KIMG may stretch: alpha is 1 throughout it.
  const stretching = kind === 'stabilise' && now.stage.kind === 'stabilise' && !now.done ? now.stage : null;
  const fixed = [...begun].filter((r) => r !== stretching?.resolution);
  const explicit = text.includes(':');
  let values: Map<number, number>;
  try {
    values = parsePerResolution(text, run.levels.map((l) => l.resolution), () => Number.NaN);
  } catch (e) {
    throw new RhodopsError('BAD_OPTION', `${option}: ${(e as Error).message}.`, { hint: 'Pass one kimg for every stage not begun yet (e.g. 6) or RES:KIMG pairs (e.g. 32:6,64:10).' });
  }
  for (const [res, kimg] of values) {
    if (Number.isNaN(kimg)) continue;
    if (!(kimg >= 0)) throw new RhodopsError('BAD_OPTION', `${option}: ${kimg} at ${res}² is not a number of kimg ≥ 0.`, { hint: 'Pass kimg ≥ 0.' });
    const stretchable = explicit && stretching?.resolution === res;
    if (stretchable && stretching.start + images(kimg) < clock) {
      throw new RhodopsError('BAD_OPTION', `${option}: the stabilisation at ${res}² has run ${round((clock - stretching.start) / 1000, 2)} kimg already, more than ${kimg}.`, {
        hint: `Give it at least ${Math.ceil((clock - stretching.start) / 1000)} kimg.`,
      });
    }
    if (begun.has(res) && !stretchable) {
      if (explicit) {
        throw new RhodopsError('BAD_OPTION', `${option}: the ${kind} at ${res}² has ${kind === 'stabilise' ? 'ended' : 'already begun'}, so its length cannot change.`, {
          hint: `Name only resolutions whose ${kind} is still ahead${kind === 'stabilise' ? ' or under way' : ''}${fixed.length ? ` (not ${fixed.map((r) => `${r}²`).join(', ')})` : ''}.`,
        });
      }
      continue;
    }
    const i = run.levels.findIndex((l) => l.resolution === res);
    if (kind === 'transition' && i === 0) continue; // 4² has nothing to fade from
    for (const levels of [settings.levels, run.levels]) {
      if (kind === 'transition') levels[i]!.transitionKimg = kimg;
      else levels[i]!.stabiliseKimg = kimg;
    }
  }
}

export async function runPggan(o: PgganRunOptions): Promise<PgganRunSummary> {
  const out = path.resolve(o.out);
  const logFile = path.join(out, 'log.jsonl');
  const loaded = o.resume ? applyOverrides(await loadRun(out), o.overrides) : null;
  const settings = loaded?.settings ?? o.settings;
  if (!settings) throw new Error('runPggan: a new run needs settings');
  if (!loaded) {
    if (await exists(path.join(out, 'manifest.json'))) {
      throw new RhodopsError('CHECKPOINT_EXISTS', `${out} already holds a checkpoint.`, { hint: 'Pass --resume to continue it, or choose another --out.' });
    }
    assertCompatible(settings, 'settings');
  }
  // The dataset is checked before anything is written, so a wrong --data leaves no empty run behind.
  const pack = o.pack ?? (await openPackDir(settings.data));
  try {
    checkPackFits(pack, settings.arch.maxResolution, Math.max(...(loaded?.run ?? settings).levels.map((l) => l.batch)));
    if (loaded) await checkSamePack(out, pack);
    const release = await lockRun(out);
    try {
      return await trainLocked(o, out, logFile, settings, loaded, pack);
    } finally {
      await release();
    }
  } finally {
    if (!o.pack) await pack.close();
  }
}

/**
 * A resumed run continues its stream of images where it was: over another pack (packed again, more images) the
 * positions would point at other images and the run would not be the same run. Refused, with the way out.
 */
async function checkSamePack(out: string, pack: PackedDataset): Promise<void> {
  const saved = (await openCheckpoint(out)).manifest.dataset as { count?: number; createdAt?: string } | undefined;
  if (!saved) return;
  const changed = (saved.count !== undefined && saved.count !== pack.count) || (saved.createdAt !== undefined && pack.createdAt !== null && saved.createdAt !== pack.createdAt);
  if (changed) {
    throw new RhodopsError('DATASET_INVALID', `${pack.dir} is not the pack this run was trained on: ${saved.count} images packed ${saved.createdAt ?? 'then'}, ${pack.count} packed ${pack.createdAt ?? 'now'}.`, {
      hint: `Put the original pack back, or start a new run on the new pack from this one's weights: --from ${out} --out ANOTHER_DIR.`,
    });
  }
}

/** The run itself, once the folder is this process's alone. */
async function trainLocked(o: PgganRunOptions, out: string, logFile: string, settings: PgganSettings, loaded: Loaded | null, pack: PackedDataset): Promise<PgganRunSummary> {
  let trainer: PgganTrainer | undefined;
  if (loaded) {
    trainer = new PgganTrainer(settings, loaded);
    await trimLog(logFile, loaded.step, ['collapse']);
    log.info(`resuming ${out} at step ${loaded.step}, ${describePoint(trainer.point())}, ${(loaded.clock / 1000).toFixed(1)} kimg`);
  } else {
    await fs.mkdir(out, { recursive: true });
  }
  // Transfer learning: a new run starts from another run's G and D.
  const from = !loaded && settings.from ? { weights: await readWeights(await openCheckpoint(settings.from)), where: settings.from } : undefined;
  trainer ??= new PgganTrainer(settings, undefined, from);
  if (from) log.info(`starting from the weights of ${from.where}${settings.freezeD ? `, the critic's ${settings.freezeD} highest resolution${settings.freezeD > 1 ? 's' : ''} frozen` : ''}`);
  const threads = threadCount(o.threads ?? 1, tf.getBackend());
  const replicas = threads > 1 ? await Replicas.start(threads, { backend: tf.getBackend(), settings, ...(loaded ? { resume: loaded } : {}), ...(from ? { from } : {}) }) : null;
  if (replicas) log.info(`training on ${threads} threads, each with a share of every minibatch`);
  if (trainer.gAverage) {
    const fresh = loaded !== null && !loaded.state.has(TRAINED_G_PREFIX + Object.keys(trainer.g)[0]);
    log.info(`samples, metrics and the exported model draw the generator's moving average (half-life ${settings.emaKimg} kimg${fresh ? '; it starts here, from the trained weights' : ''})`);
  }
  const loop = new RunLoop(o, out, logFile, trainer, pack, replicas);
  try {
    return await loop.run();
  } finally {
    loop.trainer.dispose();
    await replicas?.close();
  }
}

/** How often the log reaches the disk between checkpoints. */
const LOG_FLUSH_MS = 10_000;

/** The loop's state: the trainer is replaced on a rollback, so everything reads it from here. */
class RunLoop {
  private readonly pending: string[] = [];
  private readonly stream: BatchStream;
  private readonly realDiv = new Map<number, number>();
  private readonly secondsPerImage = new Map<number, number>();
  private readonly guardZ: Float32Array;
  private readonly gridZ: Float32Array;
  private readonly qualityZ: Float32Array;
  /** The real images' MS-SSIM diversity per resolution (it never changes). */
  private readonly realMsssim = new Map<number, number | null>();
  /** The last quality measurement, for the progress bar. */
  private lastQuality: QualityReport | null = null;
  private bar: cliProgress.SingleBar | null = null;
  private last: PgganStepLosses | null = null;
  /** The last step's penalty that ran: logistic-R1's is lazy, so most steps have none. */
  private lastPenalty: number | null = null;
  private lastRatio: number | null = null;
  private readonly micro: MicroBatchPlanner;

  constructor(
    private readonly o: PgganRunOptions,
    private readonly out: string,
    private readonly logFile: string,
    public trainer: PgganTrainer,
    pack: PackedDataset,
    private readonly replicas: Replicas | null = null,
  ) {
    const s = trainer.settings;
    this.micro = new MicroBatchPlanner(o.microBatch ?? 'auto', s.mbstdGroup);
    this.stream = new BatchStream(pack, { seed: s.seed, mirror: s.mirror, invert: s.invert, grayscale: s.grayscale });
    this.guardZ = guardLatents(s.seed, s.guard.samples, s.arch.latentSize);
    this.gridZ = gridLatents(s.seed, s.arch.latentSize);
    this.qualityZ = qualityLatents(s.seed, s.arch.latentSize);
  }

  private get settings(): PgganSettings {
    return this.trainer.settings;
  }

  private readonly generate: Generate = (latents, n, phase) => this.trainer.generate(latents, n, phase);

  async run(): Promise<PgganRunSummary> {
    const started = performance.now();
    const startImages = this.trainer.run.imagesShown;
    let steps = 0;
    let prefetch: { key: string; data: Promise<Float32Array> } | null = null;
    const read = (req: { resolution: number; batch: number; dataPos: number }) => {
      const key = `${req.resolution}/${req.batch}/${req.dataPos}`;
      if (prefetch?.key !== key) prefetch = { key, data: this.stream.read(req.resolution, req.batch, req.dataPos) };
      return prefetch.data;
    };
    this.startBar();
    const summary = (stoppedEarly: boolean, gaveUp: boolean): PgganRunSummary => {
      const t = this.trainer;
      const seconds = (performance.now() - started) / 1000;
      return {
        dir: this.out,
        step: t.step,
        kimg: t.clock / 1000,
        phase: t.phase(),
        stoppedEarly,
        gaveUp,
        rollbacks: t.run.rollbacks,
        imagesPerSecond: Math.max(0, t.run.imagesShown - startImages) / seconds,
      };
    };
    try {
      while (!this.trainer.done) {
        const t = this.trainer;
        const req = t.nextBatch();
        const real = await read(req);
        const stageBefore = t.point().stage;
        const alphaBefore = t.phase().alpha;
        const clockBefore = t.clock;
        const micro = await this.micro.microFor(req.resolution, req.batch, (n) => t.stepPeakBytes(real, n));
        const t0 = performance.now();
        const losses = this.replicas ? await this.replicas.step(t, real, micro) : await t.trainStep(real, micro);
        const ms = performance.now() - t0;
        steps++;
        this.last = losses;
        if (losses.gp !== 0 || this.trainer.settings.loss !== 'logistic-r1') this.lastPenalty = losses.gp;
        this.o.hooks?.afterStep?.(t);
        this.noteSpeed(req.resolution, ms / 1000 / req.batch);
        const point = t.point();
        // Start reading the next batch while this step's bookkeeping runs.
        if (!t.done) void read(t.nextBatch()).catch(() => undefined);
        this.pending.push(JSON.stringify({ step: t.step, kimg: round(t.clock / 1000, 3), res: req.resolution, alpha: round(alphaBefore, 4), ...roundLosses(losses), ms: Math.round(ms), ...(micro < req.batch ? { micro } : {}) }) + '\n');
        this.updateBar();
        // The log goes to disk every few seconds, not only with checkpoints: there is always a curve to look at
        // (a resume trims what came after its checkpoint).
        if (performance.now() - this.lastFlush > LOG_FLUSH_MS) await this.flushLog();
        // Yield to the event loop so Ctrl-C (and the prefetch) are seen between steps.
        await new Promise<void>((resolve) => setImmediate(resolve));

        const stop = this.o.signal?.aborted === true || (this.o.maxSteps !== undefined && steps >= this.o.maxSteps);
        if (this.settings.guard.enabled && t.step % this.settings.guard.everySteps === 0) {
          const outcome = await this.checkGuard();
          if (outcome === 'gave-up') return summary(true, true);
          // A rollback saved the restored state already.
          if (outcome === 'rolled-back') {
            if (stop) return summary(true, false);
            continue;
          }
        }
        const phaseEnded = point.stage.index !== stageBefore.index || this.trainer.done;
        const crossed = (kimg: number) => kimg > 0 && Math.floor(t.clock / (kimg * 1000)) !== Math.floor(clockBefore / (kimg * 1000));
        // A checkpoint by time as well: at 1 image/s, 100 kimg is a day, and a crash would lose all of it.
        const minutes = this.settings.checkpointEveryMinutes;
        const interval = crossed(this.settings.checkpointEveryKimg) || (minutes > 0 && performance.now() - this.lastSave > minutes * 60_000);
        if (phaseEnded || crossed(this.settings.metricsEveryKimg)) await this.measureQuality(stageBefore.resolution);
        if (phaseEnded) await this.endPhase(stageBefore);
        else if (interval) await this.save();
        if (stop && !this.trainer.done) {
          if (!phaseEnded && !interval) await this.save();
          this.bar?.stop();
          log.info(`stopped at step ${t.step} (${describePoint(t.point())}); checkpoint saved to ${this.out} (continue with --resume)`);
          return summary(true, false);
        }
      }
    } finally {
      this.bar?.stop();
    }
    const result = summary(false, false);
    await fs.appendFile(this.logFile, this.pending.splice(0).join('') + JSON.stringify({ event: 'done', step: result.step, kimg: result.kimg, rollbacks: result.rollbacks }) + '\n');
    await this.writeReport();
    return result;
  }

  /**
   * SWD and MS-SSIM diversity into the log, at `res` (the resolution just trained: at a phase change the schedule
   * has moved on to the next one's fade, whose samples are the last phase's enlarged).
   */
  private async measureQuality(res: number): Promise<void> {
    if (this.settings.metricsEveryKimg <= 0) return;
    const t = this.trainer;
    const phase = { resolution: res, alpha: 1 };
    const q = await measureQuality((z, n) => this.generate(z, n, phase), this.qualityZ, { pack: this.stream.pack, grayscale: this.settings.grayscale }, res, this.settings.seed, this.realMsssim);
    this.lastQuality = q;
    const r = (v: number | null) => (v === null ? null : round(v, 4));
    this.pending.push(JSON.stringify({ event: 'metrics', step: t.step, kimg: round(t.clock / 1000, 3), res, swd: q.swd.map((v) => round(v, 3)), swdMean: round(q.swdMean, 3), msssim: r(q.msssim), msssimReal: r(q.msssimReal) }) + '\n');
  }

  /** Measures diversity; on a sustained collapse rolls back (or gives up). */
  private async checkGuard(): Promise<'ok' | 'rolled-back' | 'gave-up'> {
    const t = this.trainer;
    const g = this.settings.guard;
    const phase = t.phase();
    const res = phase.resolution;
    let real = this.realDiv.get(res);
    if (real === undefined) {
      real = await realDiversity(this.stream.pack, res, g.samples, this.settings.seed);
      this.realDiv.set(res, real);
    }
    // The trained weights: a collapse shows there first, and the average would only lag behind it.
    const fake = await generatedDiversity((z, n) => this.trainer.generate(z, n, phase, 'trained'), this.guardZ, g.samples, res);
    const ratio = fake / real;
    this.lastRatio = ratio;
    const { verdict, state } = observe(g, t.run.guard, ratio, t.clock);
    t.run.guard = state;
    this.pending.push(JSON.stringify({ event: 'guard', step: t.step, kimg: round(t.clock / 1000, 3), res, ratio: round(ratio, 4), fake: round(fake, 5), real: round(real, 5), verdict }) + '\n');
    if (verdict !== 'collapse') return 'ok';
    return this.rollBack(ratio);
  }

  private async rollBack(ratio: number): Promise<'rolled-back' | 'gave-up'> {
    const detected = this.trainer;
    const g = this.settings.guard;
    const healthyDir = path.join(this.out, HEALTHY_DIR);
    const available = await exists(path.join(healthyDir, 'manifest.json'));
    const gaveUp = detected.run.rollbacks >= g.maxRollbacks;
    const rollbacks = detected.run.rollbacks + (gaveUp ? 0 : 1);
    if (available) {
      const older = await loadRun(healthyDir);
      // The settings and the schedule in force now (a resume's overrides, remedies so far), not those of the older
      // checkpoint, which may predate a --resume that changed them: its weights, its place, today's plan.
      const loaded = { ...older, run: { ...older.run, levels: structuredClone(detected.run.levels), lambdaGp: detected.run.lambdaGp } };
      const restored = new PgganTrainer(detected.settings, loaded);
      await this.replicas?.restore(detected.settings, loaded);
      detected.dispose();
      this.trainer = restored;
    }
    const t = this.trainer;
    t.run.rollbacks = rollbacks;
    const remedy = gaveUp ? null : t.applyRemedy(g.remedy);
    // Restored runs carry their healthy guard state; a remedy applied in place starts a new window.
    if (!available) t.run.guard = { streak: 0, lastRatio: null };
    const event: RollbackEvent = { detectedAt: detected.step, ratio, rolledBackTo: available ? t.step : null, remedy, gaveUp };
    this.pending.push(JSON.stringify({ event: 'collapse', step: t.step, kimg: round(t.clock / 1000, 3), ...event, rollbacks, phase: t.phase() }) + '\n');
    this.bar?.stop();
    const where = available ? `rolled back to step ${t.step} (${describePoint(t.point())}), the last healthy checkpoint` : 'no healthy checkpoint to roll back to yet';
    if (gaveUp) {
      log.error(
        `mode collapse at step ${event.detectedAt}: sample diversity ${ratio.toFixed(2)}× the real data's (threshold ${g.threshold}) ` +
          `for ${g.window} checks, after ${rollbacks} rollback${rollbacks === 1 ? '' : 's'} already; stopping. ${where}.`,
      );
    } else {
      const r = remedy!;
      const changes = [`lr ${fmt(r.lr[0])} → ${fmt(r.lr[1])}`, `λ_gp ${fmt(r.lambdaGp[0])} → ${fmt(r.lambdaGp[1])}`];
      if (r.transitionKimg) changes.push(`fade-in ${fmt(r.transitionKimg[0])} → ${fmt(r.transitionKimg[1])} kimg`);
      log.warn(
        `mode collapse at step ${event.detectedAt}: sample diversity ${ratio.toFixed(2)}× the real data's (threshold ${g.threshold}) for ` +
          `${g.window} checks; ${where}; remedy ${rollbacks}/${g.maxRollbacks}: ${changes.join(', ')}`,
      );
    }
    // The restored weights are the healthy ones: keep the remedied run state as the rollback target too.
    await this.save({ forceHealthy: available });
    await this.o.hooks?.onRollback?.(event, t);
    if (gaveUp) return 'gave-up';
    this.startBar();
    return 'rolled-back';
  }

  /** End of a stage: checkpoint, and a grid and a video of the finished stage at its final phase. */
  private async endPhase(ended: Stage): Promise<void> {
    const t = this.trainer;
    const to = t.point();
    this.pending.push(JSON.stringify({ event: 'phase', step: t.step, kimg: round(t.clock / 1000, 3), ended: { res: ended.resolution, kind: ended.kind }, now: t.done ? 'done' : { res: to.resolution, kind: to.stage.kind } }) + '\n');
    await this.save();
    if (this.o.samples === false) return;
    const phase = { resolution: ended.resolution, alpha: 1 };
    const dir = path.join(this.out, 'samples');
    const stem = phaseStem(ended.resolution, ended.kind);
    await writeGrid(path.join(dir, `${stem}.png`), this.generate, this.gridZ, phase);
    if (this.o.video ?? true) await writeVideo(path.join(dir, `${stem}.mp4`), this.generate, this.settings.seed, this.settings.arch.latentSize, phase);
  }

  private lastFlush = performance.now();
  private lastSave = performance.now();

  private async flushLog(): Promise<void> {
    this.lastFlush = performance.now();
    if (this.pending.length > 0) await fs.appendFile(this.logFile, this.pending.splice(0).join(''));
  }

  /** Checkpoint (atomic), plus the healthy copy when the guard is healthy, plus the latest sample grid. */
  private async save(opts: { forceHealthy?: boolean } = {}): Promise<void> {
    const t = this.trainer;
    this.lastSave = performance.now();
    await this.flushLog();
    const p = t.point();
    const saved: SavedSettings = { settings: t.settings, run: t.run };
    const state = await t.state();
    const write = (dir: string) =>
      saveModelCheckpoint(dir, t.settings.arch, state, {
        name: path.basename(this.out),
        phase: { resolution: p.resolution, alpha: p.alpha },
        training: { step: t.step, imagesSeen: t.clock },
        dataset: { dir: this.stream.pack.dir, count: this.stream.pack.count, ...(this.stream.pack.createdAt ? { createdAt: this.stream.pack.createdAt } : {}) },
        settings: saved as unknown as Record<string, unknown>,
      });
    await write(this.out);
    if (opts.forceHealthy || isHealthy(t.settings.guard, t.run.guard)) await write(path.join(this.out, HEALTHY_DIR));
    if (this.o.samples !== false) await writeGrid(path.join(this.out, 'samples', 'latest.png'), this.generate, this.gridZ, t.phase());
    await this.writeReport();
  }

  /** The run's report.html, refreshed with each checkpoint; a report that cannot be written never stops training. */
  private async writeReport(): Promise<void> {
    try {
      await writeTrainingReport(this.out);
    } catch (e) {
      log.warn(`${path.join(this.out, REPORT_FILE)} was not written: ${messageOf(e)}`);
    }
  }

  /** Seconds per image at each resolution, smoothed, for the ETA. */
  private noteSpeed(res: number, secondsPerImage: number): void {
    const prev = this.secondsPerImage.get(res);
    this.secondsPerImage.set(res, prev === undefined ? secondsPerImage : 0.9 * prev + 0.1 * secondsPerImage);
  }

  private startBar(): void {
    if (!this.o.progress) return;
    this.bar = new cliProgress.SingleBar(
      {
        format: '{phase} |{bar}| {kimg}/{total} kimg | {wl} {w} {gpl} {gp} | div {div} | SWD {swd} | {ips} img/s | ETA {eta}',
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    const total = totalImages(this.trainer.run.levels) / 1000;
    this.bar.start(total, this.trainer.clock / 1000, this.payload());
  }

  private lastLine = 0;
  private updateBar(): void {
    if (!this.bar) {
      // Without a terminal (nohup, a log file) a line a minute says the same as the bar.
      const now = performance.now();
      if (now - this.lastLine < 60_000) return;
      this.lastLine = now;
      const p = this.payload();
      log.info(`${p['phase']} · ${p['kimg']}/${p['total']} kimg · ${p['wl']} ${p['w']} ${p['gpl']} ${p['gp']} · div ${p['div']} · SWD ${p['swd']} · ${p['ips']} img/s · ETA ${p['eta']}`);
      return;
    }
    this.bar.setTotal(totalImages(this.trainer.run.levels) / 1000);
    this.bar.update(this.trainer.clock / 1000, this.payload());
  }

  private payload(): Record<string, string> {
    const t = this.trainer;
    const res = t.point().resolution;
    const spi = this.secondsPerImage.get(res);
    const arch = t.settings.arch;
    const eta = etaSeconds(t.run.levels, t.clock, (r) => this.secondsPerImage.get(r) ?? null, (r) => pgganStepCost(r, (l) => widthAt(arch, l)));
    return {
      phase: describePoint(t.point()),
      kimg: (t.clock / 1000).toFixed(1),
      total: (totalImages(t.run.levels) / 1000).toFixed(totalImages(t.run.levels) < 10_000 ? 2 : 0),
      // logistic-R1's wdist is the gap between the critic's means on real and fake, not a Wasserstein estimate.
      wl: t.settings.loss === 'logistic-r1' ? 'gap' : 'W',
      w: this.last ? this.last.wdist.toFixed(2) : '-',
      gpl: t.settings.loss === 'logistic-r1' ? 'R1' : 'GP',
      gp: this.lastPenalty === null ? '-' : this.lastPenalty.toFixed(2),
      div: this.lastRatio === null ? '-' : this.lastRatio.toFixed(2),
      swd: this.lastQuality ? `${this.lastQuality.swdMean.toFixed(1)} @${this.lastQuality.res}²` : '-',
      ips: spi ? (1 / spi).toFixed(1) : '-',
      eta: eta === null ? '-' : formatDuration(eta),
    };
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function roundLosses(l: PgganStepLosses): Record<string, number> {
  return Object.fromEntries(Object.entries(l).map(([k, v]) => [k, round(v, 5)]));
}

function fmt(v: number): string {
  return Number(v.toPrecision(4)).toString();
}
