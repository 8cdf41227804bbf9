// `rhodops sheet`: a contact sheet of seeds or of a bank's presets, captioned.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { setLogLevel } from '../core/log.ts';
import { renderSheet } from '../render/sheet.ts';
import { rejectsWith } from './helpers/assert.ts';
import { tempRoot, tinyModel } from './helpers/server.ts';

describe('contact sheet', () => {
  let root: string;
  let model: string;
  before(async () => {
    setLogLevel('silent');
    root = await tempRoot('rhodops-sheet-');
    model = await tinyModel(root);
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  const base = () => ({ model, out: path.join(root, 'sheet.png'), count: 6, seed: 1, bank: null, presetDir: path.join(root, 'presets'), columns: 3, cell: 56, ort: {} });

  it('lays out one captioned picture per seed, each seed its own picture', async () => {
    const r = await renderSheet(base());
    assert.equal(r.pictures, 6);
    const img = sharp(r.file);
    const meta = await img.metadata();
    // 3 columns of 56 px with 2 px gaps; 2 rows of 56 px plus a 22 px caption strip each.
    assert.deepEqual([meta.width, meta.height], [3 * 58 + 2, 2 * (56 + 22 + 2) + 2]);
    const { data } = await img.raw().toBuffer({ resolveWithObject: true });
    const cell = (i: number) => {
      const [ox, oy] = [2 + (i % 3) * 58, 2 + Math.floor(i / 3) * 80];
      const out: number[] = [];
      for (let y = 0; y < 56; y += 4) for (let x = 0; x < 56; x += 4) out.push(data[((oy + y) * meta.width! + ox + x) * meta.channels!]!);
      return out.join(',');
    };
    assert.equal(new Set([0, 1, 2, 3, 4, 5].map(cell)).size, 6, 'six different pictures');
    const caption: number[] = [];
    for (let y = 0; y < 20; y++) for (let x = 8; x < 48; x++) caption.push(data[((2 + 56 + y) * meta.width! + 2 + x) * meta.channels!]!);
    assert.ok(Math.max(...caption) > 100, 'a light caption under the first picture');
  });

  it('a bank with no preset for the model is named, with what to do', async () => {
    await rejectsWith(renderSheet({ ...base(), bank: 'live' }), 'PRESET_NOT_FOUND', "'live'");
  });
});
