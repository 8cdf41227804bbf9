// The models rhodops ships in presets/models: intact (the manifest's hashes hold), small enough for git, and
// alive: they open on ONNX Runtime and make frames that vary within each image and between latents, so a
// collapsed or blank model cannot be shipped by mistake.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { openCheckpoint } from '../core/checkpoint/io.ts';
import { setLogLevel } from '../core/log.ts';
import { openGenerator } from '../core/runtime/open.ts';
import { gaussianArray } from '../core/random.ts';

const DIR = path.join(import.meta.dirname, '..', 'presets', 'models');
const MAX_BYTES = 20e6;

const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
const std = (a: ArrayLike<number>) => {
  const m = mean(a);
  return Math.sqrt(mean(Array.from(a, (v) => (v - m) ** 2)));
};

describe('bundled models', async () => {
  before(() => setLogLevel('silent'));
  const names = (await fs.readdir(DIR, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);

  it('the InfoGAN demo and the wallpapers PGGAN are there', () => {
    for (const want of ['infogan-mnist', 'pggan-wallpapers']) assert.ok(names.includes(want), `${want} in ${names.join(', ')}`);
  });

  for (const name of names) {
    it(`${name}: intact, under 20 MB, and makes varied frames`, async () => {
      const dir = path.join(DIR, name);
      const ckpt = await openCheckpoint(dir);
      const bytes = Object.values(ckpt.manifest.files).reduce((s, f) => s + f.bytes, 0);
      assert.ok(bytes <= MAX_BYTES, `${(bytes / 1e6).toFixed(1)} MB`);
      const gen = await openGenerator(dir);
      try {
        const n = 8;
        const frames = await gen.generateFloat(gaussianArray(n * gen.info.latent.size, 2026), n);
        const size = frames.data.length / n;
        const images = Array.from({ length: n }, (_, i) => frames.data.subarray(i * size, (i + 1) * size));
        const within = mean(images.map(std));
        assert.ok(within > 0.1, `each image has structure (mean std ${within.toFixed(3)} in −1..1)`);
        let between = 0;
        for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) between += mean(Array.from(images[i]!, (v, k) => Math.abs(v - images[j]![k]!)));
        between /= (n * (n - 1)) / 2;
        assert.ok(between > 0.1, `latents give different images (mean |Δ| ${between.toFixed(3)})`);
      } finally {
        await gen.dispose();
      }
    });
  }
});
