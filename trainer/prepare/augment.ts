/**
 * `rhodops dataset augment`: a folder of source images → many training images. Each source is doubled
 * (ESRGAN, lanczos3, or not at all), cut into overlapping tiles at several scales, every tile turned
 * 0/90/180/270° and the interior ones also 45/135/225°, each resized to the training size and saved as PNG.
 *
 * Deterministic (names and bytes depend only on the inputs and options), resumable (an output is written
 * under a temporary name and renamed, so one that exists is complete; a re-run makes only what is missing),
 * and bounded in memory (one source at a time). A source that cannot be read is reported and skipped.
 */
import type { ExecutionProvider } from '../../core/runtime/ort.ts';
import { claimOutput, removeStaleTemps } from './output-folder.ts';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { messageOf, RhodopsError } from '../../core/errors.ts';
import { checkRange, type RangeSpec } from '../../core/options.ts';
import { tempNameFor, writeFileAtomic } from '../../core/fsutil.ts';
import { logger } from '../../core/log.ts';
import type { UpscaleEngine } from '../../core/upscale/esrgan.ts';
import { mapBounded } from '../datasets/pool.ts';
import { MAX_SIZE, MIN_SIZE } from '../datasets/spec.ts';
import { progressBar, type ProgressMode } from './progress.ts';
import { renderTile } from './render.ts';
import { listImageFiles, stemsFor } from './sources.ts';
import { DEFAULT_SCALES, parseScales, planSource, type PlannedOutput, type SourcePlan, type Tile } from './tiles.ts';
import { autoUpscale, DEFAULT_PATCH, imageSize, openUpscaleStep, PATCH_RANGE, UPSCALE_MODES, type PatchOptions, type UpscaleMode, type UpscaleStep } from './upscale.ts';

const log = logger('augment');

export const OPTIONS_FILE = 'augment.json';
export const SUMMARY_FILE = 'summary.json';

export interface AugmentOptions {
  input: string;
  output: string;
  upscale: UpscaleMode;
  /** SIZE:N[,SIZE:N…] (tiles.ts). */
  scales?: string;
  /** Side of the output images (the training resolution). */
  size?: number;
  /** 45/135/225° turns of interior tiles (default true). */
  diagonal?: boolean;
  /** Turn tiles at all (false: upright only, for pictures with an up, such as landscapes). Default true. */
  turns?: boolean;
  engine?: UpscaleEngine;
  patch?: PatchOptions;
  /** libvips threads for decoding and upscaling a source (default: all cores). */
  threads?: number;
  /** ONNX Runtime's execution provider for ESRGAN (default: the CPU; the CLI's default is auto). */
  ep?: ExecutionProvider;
  progress?: ProgressMode | boolean;
}

export interface SourceSummary {
  source: string;
  /** What output names start with. */
  stem?: string;
  /** After upscaling. */
  width?: number;
  height?: number;
  tiles?: number;
  interior?: number;
  /** How it was doubled (with `--upscale auto`, the choice for this source). */
  upscale?: Exclude<UpscaleMode, 'auto'>;
  /** The source has transparency: flattened on black, and its flat margins left out. */
  transparent?: boolean;
  /** Outputs left out because their tile was one flat colour (transparent margins, blank areas). */
  flat?: number;
  /** Images this source has in the output folder now. */
  outputs: number;
  written: number;
  existing: number;
  notes?: string[];
  /** Why the source gave nothing (unreadable file, wrong format). */
  skipped?: string;
}

export interface AugmentSummary {
  format: 'rhodops-augment-summary';
  version: 1;
  options: AugmentRecord['options'];
  totals: { sources: number; augmented: number; skipped: number; ignoredFiles: number; outputs: number; written: number; existing: number };
  sources: SourceSummary[];
}

export interface AugmentResult extends AugmentSummary {
  seconds: number;
  /** Images written per second of the run (0 when everything already existed). */
  imagesPerSecond: number;
}

/** What an output folder's images were made with; a re-run with other options would mix two datasets. */
interface AugmentRecord {
  format: 'rhodops-augment';
  version: 1;
  options: { upscale: UpscaleMode; scales: string; size: number; diagonal: boolean; turns?: false; esrgan?: { engine: UpscaleEngine; patch: number; margin: number } };
}

/** --size: the training resolution, so the range the dataset loaders take. */
export const SIZE_RANGE: RangeSpec = { min: MIN_SIZE, max: MAX_SIZE, integer: true, unit: ' pixels' };
/**
 * Tiles in flight within a source, one libvips thread each: on 2 cores, 3 in flight × 1 thread made
 * 125–142 images/s, 1 × 2 threads 84–90, 3 × 2 threads 89–119 (small images leave threads waiting).
 */
const TILES_IN_FLIGHT = Math.min(8, os.availableParallelism() + 1);
const IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * A PNG that starts with the signature and ends with the IEND chunk: renames make a half-written output
 * impossible after a crash, this also catches one a power cut or a copy cut short.
 */
export async function isCompletePng(file: string): Promise<boolean> {
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(file, 'r');
    const { size } = await fh.stat();
    if (size < PNG_SIGNATURE.length + IEND.length) return false;
    const head = Buffer.alloc(8);
    const tail = Buffer.alloc(12);
    await fh.read(head, 0, 8, 0);
    await fh.read(tail, 0, 12, size - 12);
    return head.equals(PNG_SIGNATURE) && tail.equals(IEND);
  } catch {
    return false;
  } finally {
    await fh?.close();
  }
}

function checkOptions(o: AugmentOptions): AugmentRecord {
  const size = o.size ?? 256;
  checkRange('--size', size, SIZE_RANGE, { hint: 'use the training resolution, e.g. --size 256' });
  if (!UPSCALE_MODES.includes(o.upscale)) {
    throw new RhodopsError('BAD_OPTION', `--upscale must be one of ${UPSCALE_MODES.join(', ')}, got '${String(o.upscale)}'.`, { hint: 'esrgan is sharpest; lanczos is much faster' });
  }
  const scales = (o.scales ?? DEFAULT_SCALES).split(',').map((s) => s.trim()).join(',');
  parseScales(scales);
  const patch = o.patch ?? DEFAULT_PATCH;
  checkRange('--patch', patch.patch, PATCH_RANGE.patch, { hint: `the ESRGAN patch size; the default is ${DEFAULT_PATCH.patch}` });
  checkRange('--margin', patch.margin, PATCH_RANGE.margin, { hint: `the ESRGAN context around each patch; the default is ${DEFAULT_PATCH.margin}` });
  return {
    format: 'rhodops-augment',
    version: 1,
    options: {
      upscale: o.upscale,
      scales,
      size,
      diagonal: o.diagonal !== false && o.turns !== false,
      // Recorded only when off, so folders made before the option resume as they were.
      ...(o.turns === false ? { turns: false } : {}),
      ...(o.upscale === 'esrgan' || o.upscale === 'auto' ? { esrgan: { engine: o.engine ?? 'ort', patch: patch.patch, margin: patch.margin } } : {}),
    },
  };
}


interface Planned {
  rel: string;
  abs: string;
  stem: string;
  size: { width: number; height: number; alpha?: boolean } | null;
  plan: SourcePlan | null;
  missing: PlannedOutput[];
  summary: SourceSummary;
}

async function withSharpConcurrency<R>(threads: number, fn: () => Promise<R>): Promise<R> {
  const previous = sharp.concurrency();
  sharp.concurrency(threads);
  try {
    return await fn();
  } finally {
    sharp.concurrency(previous);
  }
}

export async function augment(o: AugmentOptions): Promise<AugmentResult> {
  const started = performance.now();
  const record = checkOptions(o);
  const { size, diagonal } = record.options;
  const turns = record.options.turns !== false;
  const scales = parseScales(record.options.scales);
  const input = path.resolve(o.input);
  const output = path.resolve(o.output);
  if (input === output) throw new RhodopsError('BAD_OPTION', `the output folder is the input folder (${input}).`, { hint: 'augment into a new folder, e.g. IN_DIR-augmented' });
  const { files, ignored } = await listImageFiles(input, [output]);
  if (files.length === 0) {
    throw new RhodopsError('DATASET_INVALID', `${input} holds no image files (${ignored} other files).`, { hint: 'point augment at a folder of .jpg, .png, .webp, .tif or .avif images' });
  }
  await fs.mkdir(output, { recursive: true });
  await claimOutput(output, OPTIONS_FILE, record, 'augment');
  await removeStaleTemps(output);

  // Plan every source from its header first: the bar's total, and sources already done are not decoded.
  const factor = o.upscale === 'none' ? 1 : 2;
  const present = new Set(await fs.readdir(output));
  const stems = stemsFor(files.map((f) => f.rel));
  const sources: Planned[] = [];
  for (const [i, f] of files.entries()) {
    const stem = stems[i]!;
    const summary: SourceSummary = { source: f.rel, outputs: 0, written: 0, existing: 0 };
    const p: Planned = { rel: f.rel, abs: f.abs, stem, size: null, plan: null, missing: [], summary };
    sources.push(p);
    try {
      if (f.unreadable) throw new Error(f.unreadable);
      p.size = await imageSize(f.abs);
    } catch (e) {
      skip(p, messageOf(e));
      continue;
    }
    if (p.size.alpha) summary.transparent = true;
    p.plan = planSource(stem, p.size.width * factor, p.size.height * factor, { scales, diagonal, turns });
    Object.assign(summary, {
      stem,
      width: p.plan.width,
      height: p.plan.height,
      tiles: p.plan.tiles.length,
      interior: p.plan.tiles.filter((t) => !t.edge).length,
      ...(p.plan.notes.length ? { notes: p.plan.notes } : {}),
    });
    for (const out of p.plan.outputs) {
      if (present.has(out.name) && (await isCompletePng(path.join(output, out.name)))) summary.existing++;
      else p.missing.push(out);
    }
    if (p.plan.outputs.length === 0) log.warn(`${f.rel} (${p.plan.width}×${p.plan.height} after upscaling) is smaller than every scale: nothing to cut`);
  }

  const bar = progressBar(o.progress ?? false, sources.reduce((n, s) => n + s.missing.length, 0), 'augment');
  // One loader per mode in use (`auto` may use both), opened when first needed.
  const steps = new Map<string, UpscaleStep>();
  const stepFor = async (mode: Exclude<UpscaleMode, 'auto'>) => {
    let step = steps.get(mode);
    if (!step) {
      step = await openUpscaleStep(mode, { ...(o.engine ? { engine: o.engine } : {}), ...(o.patch ? { patch: o.patch } : {}), ...(o.ep ? { ort: { executionProvider: o.ep } } : {}) });
      steps.set(mode, step);
    }
    return step;
  };
  let written = 0;
  try {
    for (const s of sources) {
      if (!s.plan || s.missing.length === 0) continue;
      const mode = o.upscale === 'auto' ? autoUpscale(Math.min(...s.plan.tiles.map((t) => t.size)) / factor, size) : o.upscale;
      s.summary.upscale = mode;
      const loader = await stepFor(mode);
      bar.advance(0, s.rel);
      let img;
      try {
        const onPatch = (done: number, total: number) => bar.advance(0, `${s.rel}: ESRGAN patch ${done}/${total}`);
        img = await withSharpConcurrency(o.threads ?? os.availableParallelism(), () => loader.load(s.abs, s.size!, onPatch));
        if (img.width !== s.plan.width || img.height !== s.plan.height) {
          throw new Error(`decoded to ${img.width}×${img.height}, its header says ${s.plan.width / factor}×${s.plan.height / factor} (changed while augmenting?)`);
        }
      } catch (e) {
        bar.drop(s.missing.length);
        skip(s, messageOf(e).split('\n')[0]!);
        continue;
      }
      const byTile = new Map<Tile, PlannedOutput[]>();
      for (const out of s.missing) byTile.set(out.tile, [...(byTile.get(out.tile) ?? []), out]);
      const image = img;
      await withSharpConcurrency(1, () =>
        mapBounded([...byTile], TILES_IN_FLIGHT, async ([tile, outs]) => {
          const pngs = await renderTile(image, tile, outs.map((x) => x.rotation), size);
          if (pngs === null) {
            s.summary.flat = (s.summary.flat ?? 0) + outs.length;
          } else {
            for (const [k, out] of outs.entries()) await writeOutput(path.join(output, out.name), pngs[k]!);
            s.summary.written += outs.length;
            written += outs.length;
          }
          bar.advance(outs.length, s.rel);
        }),
      );
    }
  } finally {
    bar.stop();
    for (const step of steps.values()) await step.dispose();
  }

  for (const s of sources) if (s.plan && !s.summary.skipped) s.summary.outputs = s.summary.existing + s.summary.written;
  const transparent = sources.filter((s) => s.summary.transparent).length;
  const flat = sources.reduce((n, s) => n + (s.summary.flat ?? 0), 0);
  if (transparent > 0) log.warn(`${transparent} source${transparent > 1 ? 's have' : ' has'} transparency: flattened on black (see summary.json)`);
  if (flat > 0) log.info(`${flat} outputs left out: their tiles were one flat colour (transparent margins, blank areas)`);
  const summary: AugmentSummary = {
    format: 'rhodops-augment-summary',
    version: 1,
    options: record.options,
    totals: {
      sources: sources.length,
      augmented: sources.filter((s) => !s.summary.skipped).length,
      skipped: sources.filter((s) => s.summary.skipped).length,
      ignoredFiles: ignored,
      outputs: sources.reduce((n, s) => n + s.summary.outputs, 0),
      written,
      existing: sources.reduce((n, s) => n + s.summary.existing, 0),
    },
    sources: sources.map((s) => s.summary),
  };
  await writeFileAtomic(path.join(output, SUMMARY_FILE), JSON.stringify(summary, null, 2) + '\n');
  const seconds = (performance.now() - started) / 1000;
  return { ...summary, seconds, imagesPerSecond: written / seconds };
}

function skip(p: Planned, reason: string): void {
  p.summary.skipped = reason;
  p.summary.existing = 0;
  p.missing = [];
  log.warn(`skipped ${p.abs}: ${reason}`);
}

/** Temporary name, then rename: an output that exists is whole. No fsync per image (thousands): isCompletePng catches the rest. */
async function writeOutput(file: string, png: Uint8Array): Promise<void> {
  const tmp = tempNameFor(file);
  try {
    await fs.writeFile(tmp, png);
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw new RhodopsError('OUTPUT_UNWRITABLE', `cannot write ${file}: ${messageOf(e)}`, { hint: 'check free disk space and permissions on the output folder', cause: e });
  }
}

/** Lines for a terminal: totals, then per source (all of them when few, else the spread and the skipped ones). */
export function describeSummary(r: AugmentResult, output: string): string {
  const t = r.totals;
  const fmt = (n: number) => n.toLocaleString('en-US');
  const lines = [
    `augmented ${fmt(t.augmented)} of ${fmt(t.sources)} source images → ${fmt(t.outputs)} images of ${r.options.size}² in ${output} ` +
      `(${fmt(t.written)} made now, ${fmt(t.existing)} already there; ${r.seconds.toFixed(1)} s${t.written ? `, ${r.imagesPerSecond.toFixed(1)} images/s` : ''})`,
  ];
  const done = r.sources.filter((s) => !s.skipped);
  if (done.length && done.length <= 20) {
    for (const s of done) lines.push(`  ${s.source}: ${s.outputs} images (${s.tiles} tiles, ${s.interior} interior)${s.notes ? ` — ${s.notes.join('; ')}` : ''}`);
  } else if (done.length) {
    const counts = done.map((s) => s.outputs).sort((a, b) => a - b);
    lines.push(`  per source: ${counts[0]} to ${counts[counts.length - 1]} images, median ${counts[counts.length >> 1]} (each source's count in ${SUMMARY_FILE})`);
  }
  for (const s of r.sources.filter((x) => x.skipped)) lines.push(`  skipped ${s.source}: ${s.skipped}`);
  if (t.ignoredFiles) lines.push(`  ${fmt(t.ignoredFiles)} files that are not images were ignored`);
  return lines.join('\n');
}
