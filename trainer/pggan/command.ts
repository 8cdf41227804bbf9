/** `rhodops train pggan`: options checked and turned into the run's settings here; the work is done by run.ts. */
import path from 'node:path';
import { ZodError } from 'zod';
import { Command, Option } from 'commander';
import { BACKEND_CHOICES, initBackend } from '../../core/backend.ts';
import { RhodopsError } from '../../core/errors.ts';
import { describeZodError } from '../../core/checkpoint/manifest.ts';
import { resolutionsUpTo } from '../../core/models/pggan.ts';
import { PGGAN_WIDTH_PRESETS, pgganArch, type PgganWidthPreset } from '../../core/models/architectures.ts';
import type { PgganArch } from '../../core/models/arch.ts';
import { loadRun, runPggan, type ResumeOverrides } from './run.ts';
import { pointAt } from './schedule.ts';
import { openInBrowser, REPORT_FILE, writeTrainingReport } from '../report/report.ts';
import { exists } from '../../core/fsutil.ts';
import { GUARD_DEFAULTS, PGGAN_DEFAULTS, PGGAN_LOSSES, paperBatch, pgganSettingsWith, type PgganLoss, parsePerResolution, parseRemedy, type GuardSettings, type PgganSettings } from './settings.ts';
import type { MicroBatchSetting } from './micro-batch.ts';
import { AUGMENTS, type Augment } from './diff-augment.ts';
import { openPackDir } from './data.ts';

interface PgganCliOptions {
  data?: string;
  resolution?: string;
  widths: string;
  latent?: string;
  batch?: string;
  microBatch: string;
  threads: string;
  report: boolean;
  from?: string;
  freezeD: string;
  grayscale: boolean;
  lr: string;
  stabiliseKimg: string;
  transitionKimg: string;
  finalKimg?: string;
  gp?: string;
  loss: string;
  r1Every: string;
  augment: string;
  drift: string;
  mirror: boolean;
  invert: boolean;
  seed: string;
  out?: string;
  resume: boolean;
  backend: string;
  checkpointEveryKimg: string;
  metricsEveryKimg: string;
  emaKimg: string;
  checkpointEveryMinutes: string;
  guard: boolean;
  guardEvery: string;
  guardThreshold: string;
  guardWindow: string;
  guardWarmupKimg: string;
  onCollapse: string;
  maxRollbacks: string;
  samples: boolean;
  video: boolean;
}

type StopOnInterrupt = () => { signal: AbortSignal; release: () => void };

function bad(option: string, problem: string, hint: string): RhodopsError {
  return new RhodopsError('BAD_OPTION', `${option}: ${problem}.`, { hint });
}

function num(option: string, text: string, check: (v: number) => boolean, valid: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || !check(v)) throw bad(option, `'${text}' is not ${valid}`, `Pass ${valid}.`);
  return v;
}

function perRes(option: string, text: string, resolutions: number[], fallback: (r: number) => number): Map<number, number> {
  try {
    return parsePerResolution(text, resolutions, fallback);
  } catch (e) {
    throw bad(option, (e as Error).message, `Pass one value for every resolution (e.g. 16) or RES:VALUE pairs (e.g. 4:32,${resolutions.at(-1)}:8).`);
  }
}

function archFrom(o: PgganCliOptions, res: number): PgganArch {
  const latent = o.latent === undefined ? undefined : num('--latent', o.latent, (v) => Number.isInteger(v) && v > 0, 'a positive integer');
  if ((PGGAN_WIDTH_PRESETS as readonly string[]).includes(o.widths)) {
    return pgganArch(o.widths as PgganWidthPreset, res, { channels: 3, ...(latent ? { latentSize: latent } : {}) });
  }
  const widths = o.widths.split(',').map((w) => num('--widths', w, (v) => Number.isInteger(v) && v > 0, 'a preset name or positive integers'));
  const levels = resolutionsUpTo(res).length;
  if (widths.length !== levels) {
    throw bad('--widths', `${widths.length} widths for ${levels} resolutions (4² … ${res}²)`, `Give one width per resolution, or a preset: ${PGGAN_WIDTH_PRESETS.join(', ')}.`);
  }
  return { kind: 'pggan', latentSize: latent ?? widths[0]!, channels: 3, maxResolution: res, widths };
}

const emaKimgFrom = (o: PgganCliOptions) => num('--ema-kimg', o.emaKimg, (v) => v >= 0, 'a number of kimg ≥ 0');

function guardFrom(o: PgganCliOptions): GuardSettings {
  let remedy;
  try {
    remedy = parseRemedy(o.onCollapse);
  } catch (e) {
    throw bad('--on-collapse', (e as Error).message.split('\n')[0]!, 'Use lr:X (0 < X ≤ 1), gp:X (> 0) and fade:X (≥ 1), comma-separated, e.g. lr:0.5,gp:2,fade:1.5.');
  }
  return {
    enabled: o.guard,
    everySteps: num('--guard-every', o.guardEvery, (v) => Number.isInteger(v) && v > 0, 'a positive number of steps'),
    threshold: num('--guard-threshold', o.guardThreshold, (v) => v > 0 && v <= 1, 'a fraction in (0, 1]'),
    window: num('--guard-window', o.guardWindow, (v) => Number.isInteger(v) && v > 0, 'a positive number of checks'),
    warmupKimg: num('--guard-warmup-kimg', o.guardWarmupKimg, (v) => v >= 0, 'a number of kimg ≥ 0'),
    samples: GUARD_DEFAULTS.samples,
    remedy,
    maxRollbacks: num('--max-rollbacks', o.maxRollbacks, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0'),
  };
}

function settingsFrom(o: PgganCliOptions): PgganSettings {
  if (!o.data) throw bad('--data', 'missing', 'Pass the packed dataset directory (`rhodops dataset pack … --out DIR`).');
  if (!o.resolution) throw bad('--resolution', 'missing', 'Pass the final resolution, a power of two from 4 to 1024 (e.g. 256).');
  const res = num('--resolution', o.resolution, (v) => Number.isInteger(v) && v >= 4 && v <= 1024 && (v & (v - 1)) === 0, 'a power of two from 4 to 1024');
  const resolutions = resolutionsUpTo(res);
  const batch = perRes('--batch', o.batch ?? '', resolutions, paperBatch);
  const lr = perRes('--lr', o.lr, resolutions, () => PGGAN_DEFAULTS.lr);
  const stabilise = perRes('--stabilise-kimg', o.stabiliseKimg, resolutions, () => PGGAN_DEFAULTS.stabiliseKimg);
  const transition = perRes('--transition-kimg', o.transitionKimg, resolutions, () => PGGAN_DEFAULTS.transitionKimg);
  if (o.finalKimg !== undefined) stabilise.set(res, num('--final-kimg', o.finalKimg, (v) => v >= 0, 'a number of kimg ≥ 0'));
  const own = {
    arch: archFrom(o, res),
    data: path.resolve(o.data),
    seed: num('--seed', o.seed, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0'),
    levels: resolutions.map((r) => ({ resolution: r, batch: batch.get(r)!, lr: lr.get(r)!, stabiliseKimg: stabilise.get(r)!, transitionKimg: r === 4 ? 0 : transition.get(r)! })),
    loss: lossFrom(o.loss),
    // Without --gp, the loss's own penalty weight (pgganSettingsWith's).
    ...(o.gp === undefined ? {} : { lambdaGp: num('--gp', o.gp, (v) => v >= 0, 'a weight ≥ 0') }),
    r1Every: num('--r1-every', o.r1Every, (v) => Number.isInteger(v) && v >= 1, 'a whole number of steps ≥ 1'),
    drift: num('--drift', o.drift, (v) => v >= 0, 'a weight ≥ 0'),
    mirror: o.mirror,
    invert: o.invert,
    grayscale: o.grayscale,
    freezeD: num('--freeze-d', o.freezeD, (v) => Number.isInteger(v) && v >= 0, 'a whole number of resolutions ≥ 0'),
    checkpointEveryKimg: num('--checkpoint-every-kimg', o.checkpointEveryKimg, (v) => v >= 0, 'a number of kimg ≥ 0'),
    metricsEveryKimg: num('--metrics-every-kimg', o.metricsEveryKimg, (v) => v >= 0, 'a number of kimg ≥ 0'),
    emaKimg: emaKimgFrom(o),
    checkpointEveryMinutes: num('--checkpoint-every-minutes', o.checkpointEveryMinutes, (v) => v >= 0, 'a number of minutes ≥ 0'),
    guard: guardFrom(o),
  };
  try {
    return pgganSettingsWith(own);
  } catch (e) {
    if (e instanceof ZodError) throw new RhodopsError('BAD_OPTION', `invalid training options: ${describeZodError(e)}.`, { hint: 'See `rhodops train pggan --help`.' });
    throw e;
  }
}

/**
 * With --from: the source run's widths and latent (up to --resolution), and a schedule that begins at the
 * resolution the source reached (the stages below it take no images), with a fresh Adam on the new data.
 */
async function transferFrom(o: PgganCliOptions, given: (name: string) => boolean, s: PgganSettings): Promise<PgganSettings> {
  if (!o.from) {
    if (s.freezeD > 0) throw bad('--freeze-d', 'needs --from (it freezes a pretrained critic)', 'Add --from CHECKPOINT, or drop --freeze-d.');
    return s;
  }
  const source = await loadRun(path.resolve(o.from));
  const res = s.arch.maxResolution;
  if (res > source.settings.arch.maxResolution) {
    throw bad('--resolution', `${res} is beyond the ${source.settings.arch.maxResolution}² that ${o.from} was built for`, `Pass --resolution ${source.settings.arch.maxResolution} or lower.`);
  }
  if (given('widths') || given('latent')) throw bad(given('widths') ? '--widths' : '--latent', 'comes from --from (the weights fix it)', 'Drop it.');
  const phase = pointAt(source.run.levels, source.clock);
  // A fade in progress had not finished its new block: start from the resolution before it.
  const start = Math.min(res, phase.alpha < 1 ? phase.resolution / 2 : phase.resolution);
  const arch = { ...source.settings.arch, maxResolution: res, widths: source.settings.arch.widths.slice(0, resolutionsUpTo(res).length) };
  const levels = s.levels.map((l) => (l.resolution < start ? { ...l, stabiliseKimg: 0, transitionKimg: 0 } : l.resolution === start ? { ...l, transitionKimg: 0 } : l));
  return { ...s, arch, levels, from: path.resolve(o.from) };
}

/** Below this many images a critic learns them by heart without augmentation (DiffAugment's few-shot range). */
const AUGMENT_BELOW = 5000;

/** `auto`: every augmentation for a pack of fewer than AUGMENT_BELOW images, none for a larger one. */
async function augmentFrom(text: string, data: string): Promise<Augment[]> {
  if (text === 'none') return [];
  if (text === 'auto') {
    const pack = await openPackDir(data);
    const count = pack.count;
    await pack.close();
    return count < AUGMENT_BELOW ? [...AUGMENTS] : [];
  }
  const parts = text.split(',').map((p) => p.trim());
  for (const p of parts) if (!(AUGMENTS as readonly string[]).includes(p)) throw bad('--augment', `'${p}' is not an augmentation rhodops knows`, `Use auto, none, or a list of ${AUGMENTS.join(', ')}.`);
  return [...new Set(parts)] as Augment[];
}

function lossFrom(text: string): PgganLoss {
  if (!(PGGAN_LOSSES as readonly string[]).includes(text)) throw bad('--loss', `'${text}' is not a loss rhodops knows`, `Use ${PGGAN_LOSSES.join(' or ')}.`);
  return text as PgganLoss;
}

function microBatchFrom(text: string): MicroBatchSetting {
  if (text === 'auto') return 'auto';
  return num('--micro-batch', text, (v) => Number.isInteger(v) && v >= 1, 'auto, or a whole number of images ≥ 1 (whole minibatch-stddev groups where it holds one)');
}

/** The options that make a run what it is: on --resume each must be left out or equal the run's own. */
const FIXED_ON_RESUME = ['data', 'resolution', 'widths', 'latent', 'gp', 'loss', 'r1Every', 'augment', 'drift', 'mirror', 'invert', 'grayscale', 'from', 'freezeD', 'seed'] as const;

/** Whether option `name` as given equals the run's setting. */
async function sameAsRun(name: (typeof FIXED_ON_RESUME)[number], o: PgganCliOptions, s: PgganSettings): Promise<boolean> {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  switch (name) {
    case 'data':
      return path.resolve(o.data!) === s.data;
    case 'resolution':
      return Number(o.resolution) === s.arch.maxResolution;
    case 'widths':
    case 'latent':
      return same(archFrom(o, s.arch.maxResolution), s.arch);
    case 'gp':
      return Number(o.gp) === s.lambdaGp;
    case 'loss':
      return o.loss === s.loss;
    case 'r1Every':
      return Number(o.r1Every) === s.r1Every;
    case 'augment':
      return same(await augmentFrom(o.augment, s.data), s.augment);
    case 'drift':
      return Number(o.drift) === s.drift;
    case 'mirror':
      return o.mirror === s.mirror;
    case 'invert':
      return o.invert === s.invert;
    case 'seed':
      return Number(o.seed) === s.seed;
    case 'grayscale':
      return o.grayscale === s.grayscale;
    case 'from':
      return path.resolve(o.from!) === s.from;
    case 'freezeD':
      return Number(o.freezeD) === s.freezeD;
  }
}

/** On --resume: options that would make another run are refused by name, unless they equal the run's own. */
async function checkFixedOptions(o: PgganCliOptions, given: (name: string) => boolean, out: string): Promise<void> {
  const s = (await loadRun(path.resolve(out))).settings;
  for (const option of FIXED_ON_RESUME) {
    if (given(option) && !(await sameAsRun(option, o, s))) {
      throw bad(`--${option.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`, 'differs from the run\u2019s own and cannot change on --resume (the run continues with its own)', 'Drop it, or start a new run with another --out. On --resume you may change --lr, --batch (from the current resolution on), --micro-batch, --threads, --final-kimg, --stabilise-kimg and --transition-kimg (of stages not begun; RES:KIMG also stretches the stabilisation under way), --checkpoint-every-kimg, --checkpoint-every-minutes, --metrics-every-kimg, --ema-kimg and the guard options.');
    }
  }
}

/** On --resume, the options given on the command line that may change a run in progress. */
function overridesFrom(o: PgganCliOptions, given: (name: string) => boolean): ResumeOverrides {
  const out: ResumeOverrides = {};
  if (given('finalKimg')) out.finalKimg = num('--final-kimg', o.finalKimg!, (v) => v >= 0, 'a number of kimg ≥ 0');
  if (given('checkpointEveryKimg')) out.checkpointEveryKimg = num('--checkpoint-every-kimg', o.checkpointEveryKimg, (v) => v >= 0, 'a number of kimg ≥ 0');
  if (given('checkpointEveryMinutes')) out.checkpointEveryMinutes = num('--checkpoint-every-minutes', o.checkpointEveryMinutes, (v) => v >= 0, 'a number of minutes ≥ 0');
  if (given('emaKimg')) out.emaKimg = emaKimgFrom(o);
  if (given('metricsEveryKimg')) out.metricsEveryKimg = num('--metrics-every-kimg', o.metricsEveryKimg, (v) => v >= 0, 'a number of kimg ≥ 0');
  if (given('lr')) out.lr = num('--lr', o.lr, (v) => v > 0, 'one positive rate (on --resume it applies from the current resolution on)');
  if (given('stabiliseKimg')) out.stabiliseKimg = o.stabiliseKimg;
  if (given('transitionKimg')) out.transitionKimg = o.transitionKimg;
  if (given('batch')) out.batch = o.batch!;
  const guard = guardFrom(o);
  const keys: [string, keyof GuardSettings][] = [
    ['guard', 'enabled'],
    ['guardEvery', 'everySteps'],
    ['guardThreshold', 'threshold'],
    ['guardWindow', 'window'],
    ['guardWarmupKimg', 'warmupKimg'],
    ['onCollapse', 'remedy'],
    ['maxRollbacks', 'maxRollbacks'],
  ];
  const g: Partial<GuardSettings> = {};
  for (const [option, key] of keys) if (given(option)) Object.assign(g, { [key]: guard[key] });
  if (Object.keys(g).length > 0) out.guard = g;
  return out;
}

export function pgganCommand(stopOnInterrupt: StopOnInterrupt): Command {
  const d = PGGAN_DEFAULTS;
  const g = GUARD_DEFAULTS;
  return new Command('pggan')
    .description('train a progressively grown GAN (Karras et al. 2018) on a packed dataset, from 4² up to --resolution')
    .option('--data <dir>', 'packed dataset (`rhodops dataset pack … --out DIR`)')
    .option('--resolution <px>', 'final resolution: 8, 16, …, 1024')
    .option('--widths <preset|c,…>', `feature maps per resolution from 4² up: ${PGGAN_WIDTH_PRESETS.join(' | ')} or a list`, 'mid')
    .option('--latent <n>', 'latent size (default: the 4² width)')
    .option('--batch <n|res:n,…>', 'minibatch, one for all or per resolution (default: the paper\u2019s 16 up to 128², 14, 6, 3)')
    .option('--threads <n|auto>', 'threads that share each minibatch, each with a copy of the model (auto: one per core on the wasm and cpu backends)', 'auto')
    .option('--micro-batch <n|auto>', 'images per pass of a step, gradients summed over the passes: auto fits a step in the 4 GB wasm heap (the result is the same minibatch\u2019s)', 'auto')
    .option('--lr <rate|res:rate,…>', 'Adam learning rate, one or per resolution', String(d.lr))
    .option('--stabilise-kimg <k|res:k,…>', 'thousands of images per stabilisation (on --resume, RES:KIMG may also stretch the one under way)', String(d.stabiliseKimg))
    .option('--transition-kimg <k|res:k,…>', 'thousands of images per fade-in', String(d.transitionKimg))
    .option('--final-kimg <k>', 'thousands of images at the final resolution (default: --stabilise-kimg)')
    .option('--loss <name>', 'wgan-gp (the paper\u2019s) or logistic-r1 (StyleGAN2\u2019s non-saturating loss with a lazy R1 penalty: the penalty every --r1-every steps)', 'wgan-gp')
    .option('--gp <weight>', `WGAN-GP\u2019s λ (default ${d.lambdaGp}), or R1\u2019s γ at 64² and minibatch 16, scaled by res² ÷ minibatch (default ${d.r1Gamma})`)
    .option('--augment <auto|none|list>', `differentiable augmentation of what the critic sees, real and generated alike: ${AUGMENTS.join(', ')}; auto: all of them for fewer than ${AUGMENT_BELOW} images`, 'auto')
    .option('--r1-every <k>', 'with logistic-r1: the R1 penalty every k steps (times k)', String(d.r1Every))
    .option('--drift <ε>', 'drift penalty on the critic\u2019s real scores', String(d.drift))
    .option('--mirror', 'flip each image left–right with probability ½', false)
    .option('--invert', 'invert each image\u2019s colours with probability ½', false)
    .option('--grayscale', 'train on grey versions of the images (the seed\u2019s black-and-white transfer run)', false)
    .option('--from <checkpoint>', 'transfer learning: start from another PGGAN run\u2019s G and D (its widths and latent), at the resolution it had reached, on this --data')
    .option('--freeze-d <n>', 'with --from: the critic\u2019s blocks at the n highest resolutions (the image side) do not learn (FreezeD)', '0')
    .option('--seed <n>', 'random seed (weights, noise, data order)', '1')
    .option('--out <dir>', 'checkpoint directory (default checkpoints/pggan-<data>-<resolution>)')
    .option('--resume', 'continue the run in --out exactly where it stopped', false)
    .option('--backend <name>', `tfjs backend: ${BACKEND_CHOICES}`, 'auto')
    .option('--checkpoint-every-kimg <k>', 'also save every k kimg (always at each phase change)', String(d.checkpointEveryKimg))
    .option('--checkpoint-every-minutes <m>', 'also save every m minutes (0: by kimg only)', String(d.checkpointEveryMinutes))
    .option('--ema-kimg <k>', 'half-life of the generator\u2019s moving average, which draws the samples, the metrics and the exported model (Karras et al.\u2019s Gs; 0: the trained weights)', String(d.emaKimg))
    .option('--metrics-every-kimg <k>', 'measure SWD and MS-SSIM diversity into log.jsonl every k kimg (0: never; also at each phase change)', String(d.metricsEveryKimg))
    .option('--no-guard', 'do not watch for mode collapse')
    .option('--guard-every <steps>', 'measure sample diversity every N steps', String(g.everySteps))
    .option('--guard-threshold <f>', 'collapse: diversity below f × the real data\u2019s…', String(g.threshold))
    .option('--guard-window <n>', '…for n measurements in a row', String(g.window))
    .option('--guard-warmup-kimg <k>', 'no verdicts in the first k kimg', String(g.warmupKimg))
    .addOption(new Option('--on-collapse <remedy>', 'after rolling back: lr:X (× learning rate), gp:X (× λ), fade:X (× fade-in length)').default('lr:0.5'))
    .option('--max-rollbacks <n>', 'then stop at the last healthy checkpoint', String(g.maxRollbacks))
    .option('--report', 'write the report of the run in --out (report.html: curves, samples, settings), open it in the browser, and exit', false)
    .option('--no-samples', 'no sample grids or videos')
    .option('--no-video', 'no interpolation video per phase')
    .action(async (o: PgganCliOptions, cmd: Command) => {
      const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
      if (o.report) {
        if (!o.out) throw bad('--out', 'missing', 'Pass the run\u2019s folder to see its report: --out DIR --report.');
        const dir = path.resolve(o.out);
        if (!(await exists(path.join(dir, 'manifest.json'))) && !(await exists(path.join(dir, 'log.jsonl')))) {
          throw new RhodopsError('CHECKPOINT_NOT_FOUND', `${dir} holds no training run (no manifest.json, no log.jsonl).`, { hint: 'Pass the --out of a run that has started.' });
        }
        const file = await writeTrainingReport(dir);
        process.stdout.write(`${file}\n`);
        if (!(await openInBrowser(file))) process.stderr.write(`(no browser could be opened here; open ${file} yourself)\n`);
        return;
      }
      if (o.resume && !o.out) throw bad('--out', 'missing', 'Pass the checkpoint directory of the run to resume.');
      // A resumed run continues with the checkpoint's settings, changed only by the options that may change.
      if (o.resume) await checkFixedOptions(o, given, o.out!);
      const overrides = o.resume ? overridesFrom(o, given) : undefined;
      const settings = o.resume ? undefined : await transferFrom(o, given, { ...settingsFrom(o), augment: await augmentFrom(o.augment, path.resolve(o.data!)) });
      const out = o.out ?? `checkpoints/pggan-${path.basename(path.resolve(o.data!))}-${o.resolution}`;
      await initBackend(o.backend);
      process.stderr.write(`report: ${path.resolve(out, REPORT_FILE)} (refreshed at each checkpoint; \`rhodops train pggan --out ${out} --report\` opens it)\n`);
      const stop = stopOnInterrupt();
      try {
        const r = await runPggan({
          ...(settings ? { settings } : {}),
          out,
          resume: o.resume,
          ...(overrides ? { overrides } : {}),
          microBatch: microBatchFrom(o.microBatch),
          threads: o.threads === 'auto' ? 'auto' : num('--threads', o.threads, (v) => Number.isInteger(v) && v >= 1 && v <= 64, 'auto, or a whole number of threads from 1 to 64'),
          signal: stop.signal,
          progress: process.stderr.isTTY === true,
          samples: o.samples,
          video: o.video,
        });
        if (r.gaveUp) {
          throw new RhodopsError('TRAINING_COLLAPSED', `training collapsed again after ${r.rollbacks} rollback${r.rollbacks === 1 ? '' : 's'}; stopped at the last healthy checkpoint (step ${r.step}, ${r.kimg.toFixed(1)} kimg) in ${r.dir}.`, {
          hint: `Resume with a stronger remedy or more rollbacks, e.g. \`rhodops train pggan --resume --out ${out} --on-collapse lr:0.25,fade:2 --max-rollbacks ${r.rollbacks + 3}\`, or a lower --lr.`,
          });
        }
        const where = r.phase.alpha < 1 ? `${r.phase.resolution}² α ${r.phase.alpha.toFixed(2)}` : `${r.phase.resolution}²`;
        process.stdout.write(
          `${r.stoppedEarly ? 'stopped' : 'done'}: step ${r.step}, ${r.kimg.toFixed(1)} kimg, ${where}${r.rollbacks ? `, ${r.rollbacks} rollback(s)` : ''}, ` +
            `${r.imagesPerSecond.toFixed(1)} img/s; checkpoint ${r.dir}; report ${path.join(r.dir, REPORT_FILE)}\n`,
        );
      } finally {
        stop.release();
      }
    });
}
