/**
 * `rhodops train infogan`: streams a prepared dataset through InfoganTrainer, logs every step, saves a
 * checkpoint (manifest, tfjs state, generator.onnx) and sample sheets each epoch, stops cleanly when
 * asked (Ctrl-C), resumes exactly, and animates the sample sheets at the end.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { RhodopsError } from '../../core/errors.ts';
import { lockRun } from '../../core/run-lock.ts';
import { exists } from '../../core/fsutil.ts';
import { logger } from '../../core/log.ts';
import { openCheckpoint, readWeights } from '../../core/checkpoint/io.ts';
import { saveModelCheckpoint } from '../../core/checkpoint/from-model.ts';
import { describeZodError } from '../../core/checkpoint/manifest.ts';
import { openGenerator } from '../../core/runtime/open.ts';
import { trimLog } from '../log-file.ts';
import { batchAt, epochOrder, loadDataset, stepsPerEpoch, type ImageDataset } from '../datasets/index.ts';
import { InfoganTrainer, type StepLosses } from './trainer.ts';
import { infoganSettingsSchema, type InfoganSettings } from './settings.ts';
import { sampleSheets, writeSampleSheets } from './samples.ts';
import { animateSheets } from './animate.ts';
import { COLLAPSE_RATIO, diversityRatio } from './collapse.ts';

const log = logger('train');

export interface InfoganRunOptions {
  /** New runs: every setting. Resumed runs: taken from the checkpoint, except `epochs` when given. */
  settings: InfoganSettings;
  out: string;
  resume: boolean;
  /** Also save every this many steps (0: only at epoch ends). */
  checkpointEvery?: number;
  cacheDir?: string;
  /** Stops after the current step, saving a checkpoint first (Ctrl-C). */
  signal?: AbortSignal;
  /** Stop after this many steps in this invocation (tests). */
  maxSteps?: number;
  /** Draw a progress bar on stderr (on a terminal). */
  progress?: boolean;
  /** Write sample sheets and, at the end, their animation. */
  samples?: boolean;
}

export interface RunSummary {
  dir: string;
  step: number;
  epoch: number;
  stoppedEarly: boolean;
  imagesPerSecond: number;
}

async function resumeState(out: string, epochs: number | undefined) {
  const ckpt = await openCheckpoint(out);
  const parsed = infoganSettingsSchema.safeParse(ckpt.manifest.settings);
  if (!parsed.success) {
    throw new RhodopsError('MANIFEST_INVALID', `${out} was not written by the InfoGAN trainer: settings.${describeZodError(parsed.error)}.`, {
      hint: 'Resume a checkpoint made by `rhodops train infogan`, or start a new run with another --out.',
    });
  }
  const settings = { ...parsed.data, ...(epochs ? { epochs } : {}) };
  const step = ckpt.manifest.training?.step ?? 0;
  return { settings, step, state: await readWeights(ckpt), where: ckpt.dir };
}

export async function runInfogan(o: InfoganRunOptions): Promise<RunSummary> {
  const out = path.resolve(o.out);
  if (!o.resume && (await exists(path.join(out, 'manifest.json')))) {
    throw new RhodopsError('CHECKPOINT_EXISTS', `${out} already holds a checkpoint.`, { hint: 'Pass --resume to continue it, or choose another --out.' });
  }
  const release = await lockRun(out);
  try {
    return await trainLocked(o, out);
  } finally {
    await release();
  }
}

/** The run itself, once the folder is this process's alone. */
async function trainLocked(o: InfoganRunOptions, out: string): Promise<RunSummary> {
  const logFile = path.join(out, 'log.jsonl');
  let settings = o.settings;
  let trainer: InfoganTrainer;
  if (o.resume) {
    const r = await resumeState(out, o.settings.epochs);
    settings = r.settings;
    trainer = new InfoganTrainer(settings, { state: r.state, step: r.step, where: r.where });
    await trimLog(logFile, r.step);
    log.info(`resuming ${out} at step ${r.step}`);
  } else {
    await fs.mkdir(out, { recursive: true });
    const from = settings.from ? { weights: await readWeights(await openCheckpoint(settings.from)), where: settings.from } : undefined;
    trainer = new InfoganTrainer(settings, undefined, from);
    if (from) log.info(`starting from ${from.where}'s weights (fresh optimizers)`);
  }

  try {
    const { arch, batch } = settings;
    const ds = await loadDataset(settings.data, { size: arch.size, channels: arch.channels, ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}) });
    const perEpoch = stepsPerEpoch(ds, batch);
    if (perEpoch < 1) {
      throw new RhodopsError('BAD_OPTION', `--batch ${batch} is larger than the dataset (${ds.count} images).`, { hint: 'Use a smaller --batch.' });
    }
    log.info(`dataset: ${ds.source}; ${perEpoch} steps per epoch of batch ${batch}`);
    return await loop(o, out, logFile, settings, trainer, ds, perEpoch);
  } finally {
    trainer.dispose();
  }
}

async function loop(o: InfoganRunOptions, out: string, logFile: string, settings: InfoganSettings, trainer: InfoganTrainer, ds: ImageDataset, perEpoch: number): Promise<RunSummary> {
  const { batch, epochs, seed } = settings;
  const totalSteps = epochs * perEpoch;
  const sheets = sampleSheets(settings.arch, seed + 17);
  const pending: string[] = [];
  const startStep = trainer.step;
  const started = performance.now();
  let lastEpoch: StepLosses[] = [];

  const bar = o.progress
    ? new cliProgress.SingleBar(
        {
          format: 'epoch {epoch}/{epochs} |{bar}| step {value}/{total} | D {d} G {g} MI {mi} | {ips} img/s | ETA {eta_formatted}',
          stream: process.stderr,
          hideCursor: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(totalSteps, trainer.step, { epoch: Math.min(epochs, Math.floor(trainer.step / perEpoch) + 1), epochs, d: '-', g: '-', mi: '-', ips: '-' });

  const save = async (epochDone: number | null) => {
    await fs.appendFile(logFile, pending.splice(0).join(''));
    await trainer.recalibrateBatchNorm();
    // The full state (G, D, Q, optimizers) is saved for resuming; the exporter picks G's weights out of it.
    await saveModelCheckpoint(out, settings.arch, await trainer.state(), {
      name: path.basename(out),
      training: { step: trainer.step, imagesSeen: trainer.step * batch },
      dataset: { spec: settings.data, source: ds.source, count: ds.count },
      settings,
    });
    if (o.samples === false) return;
    const gen = await openGenerator(out);
    try {
      await fs.mkdir(path.join(out, 'samples'), { recursive: true });
      await writeSampleSheets(gen, sheets, path.join(out, 'samples'), '');
      if (epochDone === null) return;
      await writeSampleSheets(gen, sheets, path.join(out, 'samples'), `-e${String(epochDone).padStart(4, '0')}`);
      const ratio = await diversityRatio(gen, ds, seed + 31);
      await fs.appendFile(logFile, JSON.stringify({ event: 'diversity', step: trainer.step, epoch: epochDone, ratio: Math.round(ratio * 1e4) / 1e4 }) + '\n');
      if (ratio < COLLAPSE_RATIO) {
        log.warn(
          `epoch ${epochDone}: the samples are ${ratio.toFixed(2)}× as varied as the data (below ${COLLAPSE_RATIO}): the generator looks collapsed. ` +
            `Look at ${path.join(out, 'samples')}; lower --lr-g, or start again with another --seed.`,
        );
      }
    } finally {
      await gen.dispose();
    }
  };

  let stoppedEarly = false;
  try {
    for (let epoch = Math.floor(trainer.step / perEpoch); epoch < epochs; epoch++) {
      const order = epochOrder(ds.count, seed, epoch);
      const epochStart = performance.now();
      const firstStep = trainer.step;
      lastEpoch = [];
      for (let i = trainer.step % perEpoch; i < perEpoch; i++) {
        const t0 = performance.now();
        const losses = await trainer.trainStep(batchAt(ds, order, i * batch, batch).images);
        const ms = performance.now() - t0;
        lastEpoch.push(losses);
        pending.push(JSON.stringify({ step: trainer.step, epoch, ...round(losses), ms: Math.round(ms) }) + '\n');
        bar?.update(trainer.step, {
          epoch: epoch + 1,
          d: losses.d.toFixed(2),
          g: losses.g.toFixed(2),
          mi: losses.mi.toFixed(2),
          ips: ((batch * (trainer.step - startStep)) / ((performance.now() - started) / 1000)).toFixed(0),
        });
        // Yield to the event loop so Ctrl-C (and anything else waiting) is seen between steps.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const stopNow = o.signal?.aborted || (o.maxSteps !== undefined && trainer.step - startStep >= o.maxSteps);
        if (stopNow) {
          stoppedEarly = true;
          bar?.stop();
          await save(null);
          log.info(`stopped at step ${trainer.step}; checkpoint saved to ${out} (continue with --resume)`);
          return summary(out, trainer.step, perEpoch, true, batch * (trainer.step - startStep), started);
        }
        if (o.checkpointEvery && trainer.step % o.checkpointEvery === 0 && i < perEpoch - 1) await save(null);
      }
      await save(epoch + 1);
      const secs = (performance.now() - epochStart) / 1000;
      const mean = (k: keyof StepLosses) => lastEpoch.reduce((s, l) => s + l[k], 0) / lastEpoch.length;
      const line =
        `epoch ${epoch + 1}/${epochs}  D ${mean('d').toFixed(3)}  G ${mean('g').toFixed(3)}  MI ${mean('mi').toFixed(3)} ` +
        `(cat ${mean('miCat').toFixed(3)}, cont ${mean('miCont').toFixed(3)})  D(x) ${mean('realProb').toFixed(2)}  ` +
        `D(G(z)) ${mean('fakeProb').toFixed(2)}  ${((batch * (trainer.step - firstStep)) / secs).toFixed(0)} img/s  ${secs.toFixed(0)} s`;
      bar?.stop();
      process.stdout.write(line + '\n');
      if (epoch + 1 < epochs) bar?.start(totalSteps, trainer.step, { epoch: epoch + 2, epochs, d: '-', g: '-', mi: '-', ips: '-' });
    }
  } finally {
    bar?.stop();
  }
  const result = summary(out, trainer.step, perEpoch, stoppedEarly, batch * (trainer.step - startStep), started);
  await fs.appendFile(logFile, JSON.stringify({ summary: { ...result, dir: undefined, seconds: Math.round((performance.now() - started) / 1000) } }) + '\n');
  if (o.samples !== false) await animateSheets(path.join(out, 'samples'), sheets.map((s) => s.name));
  return result;
}

function round(l: StepLosses): Record<string, number> {
  return Object.fromEntries(Object.entries(l).map(([k, v]) => [k, Math.round(v * 1e5) / 1e5]));
}

function summary(dir: string, step: number, perEpoch: number, stoppedEarly: boolean, images: number, started: number): RunSummary {
  return { dir, step, epoch: Math.floor(step / perEpoch), stoppedEarly, imagesPerSecond: images / ((performance.now() - started) / 1000) };
}
