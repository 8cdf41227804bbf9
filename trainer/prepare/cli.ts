/** `rhodops dataset augment|pack`: options checked here, the work done by augment.ts and pack.ts. */
import { Command, Option } from 'commander';
import { intOption } from '../../core/options.ts';
import { augment, describeSummary, SIZE_RANGE, SUMMARY_FILE } from './augment.ts';
import { pack } from './pack.ts';
import { DEFAULT_SCALES } from './tiles.ts';
import { DEFAULT_PATCH, PATCH_RANGE, UPSCALE_MODES, type UpscaleMode } from './upscale.ts';
import type { UpscaleEngine } from '../../core/upscale/esrgan.ts';
import { texturesCommand } from '../textures/write.ts';

interface AugmentCliOptions {
  upscale: UpscaleMode;
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
        patch: { patch: intOption('--patch', o.patch, PATCH_RANGE.patch.min, PATCH_RANGE.patch.max), margin: intOption('--margin', o.margin, PATCH_RANGE.margin.min, PATCH_RANGE.margin.max) },
        ...(o.threads ? { threads: intOption('--threads', o.threads, 1, 256) } : {}),
        progress: o.progress && process.stderr.isTTY,
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
        progress: o.progress && process.stderr.isTTY,
      });
      const gb = (r.bytes / 1e9).toFixed(r.bytes > 1e9 ? 1 : 3);
      process.stdout.write(
        `packed ${r.count.toLocaleString('en-US')} images at ${r.resolutions.join(', ')} px into ${r.out} (${gb} GB; ${r.seconds.toFixed(1)} s, ${r.imagesPerSecond.toFixed(0)} images/s)\n` +
          (r.skipped.length ? `  skipped ${r.skipped.length}: ${r.skipped.slice(0, 5).join('; ')}${r.skipped.length > 5 ? '; …' : ''}\n` : ''),
      );
    });
}

/** `rhodops dataset`: wired into bin/cli.ts. */
export function datasetCommand(): Command {
  return new Command('dataset').description('build and pack training datasets').addCommand(texturesCommand()).addCommand(augmentCommand()).addCommand(packCommand());
}
