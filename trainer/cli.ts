/** `rhodops train infogan|pggan`. Options are validated into the run's settings schema at the boundary. */
import { Command, Option } from 'commander';
import path from 'node:path';
import { openCheckpoint } from '../core/checkpoint/io.ts';
import { BACKEND_CHOICES, initBackend } from '../core/backend.ts';
import { RhodopsError } from '../core/errors.ts';
import { describeZodError } from '../core/checkpoint/manifest.ts';
import { infoganArch } from '../core/models/architectures.ts';
import { defaultDiscArch } from '../core/models/infogan-disc.ts';
import { logger } from '../core/log.ts';
import { INFOGAN_DEFAULTS, infoganSettingsSchema, type InfoganSettings } from './infogan/settings.ts';
import { runInfogan } from './infogan/run.ts';
import { pgganCommand } from './pggan/command.ts';
import { codePurity, trainClassifier } from './infogan/evaluate.ts';
import { loadDataset } from './datasets/index.ts';
import { openGenerator } from '../core/runtime/open.ts';
import type { GeneratorInfo } from '../core/runtime/types.ts';
import { writeFileAtomic } from '../core/fsutil.ts';

const log = logger('train');

const ints = (v: string): number[] => v.split(',').map((s) => Number(s.trim()));

interface InfoganCliOptions {
  data: string;
  size: string;
  channels?: string;
  noise: string;
  cat: string;
  cont: string;
  epochs: string;
  batch: string;
  out?: string;
  resume: boolean;
  backend: string;
  seed: string;
  lrD: string;
  lrG: string;
  lambdaCat: string;
  lambdaCont: string;
  fc: string;
  widths?: string;
  checkpointEvery: string;
  cacheDir?: string;
  learnVariance: boolean;
  from?: string;
  freezeD: string;
}

/** The setting each InfoGAN option makes; on --resume a given option must equal the run's (`--epochs` sets a new total). */
const INFOGAN_FIXED: Record<string, (s: InfoganSettings) => unknown> = {
  data: (s) => s.data,
  size: (s) => s.arch,
  channels: (s) => s.arch,
  noise: (s) => s.arch,
  cat: (s) => s.arch,
  cont: (s) => s.arch,
  fc: (s) => s.arch,
  widths: (s) => s.arch,
  batch: (s) => s.batch,
  seed: (s) => s.seed,
  lrD: (s) => s.lrD,
  lrG: (s) => s.lrG,
  lambdaCat: (s) => s.lambdaCat,
  lambdaCont: (s) => s.lambdaCont,
  learnVariance: (s) => s.disc.learnVariance,
  from: (s) => s.from,
  freezeD: (s) => s.freezeD,
};

/** The same behaviour as `train pggan --resume`: an option given that differs from the run's is refused by name. */
async function checkInfoganResume(wanted: InfoganSettings, given: (name: string) => boolean, out: string): Promise<void> {
  const ckpt = await openCheckpoint(path.resolve(out));
  const parsed = infoganSettingsSchema.safeParse(ckpt.manifest.settings);
  if (!parsed.success) return; // runInfogan says what is wrong with the checkpoint
  for (const [option, of] of Object.entries(INFOGAN_FIXED)) {
    if (given(option) && JSON.stringify(of(wanted)) !== JSON.stringify(of(parsed.data))) {
      const flag = `--${option.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`;
      throw new RhodopsError('BAD_OPTION', `${flag} differs from the run's own (${JSON.stringify(of(parsed.data))}) and cannot change on --resume.`, {
        hint: 'Drop it, or start a new run with another --out. On --resume you may change --epochs (the new total), --checkpoint-every and --backend.',
      });
    }
  }
}

/** Options that --from decides: the weights fix the architecture. */
const ARCH_OPTIONS = ['size', 'channels', 'noise', 'cat', 'cont', 'fc', 'widths', 'learnVariance'];

/** The trained InfoGAN a --from run starts from: its settings (for the architecture), checked to be an InfoGAN's. */
async function transferSource(from: string, given: (name: string) => boolean): Promise<InfoganSettings> {
  const ckpt = await openCheckpoint(path.resolve(from));
  const parsed = infoganSettingsSchema.safeParse(ckpt.manifest.settings);
  if (!parsed.success) {
    throw new RhodopsError('BAD_OPTION', `--from ${from} is not an InfoGAN run (${ckpt.manifest.arch?.kind === 'pggan' ? 'it is a PGGAN' : describeZodError(parsed.error)}).`, {
      hint: 'Pass a folder made by `rhodops train infogan`; a PGGAN transfers with `rhodops train pggan --from`.',
    });
  }
  const fixed = ARCH_OPTIONS.find(given);
  if (fixed) {
    const flag = `--${fixed.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`;
    throw new RhodopsError('BAD_OPTION', `${flag} comes from --from (the weights fix the architecture).`, { hint: `Drop ${flag}; the images are converted to the source's ${parsed.data.arch.size}² with ${parsed.data.arch.channels} channel(s).` });
  }
  return parsed.data;
}

/** Ctrl-C once: finish the step, save, exit. Twice: exit at once. */
function stopOnInterrupt(): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    log.warn('stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, release: () => process.off('SIGINT', onSigint) };
}

function infoganCommand(): Command {
  return new Command('infogan')
    .description('train an InfoGAN: latent codes that control digit, width, brightness, shape, colour')
    .option('--data <source>', 'mnist | idx:PATH | svhn:PATH | folder:PATH', 'mnist')
    .addOption(new Option('--size <px>', 'image size').choices(['28', '32', '64']).default('28'))
    .addOption(new Option('--channels <n>', 'colour channels (default: 1 at 28, else 3)').choices(['1', '3']))
    .option('--noise <n>', 'noise dimensions', '62')
    .option('--cat <k,…>', 'categorical codes and their sizes, e.g. 10 or 10,4', '10')
    .option('--cont <n>', 'continuous codes', '2')
    .option('--epochs <n>', 'epochs (with --resume: the new total)', '20')
    .option('--batch <n>', 'batch size', '64')
    .option('--out <dir>', 'checkpoint directory (default checkpoints/infogan-<data>-<size>)')
    .option('--resume', 'continue the run in --out exactly where it stopped', false)
    .option('--backend <name>', `tfjs backend: ${BACKEND_CHOICES}`, 'auto')
    .option('--seed <n>', 'random seed (weights, batches, codes)', '1')
    .option('--lr-d <rate>', 'discriminator learning rate', String(INFOGAN_DEFAULTS.lrD))
    .option('--lr-g <rate>', 'generator learning rate', String(INFOGAN_DEFAULTS.lrG))
    .option('--lambda-cat <w>', 'mutual-information weight, categorical codes', String(INFOGAN_DEFAULTS.lambdaCat))
    .option('--lambda-cont <w>', 'mutual-information weight, continuous codes', String(INFOGAN_DEFAULTS.lambdaCont))
    .option('--fc <units>', "generator's first dense layer (0: none)", '1024')
    .option('--widths <c,…>', 'generator feature maps from the start grid up (default per size, e.g. 128,64 at 28)')
    .option('--learn-variance', 'Q also predicts a variance per continuous code (else σ = 1)', false)
    .option('--checkpoint-every <steps>', 'also save every N steps (0: each epoch only)', '0')
    .option('--cache-dir <dir>', 'where prepared datasets are cached')
    .option('--from <checkpoint>', "start a new run from a trained InfoGAN's G, D and Q (transfer learning; its architecture, fresh optimizers)")
    .option('--freeze-d <n>', "with --from: the critic's first N conv layers (the image side) keep their weights (FreezeD)", '0')
    .action(async (o: InfoganCliOptions, cmd: Command) => {
      const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
      const size = Number(o.size) as 28 | 32 | 64;
      const source = o.from && !o.resume ? await transferSource(o.from, given) : undefined;
      const arch = source?.arch ?? infoganArch(size, {
        ...(o.channels ? { channels: Number(o.channels) as 1 | 3 } : {}),
        noise: Number(o.noise),
        categorical: o.cat.trim() === '' || o.cat === '0' ? [] : ints(o.cat),
        continuous: Number(o.cont),
        fcUnits: Number(o.fc),
        ...(o.widths ? { widths: ints(o.widths) } : {}),
      });
      const disc = source?.disc ?? { ...defaultDiscArch(arch), learnVariance: o.learnVariance };
      const freezeD = Number(o.freezeD);
      if (freezeD > 0 && !o.from) {
        throw new RhodopsError('BAD_OPTION', '--freeze-d needs --from (it freezes a pretrained critic).', { hint: 'Add --from CHECKPOINT, or drop --freeze-d.' });
      }
      if (Number.isInteger(freezeD) && freezeD > disc.widths.length) {
        throw new RhodopsError('BAD_OPTION', `--freeze-d ${freezeD} is more than the critic's ${disc.widths.length} conv layers.`, { hint: `Pass --freeze-d ${disc.widths.length - 1} or less (the rest must learn).` });
      }
      const parsed = infoganSettingsSchema.safeParse({
        trainer: 'infogan',
        arch,
        disc,
        ...(o.from ? { from: path.resolve(o.from) } : {}),
        freezeD,
        batch: Number(o.batch),
        lrD: Number(o.lrD),
        lrG: Number(o.lrG),
        beta1: INFOGAN_DEFAULTS.beta1,
        beta2: INFOGAN_DEFAULTS.beta2,
        lambdaCat: Number(o.lambdaCat),
        lambdaCont: Number(o.lambdaCont),
        seed: Number(o.seed),
        epochs: Number(o.epochs),
        data: o.data,
      });
      if (!parsed.success) {
        throw new RhodopsError('BAD_OPTION', `invalid training options: ${describeZodError(parsed.error)}.`, { hint: 'See `rhodops train infogan --help`.' });
      }
      const out = o.out ?? `checkpoints/infogan-${o.data.split(':')[0]}-${arch.size}`;
      if (o.resume) await checkInfoganResume(parsed.data, given, out);
      await initBackend(o.backend);
      const stop = stopOnInterrupt();
      try {
        const result = await runInfogan({
          settings: parsed.data,
          out,
          resume: o.resume,
          checkpointEvery: Number(o.checkpointEvery),
          ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}),
          signal: stop.signal,
          progress: process.stderr.isTTY === true,
        });
        process.stdout.write(
          `${result.stoppedEarly ? 'stopped' : 'done'}: step ${result.step} (epoch ${result.epoch}), ${result.imagesPerSecond.toFixed(0)} img/s; checkpoint ${result.dir}\n`,
        );
      } finally {
        stop.release();
      }
    });
}

export function trainCommand(): Command {
  return new Command('train').description('train InfoGAN and PGGAN models').addCommand(infoganCommand()).addCommand(pgganCommand(stopOnInterrupt));
}

/** `rhodops eval CHECKPOINT`: purity and coverage of an InfoGAN's categorical codes against a classifier. */
/**
 * A classifier trained on `data` judges only an InfoGAN with a categorical code that was trained on `data`:
 * anything else gets a number that means nothing (a collapsed colour model once scored 99 % against MNIST).
 */
async function checkJudgeable(model: string, info: GeneratorInfo, data: string, code: number): Promise<void> {
  const refuse = (why: string, hint: string) => {
    throw new RhodopsError('BAD_OPTION', `rhodops eval cannot judge ${model}: ${why}.`, { hint });
  };
  if (info.kind !== 'infogan') refuse(`it is ${info.kind === 'pggan' ? 'a PGGAN' : 'an ONNX model of unknown training'}, with no categorical code to judge`, 'eval measures InfoGAN codes; watch a PGGAN\u2019s SWD and MS-SSIM in its log.jsonl or report instead.');
  const codes = info.latent.categorical.length;
  if (code >= codes) refuse(`it has ${codes} categorical code${codes === 1 ? '' : 's'}, so no code ${code}`, codes ? `Pass --code 0${codes > 1 ? `…${codes - 1}` : ''}.` : 'Train it with --cat to give it one.');
  if (data.startsWith('folder:')) refuse(`${data} has no labels to train a judging classifier on`, 'Pass a labelled dataset: mnist, idx:PATH or svhn:PATH.');
  const manifest = (await openCheckpoint(path.resolve(model))).manifest;
  const trained = (manifest.settings as { data?: unknown } | undefined)?.data;
  if (typeof trained === 'string' && trained !== data) refuse(`it was trained on ${trained}, and the judging classifier would learn ${data}`, `Pass --data ${trained} (a labelled dataset: mnist, idx:…, svhn:…).`);
}

export function evalCommand(): Command {
  return new Command('eval')
    .description("measure how well an InfoGAN's categorical codes pick classes (e.g. digits): purity and coverage")
    .argument('<model>', 'InfoGAN checkpoint directory')
    .option('--data <source>', 'labelled dataset to train the judging classifier on', 'mnist')
    .option('--per-value <n>', 'images generated per code value', '200')
    .option('--code <i>', 'which categorical code', '0')
    .option('--backend <name>', 'tfjs backend for the classifier', 'auto')
    .option('--json <file>', 'also write the report as JSON')
    .action(async (model: string, o: { data: string; perValue: string; code: string; backend: string; json?: string }) => {
      await initBackend(o.backend);
      const gen = await openGenerator(model);
      try {
        await checkJudgeable(model, gen.info, o.data, Number(o.code));
        const ds = await loadDataset(o.data, { size: gen.info.width, channels: gen.info.channels });
        log.info(`training the judging classifier on ${ds.source}…`);
        const classifier = await trainClassifier(ds);
        try {
          const report = await codePurity(gen, classifier, Number(o.code), Number(o.perValue));
          const lines = [
            `classifier: ${(classifier.heldOutAccuracy * 100).toFixed(1)}% on held-out ${ds.source}`,
            `code ${report.code} (${report.perValue} images per value):`,
            ...report.values.map((v) => `  value ${v.value}: class ${v.majority}  purity ${(v.purity * 100).toFixed(1)}%`),
            `mean purity ${(report.meanPurity * 100).toFixed(1)}%, ${report.coverage} distinct classes of ${classifier.classes}`,
          ];
          process.stdout.write(lines.join('\n') + '\n');
          if (o.json) await writeFileAtomic(o.json, JSON.stringify({ classifierAccuracy: classifier.heldOutAccuracy, ...report }, null, 2) + '\n');
        } finally {
          classifier.dispose();
        }
      } finally {
        await gen.dispose();
      }
    });
}
