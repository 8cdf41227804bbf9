/**
 * The pictures users judge an InfoGAN by: per categorical code a grid (code value across columns,
 * a different noise per row), per continuous code a traversal from −2 to 2 across columns. The noise
 * is fixed for the whole run, so grids from successive epochs animate the training.
 */
import type { InfoganArch } from '../../core/models/arch.ts';
import { latentSpecOf } from '../../core/onnx/export.ts';
import type { Generator } from '../../core/runtime/types.ts';
import { gaussianArray } from '../../core/random.ts';
import { writePngGrid } from '../../core/images.ts';

export const TRAVERSAL_RANGE = 2;
const ROWS = 10;
const TRAVERSAL_COLUMNS = 9;

export interface SampleSheet {
  /** File stem, e.g. "cat0" or "cont1". */
  name: string;
  rows: number;
  columns: number;
  /** rows × columns latents, row-major. */
  latents: Float32Array;
}

/** Latent sheets for an architecture; `seed` fixes the noise rows. */
export function sampleSheets(arch: InfoganArch, seed: number): SampleSheet[] {
  const spec = latentSpecOf(arch);
  const noise = gaussianArray(ROWS * spec.noise, seed);
  const catOffsets: number[] = [];
  spec.categorical.reduce((o, k) => (catOffsets.push(o), o + k), spec.noise);
  const contOffset = spec.noise + spec.categorical.reduce((s, k) => s + k, 0);
  /** A row's base latent: its noise, each categorical code at a value that varies by row, continuous at 0. */
  const base = (row: number): Float32Array => {
    const z = new Float32Array(spec.size);
    z.set(noise.subarray(row * spec.noise, (row + 1) * spec.noise));
    spec.categorical.forEach((k, c) => (z[catOffsets[c]! + (row % k)] = 1));
    return z;
  };
  const sheets: SampleSheet[] = [];
  spec.categorical.forEach((k, c) => {
    const latents = new Float32Array(ROWS * k * spec.size);
    for (let r = 0; r < ROWS; r++)
      for (let v = 0; v < k; v++) {
        const z = base(r);
        z.fill(0, catOffsets[c]!, catOffsets[c]! + k);
        z[catOffsets[c]! + v] = 1;
        latents.set(z, (r * k + v) * spec.size);
      }
    sheets.push({ name: `cat${c}`, rows: ROWS, columns: k, latents });
  });
  for (let i = 0; i < spec.continuous; i++) {
    const latents = new Float32Array(ROWS * TRAVERSAL_COLUMNS * spec.size);
    for (let r = 0; r < ROWS; r++)
      for (let col = 0; col < TRAVERSAL_COLUMNS; col++) {
        const z = base(r);
        z[contOffset + i] = -TRAVERSAL_RANGE + (2 * TRAVERSAL_RANGE * col) / (TRAVERSAL_COLUMNS - 1);
        latents.set(z, (r * TRAVERSAL_COLUMNS + col) * spec.size);
      }
    sheets.push({ name: `cont${i}`, rows: ROWS, columns: TRAVERSAL_COLUMNS, latents });
  }
  return sheets;
}

/** Renders every sheet through the generator and writes `${dir}/${name}${suffix}.png`; returns the paths. */
export async function writeSampleSheets(gen: Generator, sheets: SampleSheet[], dir: string, suffix: string): Promise<string[]> {
  const files: string[] = [];
  for (const s of sheets) {
    const frames = await gen.generate(s.latents, s.rows * s.columns);
    const file = `${dir}/${s.name}${suffix}.png`;
    await writePngGrid(file, frames, s.columns);
    files.push(file);
  }
  return files;
}
