// InfoGAN training: what a step must do (not exact numbers), on tiny models the test builds.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { before, describe, it } from 'node:test';
import { initBackend } from '../core/backend.ts';
import { setLogLevel } from '../core/log.ts';
import { infoganArch } from '../core/models/architectures.ts';
import { infoganDiscriminate, type InfoganDiscArch } from '../core/models/infogan-disc.ts';
import { gaussianArray } from '../core/random.ts';
import { sampleCodes } from '../trainer/infogan/codes.ts';
import { InfoganTrainer, type InfoganTrainConfig } from '../trainer/infogan/trainer.ts';
import { latentSpecOf } from '../core/onnx/export.ts';
import { INFOGAN_DEFAULTS } from '../trainer/infogan/settings.ts';

const arch = infoganArch(28, { noise: 4, categorical: [3], continuous: 2, fcUnits: 32, widths: [8, 4] });
const disc: InfoganDiscArch = { widths: [4, 8], fcUnits: 32, qUnits: 16, learnVariance: false };
const config = (over: Partial<InfoganTrainConfig> = {}): InfoganTrainConfig => ({
  arch,
  disc,
  batch: 8,
  ...INFOGAN_DEFAULTS,
  seed: 3,
  ...over,
});
const realBatch = (n: number, seed: number) => gaussianArray(n * 28 * 28, seed).map((v) => Math.tanh(v));

async function snapshot(vars: Record<string, tf.Variable>): Promise<Map<string, Float32Array>> {
  return new Map(await Promise.all(Object.entries(vars).map(async ([k, v]) => [k, (await v.data()) as Float32Array] as const)));
}
function changed(a: Map<string, Float32Array>, b: Map<string, Float32Array>): string[] {
  return [...a].filter(([k, v]) => v.some((x, i) => x !== b.get(k)![i])).map(([k]) => k);
}

describe('InfoGAN trainer', () => {
  before(async () => {
    setLogLevel('silent');
    await initBackend('wasm');
  });

  it('D and Q outputs have the shapes of the codes', async () => {
    const t = new InfoganTrainer(config());
    const params = { ...t.g, ...t.d };
    tf.tidy(() => {
      const { logits, q } = infoganDiscriminate(arch, disc, params, tf.zeros([5, 28, 28, 1]) as tf.Tensor4D);
      assert.deepEqual(logits.shape, [5, 1]);
      assert.deepEqual(q.categorical.map((c) => c.shape), [[5, 3]]);
      assert.deepEqual(q.mean?.shape, [5, 2]);
      assert.equal(q.logVariance, null);
    });
    t.dispose();
  });

  it('sampled codes are one-hot and within range, laid out [noise | one-hot | continuous]', async () => {
    const s = sampleCodes(latentSpecOf(arch), 50, 9);
    for (let b = 0; b < 50; b++) {
      const row = s.latents.subarray(b * 9, (b + 1) * 9);
      const hot = [...row.subarray(4, 7)];
      assert.deepEqual(hot.filter((v) => v === 1).length, 1);
      assert.equal(hot.indexOf(1), s.categorical[b]);
      for (const c of row.subarray(7)) assert.ok(c >= -1 && c <= 1);
    }
  });

  it('a D step changes only D and Q; a G step changes only G', async () => {
    const t = new InfoganTrainer(config());
    const [g0, d0] = [await snapshot(t.g), await snapshot(t.d)];
    await t.dStep(realBatch(8, 1));
    const [g1, d1] = [await snapshot(t.g), await snapshot(t.d)];
    assert.deepEqual(changed(g0, g1), [], 'D step left G alone');
    assert.ok(changed(d0, d1).includes('q/out/w') && changed(d0, d1).includes('d/out/w'), 'D step moved D and Q');
    await t.gStep();
    const [g2, d2] = [await snapshot(t.g), await snapshot(t.d)];
    assert.deepEqual(changed(d1, d2), [], 'G step left D alone');
    const moved = changed(g1, g2);
    assert.ok(moved.includes('g/fc1/w') && moved.includes('g/deconv1/w'), 'G step moved G');
    assert.ok(!moved.some((k) => k.endsWith('/bn/mean') || k.endsWith('/bn/variance')), 'running statistics are not trained');
    t.dispose();
  });

  it('losses are finite and the tensor count is flat across steps', async () => {
    const t = new InfoganTrainer(config());
    await t.trainStep(realBatch(8, 1));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const l = await t.trainStep(realBatch(8, i + 2));
      for (const [k, v] of Object.entries(l)) assert.ok(Number.isFinite(v), `${k} = ${v}`);
      assert.ok(l.realProb > 0 && l.realProb < 1);
    }
    assert.equal(tf.memory().numTensors, before);
    await t.recalibrateBatchNorm(64);
    assert.equal(tf.memory().numTensors, before);
    t.dispose();
  });

  it('the mutual-information term makes G and Q pass the codes through the images', async () => {
    // Unweighted MI loss (cross-entropy + Gaussian NLL) over 60 steps, with the MI term and without it.
    const run = async (lambda: number) => {
      const t = new InfoganTrainer(config({ lrG: 2e-3, lrD: 1e-3, lambdaCat: lambda, lambdaCont: lambda }));
      const mis: number[] = [];
      for (let i = 0; i < 60; i++) {
        const l = await t.trainStep(realBatch(8, 100 + i));
        mis.push(l.miCat + l.miCont);
      }
      t.dispose();
      const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
      return { first: mean(mis.slice(0, 8)), last: mean(mis.slice(-8)) };
    };
    const withMi = await run(1);
    const without = await run(0);
    const msg = `with λ=1: ${withMi.first.toFixed(3)} → ${withMi.last.toFixed(3)}; λ=0: ${without.first.toFixed(3)} → ${without.last.toFixed(3)}`;
    assert.ok(withMi.last < 0.75 * withMi.first, msg);
    assert.ok(withMi.last < 0.75 * without.last, msg);
  });
});
