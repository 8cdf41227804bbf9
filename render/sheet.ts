/**
 * `rhodops sheet`: a contact sheet to choose a look fast: the model's pictures for a run of seeds (each the state
 * `render --seed N` and `serve` start from) or for the presets of a bank, captioned, in one PNG.
 */
import path from 'node:path';
import { RhodopsError, messageOf } from '../core/errors.ts';
import { writePngGrid } from '../core/images.ts';
import { randomState, stateFromJson, toVector, type LatentState } from '../core/latent/index.ts';
import { logger } from '../core/log.ts';
import { openGenerator } from '../core/runtime/open.ts';
import type { OrtOptions } from '../core/runtime/ort.ts';
import type { RgbBatch } from '../core/runtime/types.ts';
import { checkCompatible } from '../presets/layout.ts';
import { PresetStore } from '../presets/store.ts';

const log = logger('sheet');

export interface SheetOptions {
  model: string;
  out: string;
  /** How many seeds, from `seed` on (without `bank`). */
  count: number;
  seed: number;
  /** The presets of this bank instead of seeds. */
  bank: string | null;
  presetDir: string;
  columns: number;
  /** Pixels per picture (frames are enlarged to at least this). */
  cell: number;
  ort: Partial<OrtOptions>;
}

export async function renderSheet(o: SheetOptions): Promise<{ file: string; pictures: number }> {
  const gen = await openGenerator(o.model, { engine: 'ort', ort: o.ort });
  try {
    const spec = gen.info.latent;
    const states: LatentState[] = [];
    const labels: string[] = [];
    if (o.bank) {
      const store = new PresetStore({ dir: o.presetDir });
      const list = await store.list(o.bank);
      for (const p of list.presets) {
        try {
          const preset = await store.load(p.bank, p.name);
          checkCompatible(preset, spec, gen.info.name);
          states.push(stateFromJson(spec, preset.state, `preset '${p.name}'`));
          labels.push(p.name);
        } catch (e) {
          log.warn(`preset ${p.bank}/${p.name} left out: ${messageOf(e)}`);
        }
      }
      if (states.length === 0) {
        throw new RhodopsError('PRESET_NOT_FOUND', `the bank '${o.bank}' in ${o.presetDir} has no preset for ${gen.info.name}`, { hint: 'save presets with this model first, or leave out --bank for a sheet of seeds' });
      }
    } else {
      for (let i = 0; i < o.count; i++) {
        states.push(randomState(spec, o.seed + i));
        labels.push(`seed ${o.seed + i}`);
      }
    }
    const frames: RgbBatch = { batch: states.length, width: gen.info.width, height: gen.info.height, data: new Uint8Array(states.length * gen.info.width * gen.info.height * 3) };
    const size = spec.size;
    for (let from = 0; from < states.length; from += 8) {
      const n = Math.min(8, states.length - from);
      const latents = new Float32Array(n * size);
      for (let k = 0; k < n; k++) toVector(spec, states[from + k]!, latents.subarray(k * size, (k + 1) * size));
      const made = await gen.generate(latents, n);
      frames.data.set(made.data, from * gen.info.width * gen.info.height * 3);
    }
    await writePngGrid(o.out, frames, Math.min(o.columns, states.length), { labels, minCellWidth: o.cell, minWidth: 0 });
    log.info(`${path.basename(o.out)}: ${states.length} pictures of ${gen.info.name}`);
    return { file: o.out, pictures: states.length };
  } finally {
    await gen.dispose();
  }
}
