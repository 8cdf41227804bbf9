/**
 * How much a model's picture moves per unit of latent: along each direction, and per radian of drift. Models
 * differ by an order of magnitude (a 62-value InfoGAN noise against a 512-value PGGAN one, a smooth generator
 * against a busy one), so the same mapping would make one model flicker and leave another still. The gains
 * this measures make one unit of direction amount change the picture by DIRECTION_CHANGE on average, and a
 * drift speed of 1 move it by DRIFT_CHANGE a second, on any model. Measured on SAMPLES seeded latents when a model
 * opens (a few hundred frames), rounded so that the same model gives the same gains live and offline, and cached.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LatentSpec } from '../core/checkpoint/manifest.ts';
import { writeFileAtomic } from '../core/fsutil.ts';
import { driftAt, nudge, oneHot, randomState, toVector, type LatentState } from '../core/latent/index.ts';
import type { RgbBatch } from '../core/runtime/types.ts';
import { liveGainsSchema, type LiveGains } from './live-state.ts';

/** Mean absolute pixel change (0..255) that one unit along a direction should make. */
export const DIRECTION_CHANGE = 10;
/** Mean absolute pixel change (0..255) that a second of drift at speed 1 should make. */
export const DRIFT_CHANGE = 40;
/**
 * A model's response differs by 100× from one latent to another (a flat field barely moves where a busy one
 * flickers): on the bundled PGGAN (at 64²) four latents' mean ranged from a fifth of the model's to all of it,
 * and sixteen stayed within a fifth of it.
 */
const SAMPLES = 16;
/** Latents rendered at once: bounds the memory a large model's calibration takes. */
const CHUNK = 4;
/** The drift is measured over this many seconds, from each latent. */
const DRIFT_PROBE_S = 0.25;
const GAIN_RANGE = [0.05, 50] as const;

export interface CalibrationSource {
  latent: LatentSpec;
  /** Identifies the model's weights (a content or file stamp): the cache key. */
  id: string;
  generate(latents: Float32Array, batch: number): Promise<RgbBatch>;
}

/** Mean absolute difference, in 0..255 levels, between image `a` and image `b` of two batches. */
function meanAbsDiff(x: RgbBatch, a: number, y: RgbBatch, b: number): number {
  const n = x.width * x.height * 3;
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.abs(x.data[a * n + i]! - y.data[b * n + i]!);
  return s / n;
}

/** Two significant digits within the allowed range: the same measurement to float noise gives the same gain. */
function gainFor(target: number, measured: number): number {
  const g = Math.min(GAIN_RANGE[1], Math.max(GAIN_RANGE[0], target / Math.max(measured, 1e-6)));
  return Number(g.toPrecision(2));
}

async function render(src: CalibrationSource, states: LatentState[]): Promise<RgbBatch[]> {
  const spec = src.latent;
  const chunks: RgbBatch[] = [];
  for (let first = 0; first < states.length; first += CHUNK) {
    const part = states.slice(first, first + CHUNK);
    const latents = new Float32Array(part.length * spec.size);
    part.forEach((s, i) => toVector(spec, s, latents.subarray(i * spec.size, (i + 1) * spec.size)));
    chunks.push(await src.generate(latents, part.length));
  }
  return chunks;
}

/** Mean absolute change, in 0..255 levels, from the `base` frames to those of `moved` (one per base latent). */
async function meanChange(src: CalibrationSource, base: RgbBatch[], moved: LatentState[]): Promise<number> {
  const frames = await render(src, moved);
  let sum = 0;
  frames.forEach((chunk, c) => {
    for (let i = 0; i < chunk.batch; i++) sum += meanAbsDiff(base[c]!, i, chunk, i);
  });
  return sum / moved.length;
}

/** Measures the gains of `directions` (the live state's) and of the drift on this model. */
export async function measureGains(src: CalibrationSource, directions: readonly Float32Array[]): Promise<LiveGains> {
  const spec = src.latent;
  // Codes at their first category and zero: the gains are the noise's.
  const bases = Array.from({ length: SAMPLES }, (_, i) => ({ ...randomState(spec, 1000 + i), categorical: spec.categorical.map((k) => oneHot(k, 0)) }));
  const base = await render(src, bases);
  const gains: number[] = [];
  for (const d of directions) gains.push(gainFor(DIRECTION_CHANGE, await meanChange(src, base, bases.map((b) => nudge(b, d, 1)))));
  // The picture's change grows slower than the drift's angle, so a gain measured at speed 1 overshoots where it
  // slows the drift down (and undershoots where it speeds it up): one secant step at the gained speed corrects it.
  const driftChange = (speed: number) => meanChange(src, base, bases.map((b, i) => driftAt(b, { seed: 77 + i, speed }, DRIFT_PROBE_S)));
  const target = DRIFT_CHANGE * DRIFT_PROBE_S;
  const first = gainFor(target, await driftChange(1));
  return { directions: gains, drift: gainFor(target, (await driftChange(first)) / first) };
}

export function defaultCalibrationCacheDir(): string {
  return path.join(os.homedir(), '.cache', 'rhodops', 'calibration');
}

/** `measureGains`, kept in `cacheDir` by model and directions. */
export async function cachedGains(src: CalibrationSource, directions: readonly Float32Array[], cacheDir = defaultCalibrationCacheDir()): Promise<LiveGains> {
  const key = createHash('sha256').update(src.id).update(JSON.stringify(src.latent)).update(`${DIRECTION_CHANGE}/${DRIFT_CHANGE}/${SAMPLES}`);
  for (const d of directions) key.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  const file = path.join(cacheDir, `${key.digest('hex').slice(0, 24)}.json`);
  // A cache file another version wrote, or one cut short, is measured again.
  const cached = liveGainsSchema.safeParse(await fs.readFile(file, 'utf8').then((t) => JSON.parse(t) as unknown).catch(() => null));
  if (cached.success && cached.data.directions.length === directions.length) return cached.data;
  const gains = await measureGains(src, directions);
  await fs.mkdir(cacheDir, { recursive: true }).then(() => writeFileAtomic(file, JSON.stringify(gains) + '\n')).catch(() => undefined);
  return gains;
}
