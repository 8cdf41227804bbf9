/** `rhodops dataset augment|pack`: options checked here, the work done by augment.ts and pack.ts. */
import { Command, Option } from 'commander';
import { intOption } from '../../core/options.ts';
import { progressMode } from './progress.ts';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../../core/runtime/ort.ts';
import { augment, describeSummary, SIZE_RANGE, SUMMARY_FILE } from './augment.ts';
import { pack } from './pack.ts';
import { DEFAULT_SCALES } from './tiles.ts';
import { DEFAULT_PATCH, PATCH_RANGE, UPSCALE_MODES, type UpscaleMode } from './upscale.ts';
import type { UpscaleEngine } from '../../core/upscale/esrgan.ts';
import { texturesCommand } from '../textures/write.ts';
import { describeStylize, runStylize } from '../stylize/run.ts';
import { METHODS, type Method } from '../stylize/pastiche.ts';
import { BACKEND_CHOICES, initBackend, threadCount } from '../../core/backend.ts';
import { RhodopsError } from '../../core/errors.ts';

interface AugmentCliOptions {
  upscale: UpscaleMode;
  ep: ExecutionProvider;
  scales: string;
  size: string;
  diagonal: boolean;
  turns: boolean;
  engine: UpscaleEngine;
  patch: string;
  margin: string;
  threads?: string;
  progress: boolean;
}

interface PackCliOptions {
  out: string;
  resolution?: string;
  resize: boolean;
  force: boolean;
  progress: boolean;
}

function augmentCommand(): Command {
  return new Command('augment')
    .description(
      'turn a folder of images into many training images: each doubled, cut into overlapping tiles at several scales, ' +
        'every tile turned 0/90/180/270° (interior tiles also 45/135/225°) and resized to --size; resumable',
    )
    .argument('<in_dir>', 'folder of source images (searched recursively)')
    .argument('<out_dir>', 'where the PNGs, augment.json and summary.json go (a re-run resumes)')
    .addOption(new Option('--upscale <how>', 'doubling before tiling: auto uses ESRGAN for sources whose tiles are enlarged to --size, lanczos where every tile is shrunk anyway').choices([...UPSCALE_MODES]).default('auto'))
    .option('--scales <list>', 'SIZE:N,… tiles of SIZE px (or SIZE × short side when ≤ 1), N across the short side', DEFAULT_SCALES)
    .option('--size <px>', 'side of the output images (the training resolution)', '256')
    .option('--no-diagonal', 'no 45/135/225° turns of interior tiles')
    .option('--no-turns', 'no turns at all: every tile upright (landscapes, faces: pictures with an up)')
    .addOption(new Option('--engine <name>', 'ESRGAN engine').choices(['ort', 'tfjs-wasm']).default('ort'))
    .addOption(new Option('--ep <provider>', "ESRGAN's ONNX Runtime execution provider (auto: the best hardware one here; `rhodops gpu` lists them)").choices([...EXECUTION_PROVIDERS]).default('auto'))
    .option('--patch <px>', 'ESRGAN patch size (memory grows with its square)', String(DEFAULT_PATCH.patch))
    .option('--margin <px>', 'ESRGAN context around each patch, dropped when stitching', String(DEFAULT_PATCH.margin))
    .option('--threads <n>', 'libvips threads for decoding and upscaling (default: all cores)')
    .option('--no-progress', 'no progress bar')
    .action(async (inDir: string, outDir: string, o: AugmentCliOptions) => {
      const r = await augment({
        input: inDir,
        output: outDir,
        upscale: o.upscale,
        scales: o.scales,
        size: intOption('--size', o.size, SIZE_RANGE.min, SIZE_RANGE.max),
        diagonal: o.diagonal,
        turns: o.turns,
        engine: o.engine,
        ep: o.ep,
        patch: { patch: intOption('--patch', o.patch, PATCH_RANGE.patch.min, PATCH_RANGE.patch.max), margin: intOption('--margin', o.margin, PATCH_RANGE.margin.min, PATCH_RANGE.margin.max) },
        ...(o.threads ? { threads: intOption('--threads', o.threads, 1, 256) } : {}),
        progress: progressMode(o.progress),
      });
      process.stdout.write(describeSummary(r, outDir) + `\n  details: ${outDir}/${SUMMARY_FILE}\n`);
    });
}

function packCommand(): Command {
  return new Command('pack')
    .description('pack prepared images into a multi-resolution raw dataset (4² up to the final size) that training streams without decoding')
    .argument('<dir>', 'folder of images, all RES × RES (what `dataset augment` wrote)')
    .requiredOption('--out <pack_dir>', 'the pack folder to write')
    .option('--resolution <px>', 'final resolution, a power of two (default: the first image\u2019s size)')
    .option('--resize', 'resize (centre crop) images of another size instead of refusing them', false)
    .option('--force', 'replace an existing pack at --out', false)
    .option('--no-progress', 'no progress bar')
    .action(async (dir: string, o: PackCliOptions) => {
      const r = await pack({
        input: dir,
        out: o.out,
        ...(o.resolution ? { resolution: intOption('--resolution', o.resolution, 4, 8192) } : {}),
        resize: o.resize,
        force: o.force,
        progress: progressMode(o.progress),
      });
      const gb = (r.bytes / 1e9).toFixed(r.bytes > 1e9 ? 1 : 3);
      process.stdout.write(
        `packed ${r.count.toLocaleString('en-US')} images at ${r.resolutions.join(', ')} px into ${r.out} (${gb} GB; ${r.seconds.toFixed(1)} s, ${r.imagesPerSecond.toFixed(0)} images/s)\n` +
          (r.skipped.length ? `  skipped ${r.skipped.length}: ${r.skipped.slice(0, 5).join('; ')}${r.skipped.length > 5 ? '; …' : ''}\n` : ''),
      );
    });
}

interface StylizeCliOptions {
  content?: string;
  size: string;
  seed: string;
  feedback?: string;
  darkLight?: string;
  roundRobin?: string;
  startSize: string;
  threads: string;
  backend: string;
  method: Method;
  features: string;
  progress: boolean;
}

function stylizeCommand(): Command {
  return new Command('stylize')
    .description(
      'style transfer in the seed\'s phases: collect (1–5 styles at a time until every style is used), feedback (pastiches restyled), ' +
        'dark/light (styles split by luminance) and round robin (three images styling each other); patch-based, no network; resumable',
    )
    .argument('<styles_dir>', 'folder of style images (searched recursively); also the content images unless --content is given')
    .argument('<out_dir>', 'where pastiches/ (what dataset augment takes next), manifest.json, stylize.json and sheet.png go (a rerun continues)')
    .option('--content <dir>', 'a separate folder of content images')
    .option('--size <px>', 'side of the square pastiches', '512')
    .option('--start-size <min,max>', 'the side each transfer starts at is drawn from this range (smaller: more style, less content)', '64,256')
    .option('--feedback <n>', 'pastiches restyled in the feedback phase (default: 3 × the styles)')
    .option('--dark-light <n>', 'pastiches of the dark/light phase, half dark, half light (default: 2 × the styles)')
    .option('--round-robin <n>', 'triples of the round-robin phase, three pastiches each (default: a third of the styles)')
    .option('--seed <n>', 'the plan and every pastiche follow from it', '1')
    .option('--threads <n|auto>', 'pastiches made at once, one per thread (auto: one per core on wasm and cpu, one on tfjs-node and GPUs)', 'auto')
    .option('--backend <name>', `tfjs backend: ${BACKEND_CHOICES}`, 'auto')
    .addOption(new Option('--method <name>', 'patches: texture synthesis from the styles\' patches (fast, copies motifs); gatys: optimisation on conv features (slow)').choices([...METHODS]).default('patches'))
    .option('--features <random|file.onnx>', 'with --method gatys: random multi-scale filters, or your own VGG19 ONNX file (the quality option)', 'random')
    .option('--no-progress', 'no progress bar')
    .action(async (stylesDir: string, outDir: string, o: StylizeCliOptions, cmd: Command) => {
      if (cmd.getOptionValueSource('features') === 'cli' && o.method !== 'gatys') {
        throw new RhodopsError('BAD_OPTION', '--features is for --method gatys.', { hint: 'add --method gatys, or drop --features' });
      }
      const count = (flag: string, v: string | undefined) => (v === undefined ? undefined : intOption(flag, v, 0, 100_000));
      const range = o.startSize.split(',').map((v) => Number(v.trim()));
      if (range.length !== 2 || !range.every((v) => Number.isInteger(v) && v >= 16 && v <= 1024) || range[0]! > range[1]!) {
        throw new RhodopsError('BAD_OPTION', `--start-size must be MIN,MAX in pixels (16 to 1024, MIN ≤ MAX), got '${o.startSize}'.`, { hint: 'e.g. --start-size 64,256' });
      }
      const counts = { feedback: count('--feedback', o.feedback), darkLight: count('--dark-light', o.darkLight), roundRobin: count('--round-robin', o.roundRobin) };
      const backend = await initBackend(o.backend);
      const r = await runStylize({
        styles: stylesDir,
        out: outDir,
        ...(o.content ? { content: o.content } : {}),
        size: intOption('--size', o.size, 32, 1024),
        seed: intOption('--seed', o.seed, 0, 2 ** 31),
        counts: Object.fromEntries(Object.entries(counts).filter(([, v]) => v !== undefined)),
        startSizes: [range[0]!, range[1]!],
        threads: threadCount(o.threads === 'auto' ? 'auto' : intOption('--threads', o.threads, 1, 256), backend.name),
        backend: backend.name,
        method: o.method,
        features: o.features,
        progress: progressMode(o.progress),
      });
      process.stdout.write(describeStylize(r) + '\n');
    });
}

/** `rhodops dataset`: wired into bin/cli.ts. */
export function datasetCommand(): Command {
  return new Command('dataset').description('build and pack training datasets').addCommand(texturesCommand()).addCommand(stylizeCommand()).addCommand(augmentCommand()).addCommand(packCommand());
}
