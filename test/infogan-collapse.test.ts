// InfoGAN's collapse warning (trainer/infogan/collapse.ts): a generator that makes one picture scores far below
// its data's diversity; one as varied as the data scores near 1.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initBackend } from '../core/backend.ts';
import { saveModelCheckpoint } from '../core/checkpoint/from-model.ts';
import { setLogLevel } from '../core/log.ts';
import { infoganArch } from '../core/models/architectures.ts';
import { openGenerator } from '../core/runtime/open.ts';
import { randomState, toVector } from '../core/latent/index.ts';
import { COLLAPSE_RATIO, diversityRatio } from '../trainer/infogan/collapse.ts';
import type { ImageDataset } from '../trainer/datasets/types.ts';
import { randomWeights } from './helpers/models.ts';
import { tempRoot } from './helpers/server.ts';

describe('InfoGAN collapse warning', () => {
  let root: string;
  before(async () => {
    setLogLevel('silent');
    await initBackend('wasm');
    root = await tempRoot('rhodops-collapse-');
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  const arch = infoganArch(28, { channels: 3, noise: 6, categorical: [3], continuous: 1, fcUnits: 32, widths: [16, 8] });

  async function model(name: string, scale: number): Promise<string> {
    const weights = randomWeights(arch, 3);
    for (const [k, w] of weights) if (k.endsWith('/w')) w.data = w.data.map((v) => v * scale);
    const out = path.join(root, name);
    await saveModelCheckpoint(out, arch, weights, { name });
    return out;
  }

  /** The data: what a varied generator makes for other latents, so a healthy generator is as varied as it. */
  async function dataFrom(dir: string): Promise<ImageDataset> {
    const gen = await openGenerator(dir);
    const spec = gen.info.latent;
    const n = 64;
    const z = new Float32Array(n * spec.size);
    for (let i = 0; i < n; i++) z.set(toVector(spec, randomState(spec, 500 + i)), i * spec.size);
    const made = await gen.generate(z, n);
    await gen.dispose();
    return { count: n, size: 28, channels: 3, pixels: made.data, source: 'test' };
  }

  it('one picture for every latent: far below the data; a varied generator: near the data', async () => {
    const varied = await model('varied', 15);
    const data = await dataFrom(varied);
    const healthy = await openGenerator(varied);
    const collapsed = await openGenerator(await model('collapsed', 0));
    try {
      const good = await diversityRatio(healthy, data, 1);
      const bad = await diversityRatio(collapsed, data, 1);
      assert.ok(good > 0.7 && good < 1.4, `a generator like its data: ${good.toFixed(3)}`);
      assert.ok(bad < COLLAPSE_RATIO / 10, `one picture: ${bad.toFixed(4)}`);
    } finally {
      await healthy.dispose();
      await collapsed.dispose();
    }
  });
});
