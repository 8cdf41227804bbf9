/**
 * `rhodops dataset stylize STYLES_DIR OUT_DIR`: the seed's style-transfer workflow (pastiches in OUT_DIR/pastiches). Plans the pastiches of every
 * phase from the seed (plan.ts), makes the missing ones on a thread per core (an earlier pastiche that a later
 * one uses is finished first), and keeps beside them a manifest of what made each image with the styles'
 * coverage, and a contact sheet. A rerun continues: finished images are kept, not made again, and a phase
 * asked for more pastiches gets them added.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { messageOf, RhodopsError } from '../../core/errors.ts';
import { writeFileAtomic } from '../../core/fsutil.ts';
import { logger } from '../../core/log.ts';
import { writePngGrid } from '../../core/images.ts';
import { firstMessage, startWorker, WorkerChannel, type ErrorMessage } from '../../core/runtime/worker.ts';
import { isCompletePng } from '../prepare/augment.ts';
import { claimOutput, removeStaleTemps } from '../prepare/output-folder.ts';
import { progressBar, type ProgressMode } from '../prepare/progress.ts';
import { listImageFiles } from '../prepare/sources.ts';
import { luminance, pngOf, readFloatImage } from './image.ts';
import { makePastiche, type Method, type PasticheTask } from './pastiche.ts';
import { defaultPlanOptions, PHASES, planJobs, styleUses, type Job, type PlanOptions, type Ref } from './plan.ts';
import type { StylizeOptions } from './transfer.ts';
import { onnxFeatureNet } from './features.ts';

const log = logger('stylize');

export const OPTIONS_FILE = 'stylize.json';
export const MANIFEST_FILE = 'manifest.json';
export const SHEET_FILE = 'sheet.png';
/** The pastiches have a folder of their own: what `dataset augment` takes, without the sheet beside them. */
export const PASTICHES_DIR = 'pastiches';
/** The inputs, decoded once and shrunk to the pastiches' size. */
export const INPUTS_DIR = '.inputs';

export type StylizeRequest = { id: number; kind: 'make'; task: PasticheTask } | { id: number; kind: 'close' };
export type StylizeReply = { id: number; kind: 'ready' } | { id: number; kind: 'done'; seconds: number } | ({ id: number; kind: 'error' } & ErrorMessage);

export interface StylizeRunOptions {
  styles: string;
  out: string;
  /** A separate folder of content images; by default the style images are the content, as in the seed. */
  content?: string;
  /** Side of the square pastiches. */
  size: number;
  seed: number;
  /** Phase sizes; unset ones follow the number of styles (plan.ts). */
  counts?: Partial<Pick<PlanOptions, 'feedback' | 'darkLight' | 'roundRobin'>>;
  startSizes?: [number, number];
  /** Threads making pastiches (1: this one, on the tfjs backend it has). */
  threads: number;
  /** The tfjs backend of the threads (the one this thread runs, normally). */
  backend?: string;
  progress: ProgressMode | boolean;
  /** Engine settings beyond its defaults (tests make them cheap); recorded with the options. */
  engine?: Partial<StylizeOptions>;
  /** 'patches' (the default) or 'gatys', with `features` 'random' or a VGG19 ONNX file. */
  method?: Method;
  features?: string;
}

export interface ManifestEntry {
  file: string;
  phase: string;
  content: string;
  styles: { image: string; weight: number }[];
  startSize: number;
}

export interface StylizeResult {
  out: string;
  planned: number;
  made: number;
  existing: number;
  /** Unreadable images, named with the reason, left out of the plan. */
  skipped: { file: string; reason: string }[];
  /** Per style image: pastiches that used it directly. */
  coverage: { image: string; uses: number }[];
  seconds: number;
  manifest: string;
  sheet: string;
}

interface Readable {
  rel: string;
  abs: string;
  luminance: number;
}

/**
 * The readable images of a folder with their mean luminance; unreadable ones named and skipped. Each is decoded
 * once, shrunk to the pastiches' size, into `cache` (4K wallpapers took longer to decode than to stylize), and the
 * jobs read that copy. A copy is named by the file's path, size and time, so an edited image is read again.
 */
async function readableImages(dir: string, exclude: string[], skipped: StylizeResult['skipped'], cache: string, size: number): Promise<Readable[]> {
  const { files } = await listImageFiles(dir, exclude);
  await fs.mkdir(cache, { recursive: true });
  const out: Readable[] = [];
  for (const f of files) {
    try {
      if (f.unreadable) throw new Error(f.unreadable);
      const st = await fs.stat(f.abs);
      const key = createHash('sha1').update(JSON.stringify([f.abs, st.size, st.mtimeMs, size])).digest('hex').slice(0, 16);
      const copy = path.join(cache, `${key}.png`);
      const cached = await isCompletePng(copy);
      const img = await readFloatImage(cached ? copy : f.abs, size);
      if (!cached) await writeFileAtomic(copy, await pngOf(img));
      const lum = luminance(img);
      out.push({ rel: f.rel, abs: copy, luminance: lum.reduce((a, b) => a + b, 0) / lum.length / 255 });
    } catch (e) {
      skipped.push({ file: path.join(dir, f.rel), reason: messageOf(e) });
      log.warn(`skipping ${path.join(dir, f.rel)}: ${messageOf(e)}`);
    }
  }
  return out;
}

/** Runs pastiches on `threads` threads (or this one), each job once every pastiche it uses is made. */
class Makers {
  private constructor(private readonly channels: WorkerChannel<StylizeRequest, StylizeReply>[]) {}

  static async start(threads: number, backend: string): Promise<Makers> {
    if (threads <= 1) return new Makers([]);
    const channels: WorkerChannel<StylizeRequest, StylizeReply>[] = [];
    try {
      for (let i = 0; i < threads; i++) {
        const w = startWorker(new URL('./worker-main.ts', import.meta.url), backend);
        const first = await firstMessage<StylizeReply>(w, `starting stylize thread ${i + 1}`);
        if (first.kind === 'error') throw new RhodopsError('BAD_OPTION', `a stylize thread could not start: ${first.message}`, { hint: 'try --threads 1' });
        channels.push(new WorkerChannel(w, `stylize thread ${i + 1}`));
      }
    } catch (e) {
      for (const c of channels) await c.worker.terminate();
      throw e;
    }
    return new Makers(channels);
  }

  get slots(): number {
    return Math.max(1, this.channels.length);
  }

  async make(slot: number, task: PasticheTask): Promise<number> {
    const c = this.channels[slot];
    if (!c) return makePastiche(task);
    const reply = await c.request({ kind: 'make', task });
    if (reply.kind !== 'done') throw new Error(`stylize thread: unexpected reply '${reply.kind}'`);
    return reply.seconds;
  }

  async close(): Promise<void> {
    await Promise.all(this.channels.map((c) => c.worker.terminate()));
  }
}

export async function runStylize(o: StylizeRunOptions): Promise<StylizeResult> {
  const started = performance.now();
  const stylesDir = path.resolve(o.styles);
  const out = path.resolve(o.out);
  const contentDir = o.content ? path.resolve(o.content) : null;
  if (out === stylesDir || out === contentDir) {
    throw new RhodopsError('BAD_OPTION', `the output folder is an input folder (${out}).`, { hint: 'stylize into a new folder, e.g. STYLES_DIR-stylized' });
  }
  const method = o.method ?? 'patches';
  const features = method === 'gatys' ? (o.features === undefined || o.features === 'random' ? 'random' : path.resolve(o.features)) : 'random';
  if (features !== 'random') (await onnxFeatureNet(features)).dispose(); // a file that will not do is refused before any work
  const skipped: StylizeResult['skipped'] = [];
  const cache = path.join(out, INPUTS_DIR);
  const styles = await readableImages(stylesDir, [out], skipped, cache, o.size);
  if (styles.length === 0) {
    throw new RhodopsError('DATASET_INVALID', `${stylesDir} holds no readable style image${skipped.length ? ` (${skipped.length} skipped: ${skipped[0]!.reason})` : ''}.`, {
      hint: 'point stylize at a folder of .jpg, .png or .webp pictures whose look you want',
    });
  }
  const contents = contentDir ? await readableImages(contentDir, [out], skipped, cache, o.size) : [];
  if (contentDir && contents.length === 0) throw new RhodopsError('DATASET_INVALID', `${contentDir} holds no readable content image.`, { hint: 'pass a folder of images, or leave --content out to use the styles' });

  const plan: PlanOptions = { ...defaultPlanOptions(styles.length, o.seed), ...o.counts, ...(o.startSizes ? { startSizes: o.startSizes } : {}) };
  if (plan.startSizes[0] > o.size) plan.startSizes = [o.size, o.size];
  plan.startSizes = [plan.startSizes[0], Math.min(plan.startSizes[1], o.size)];
  const images = path.join(out, PASTICHES_DIR);
  await fs.mkdir(images, { recursive: true });
  // The phases' sizes may change on a rerun (each phase only appends); what shapes every pastiche may not.
  const { feedback: _f, darkLight: _d, roundRobin: _r, ...shaping } = plan;
  await claimOutput(out, OPTIONS_FILE, {
    options: {
      size: o.size,
      ...shaping,
      styles: styles.map((s) => s.rel),
      content: contentDir ? contents.map((c) => c.rel) : null,
      engine: o.engine ?? {},
      // Recorded only when not the default, so folders made before the option resume as they were.
      ...(method !== 'patches' ? { method, features } : {}),
    },
  }, 'stylize');
  await removeStaleTemps(images);

  const jobs = planJobs({ styleLuminance: styles.map((s) => s.luminance), contentCount: contents.length }, plan);
  const fileOf = (id: string) => path.join(images, `${id}.png`);
  const done = new Set<string>();
  for (const j of jobs) if (await isCompletePng(fileOf(j.id))) done.add(j.id);
  const existing = done.size;
  const pathOf = (ref: Ref): string => (ref.kind === 'style' ? styles[ref.index]!.abs : ref.kind === 'content' ? contents[ref.index]!.abs : fileOf(ref.id));
  const nameOf = (ref: Ref): string => (ref.kind === 'style' ? styles[ref.index]!.rel : ref.kind === 'content' ? `content/${contents[ref.index]!.rel}` : `${PASTICHES_DIR}/${ref.id}.png`);
  const taskOf = (j: Job): PasticheTask => ({
    content: pathOf(j.content),
    styles: j.styles.map((s) => ({ file: pathOf(s.ref), weight: s.weight })),
    startSize: j.startSize,
    seed: j.seed,
    size: o.size,
    engine: o.engine ?? {},
    method,
    features,
    out: fileOf(j.id),
  });

  const pending = jobs.filter((j) => !done.has(j.id));
  const bar = progressBar(o.progress, pending.length, 'stylize');
  const makers = await Makers.start(Math.min(o.threads, pending.length), o.backend ?? tf.getBackend());
  let made = 0;
  try {
    const needs = (j: Job) => [j.content, ...j.styles.map((s) => s.ref)].filter((r): r is Extract<Ref, { kind: 'made' }> => r.kind === 'made').map((r) => r.id);
    const waiting = [...pending];
    const running = new Set<string>();
    let failure: unknown = null;
    const worker = async (slot: number): Promise<void> => {
      while (failure === null) {
        const i = waiting.findIndex((j) => needs(j).every((id) => done.has(id)));
        if (i < 0) {
          if (running.size === 0) return;
          await new Promise((r) => setTimeout(r, 50)); // a pastiche this one needs is being made on another thread
          continue;
        }
        const [job] = waiting.splice(i, 1);
        running.add(job!.id);
        try {
          await makers.make(slot, taskOf(job!));
          done.add(job!.id);
          made++;
          bar.advance(1, job!.id);
        } catch (e) {
          failure ??= e;
        } finally {
          running.delete(job!.id);
        }
      }
    };
    await Promise.all(Array.from({ length: makers.slots }, (_, s) => worker(s)));
    if (failure !== null) throw failure;
  } finally {
    bar.stop();
    await makers.close();
  }

  const finished = jobs.filter((j) => done.has(j.id));
  const manifest = path.join(out, MANIFEST_FILE);
  const uses = styleUses(finished, styles.length);
  const coverage = styles.map((s, i) => ({ image: s.rel, uses: uses[i]! }));
  const entries: ManifestEntry[] = finished.map((j) => ({
    file: `${PASTICHES_DIR}/${j.id}.png`,
    phase: j.phase,
    content: nameOf(j.content),
    styles: j.styles.map((s) => ({ image: nameOf(s.ref), weight: Math.round(s.weight * 1000) / 1000 })),
    startSize: j.startSize,
  }));
  const phases = Object.fromEntries(PHASES.map((p) => [p, finished.filter((j) => j.phase === p).length]));
  await writeFileAtomic(manifest, JSON.stringify({ format: 'rhodops-stylize-manifest', version: 1, size: o.size, phases, coverage, images: entries }, null, 2) + '\n');
  const sheet = path.join(out, SHEET_FILE);
  await writeSheet(sheet, finished.map((j) => fileOf(j.id)), finished.map((j) => j.id));
  return { out, planned: jobs.length, made, existing, skipped, coverage, seconds: (performance.now() - started) / 1000, manifest, sheet };
}

const SHEET_CELL = 128;
const SHEET_MAX = 80;

/** Up to 80 pastiches, evenly spread over the plan (every phase shows), 128 px each, captioned. */
async function writeSheet(file: string, images: string[], labels: string[]): Promise<void> {
  if (images.length === 0) return;
  const every = Math.max(1, images.length / SHEET_MAX);
  const picks = Array.from({ length: Math.min(SHEET_MAX, images.length) }, (_, i) => Math.floor(i * every));
  const data = new Uint8Array(picks.length * SHEET_CELL * SHEET_CELL * 3);
  for (const [k, i] of picks.entries()) {
    const px = await sharp(images[i]!).removeAlpha().resize(SHEET_CELL, SHEET_CELL, { fit: 'cover' }).raw().toBuffer();
    data.set(px, k * px.length);
  }
  await writePngGrid(file, { data, batch: picks.length, width: SHEET_CELL, height: SHEET_CELL }, Math.min(10, picks.length), { labels: picks.map((i) => labels[i]!) });
}

/** The summary `dataset stylize` prints. */
export function describeStylize(r: StylizeResult): string {
  const least = [...r.coverage].sort((a, b) => a.uses - b.uses)[0];
  return [
    `stylize: ${r.made} pastiches made, ${r.existing} kept from before, ${r.planned} planned, in ${r.out} (${r.seconds.toFixed(0)} s)`,
    `  every style used: ${r.coverage.every((c) => c.uses > 0) ? 'yes' : 'no'}${least ? ` (least: ${least.image}, ${least.uses}×)` : ''}`,
    ...(r.skipped.length ? [`  skipped ${r.skipped.length}: ${r.skipped.slice(0, 3).map((s) => `${s.file} (${s.reason})`).join('; ')}${r.skipped.length > 3 ? '; …' : ''}`] : []),
    `  manifest: ${r.manifest}`,
    `  contact sheet: ${r.sheet}`,
    `  next: npx rhodops dataset augment ${path.join(r.out, PASTICHES_DIR)} DIR --size 256`,
  ].join('\n');
}
