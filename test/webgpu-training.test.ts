// Training and the dataset's style transfer on tfjs-backend-webgpu, run here through Debian chromium's SwiftShader
// (a software adapter, asked for by name): the same steps as on wasm, from the same weights, give finite and close
// losses (the gradient penalties' second-order gradients included), and the weights move alike; a resumed run
// stays exact; the patch transfer makes stripes of stripes. `auto` never trains on a software adapter.
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../core/backend.ts';
import { setLogLevel } from '../core/log.ts';
import { gaussianArray, rng } from '../core/random.ts';
import { infoganArch } from '../core/models/architectures.ts';
import { PgganTrainer } from '../trainer/pggan/trainer.ts';
import { InfoganTrainer } from '../trainer/infogan/trainer.ts';
import { INFOGAN_DEFAULTS } from '../trainer/infogan/settings.ts';
import { runPggan } from '../trainer/pggan/run.ts';
import { syntheticPack } from '../trainer/pggan/synthetic.ts';
import { GUARD_DEFAULTS } from '../trainer/pggan/settings.ts';
import { testPgganSettings, tinyPack } from './helpers/pggan.ts';
import { flat, gradientEnergy, stripes } from './helpers/stylize.ts';
import { stylize } from '../trainer/stylize/transfer.ts';
import { runRhodops } from './helpers/processes.ts';
import { relativeRms } from './helpers/models.ts';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Runs `steps` on a fresh trainer on `backend`; returns the losses and the weights after. */
async function run<L extends object>(backend: 'wasm' | 'webgpu', make: () => { step: () => Promise<L>; weights: () => Record<string, tf.Variable>; dispose: () => void }, steps: number) {
  await initBackend(backend);
  const t = make();
  try {
    const losses: L[] = [];
    for (let i = 0; i < steps; i++) losses.push(await t.step());
    const weights = Object.fromEntries(await Promise.all(Object.entries(t.weights()).map(async ([k, v]) => [k, (await v.data()) as Float32Array] as const)));
    return { losses, weights };
  } finally {
    t.dispose();
  }
}

function close(a: Record<string, number>, b: Record<string, number>, what: string, tol: number): void {
  for (const [k, x] of Object.entries(a)) {
    const y = b[k]!;
    assert.ok(Number.isFinite(x) && Number.isFinite(y), `${what} ${k}: ${x} on wasm, ${y} on webgpu`);
    assert.ok(Math.abs(x - y) <= tol * (1 + Math.abs(x)), `${what} ${k}: ${x} on wasm, ${y} on webgpu`);
  }
}

describe('training on WebGPU (SwiftShader)', () => {
  let root: string;
  before(async () => {
    setLogLevel('silent');
    assert.ok(existsSync(SWIFTSHADER), `${SWIFTSHADER} is missing: install Debian's chromium (.ci/run does)`);
    process.env['VK_ICD_FILENAMES'] = SWIFTSHADER;
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-webgpu-train-'));
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  it('auto does not train on a software adapter; webgpu asked for by name does', async () => {
    const auto = await initBackend('auto');
    assert.notEqual(auto.name, 'webgpu');
    assert.ok(auto.reasons.some((r) => /webgpu: only a software adapter/.test(r)), auto.reasons.join('; '));
    const named = await initBackend('webgpu');
    assert.equal(named.name, 'webgpu');
    assert.equal(tf.getBackend(), 'webgpu');
  });

  it('PGGAN, WGAN-GP and logistic-R1: the steps of wasm from the same weights, within float rounding', async () => {
    for (const loss of ['wgan-gp', 'logistic-r1'] as const) {
      const settings = testPgganSettings({
        arch: { kind: 'pggan', latentSize: 8, channels: 3, maxResolution: 8, widths: [8, 8] },
        levels: [
          { resolution: 4, batch: 4, lr: 0.002, stabiliseKimg: 0, transitionKimg: 0 },
          { resolution: 8, batch: 4, lr: 0.002, stabiliseKimg: 1, transitionKimg: 0 },
        ],
        loss,
        lambdaGp: loss === 'wgan-gp' ? 10 : 1,
        r1Every: 1,
      });
      const real = gaussianArray(4 * 8 * 8 * 3, 5).map(Math.tanh);
      const make = () => {
        const t = new PgganTrainer(settings);
        return { step: async () => ({ ...(await t.trainStep(real)) }), weights: () => ({ ...t.g, ...t.d }), dispose: () => t.dispose() };
      };
      const a = await run('wasm', make, 2);
      const b = await run('webgpu', make, 2);
      a.losses.forEach((l, i) => close(l, b.losses[i]!, `${loss} step ${i + 1}`, 2e-3));
      assert.ok(a.losses.some((l) => l['gp']! > 0), 'the penalty ran');
      for (const [k, w] of Object.entries(a.weights)) {
        const err = relativeRms(b.weights[k]!, w);
        assert.ok(err < 1e-3, `${loss} ${k}: relative RMS ${err.toExponential(2)} between wasm and webgpu after two steps`);
      }
    }
  });

  it('InfoGAN: the step of wasm from the same weights, within float rounding', async () => {
    const settings = {
      arch: infoganArch(28, { noise: 4, categorical: [3], continuous: 1, fcUnits: 16, widths: [8, 4] }),
      disc: { widths: [4, 8], fcUnits: 16, qUnits: 8, learnVariance: false },
      batch: 4,
      ...INFOGAN_DEFAULTS,
      seed: 3,
    };
    const real = gaussianArray(4 * 28 * 28, 9).map(Math.tanh);
    const make = () => {
      const t = new InfoganTrainer(settings);
      return { step: async () => ({ ...(await t.trainStep(real)) }), weights: () => ({ ...t.g, ...t.d }), dispose: () => t.dispose() };
    };
    const a = await run('wasm', make, 1);
    const b = await run('webgpu', make, 1);
    close(a.losses[0]!, b.losses[0]!, 'InfoGAN', 2e-3);
    for (const [k, w] of Object.entries(a.weights)) {
      const err = relativeRms(b.weights[k]!, w);
      assert.ok(err < 1e-3 || Math.max(...w.map(Math.abs)) === 0, `InfoGAN ${k}: relative RMS ${err.toExponential(2)}`);
    }
  });

  it('a run stopped mid-fade and resumed on webgpu ends bit-identical to an uninterrupted one on webgpu', async () => {
    await initBackend('webgpu');
    // 4² for 3 steps of 4, an 8² fade of 3, 8² stable for 3: 9 steps, stopped at 5 (alpha 1/3 into the fade).
    const settings = testPgganSettings({
      arch: { kind: 'pggan', latentSize: 8, channels: 3, maxResolution: 8, widths: [8, 8] },
      data: 'synthetic',
      seed: 4,
      levels: [
        { resolution: 4, batch: 4, lr: 0.002, stabiliseKimg: 0.012, transitionKimg: 0 },
        { resolution: 8, batch: 4, lr: 0.002, stabiliseKimg: 0.012, transitionKimg: 0.012 },
      ],
      loss: 'logistic-r1',
      lambdaGp: 1,
      r1Every: 2,
      checkpointEveryKimg: 0.008,
      guard: { ...GUARD_DEFAULTS, enabled: false },
    });
    const base = { pack: syntheticPack(16, 8, 2), samples: false } as const;
    const straight = path.join(root, 'straight');
    const resumed = path.join(root, 'resumed');
    const a = await runPggan({ ...base, settings, out: straight, resume: false });
    assert.deepEqual([a.step, a.stoppedEarly], [9, false]);
    await runPggan({ ...base, settings, out: resumed, resume: false, maxSteps: 5 });
    const b = await runPggan({ ...base, settings, out: resumed, resume: true });
    assert.deepEqual([b.step, b.stoppedEarly], [9, false]);
    const [wa, wb] = await Promise.all([straight, resumed].map((d) => fs.readFile(path.join(d, 'tfjs', 'weights.bin'))));
    assert.ok(wa!.equals(wb!), 'weights and optimizer state are bit-identical across the resume');
  });

  it('the command trains on webgpu, says which adapter, and exits when done', async () => {
    const out = path.join(root, 'cli');
    const data = await tinyPack(root);
    // Dawn's threads must not keep the process alive after the run (the test would time out).
    const r = await runRhodops(['train', 'pggan', '--out', out, '--backend', 'webgpu', '--data', data, '--resolution', '8', '--widths', '8,8',
      '--batch', '4', '--stabilise-kimg', '0.004', '--transition-kimg', '0.004', '--no-samples', '--metrics-every-kimg', '0'], { ...process.env, VK_ICD_FILENAMES: SWIFTSHADER });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /tfjs backend: webgpu \(SwiftShader.*software adapter/);
    assert.match(r.stdout, /^done: step \d+/m);
  });

  it('style transfer runs on webgpu: a striped style on flat grey content gives a striped pastiche', async () => {
    await initBackend('webgpu');
    const before = tf.memory().numTensors;
    const striped = await stylize(flat(64, 128), [{ image: stripes(64, 8), weight: 1 }], { size: 64, startSize: 32 }, rng(11));
    assert.equal(tf.memory().numTensors, before, 'every tensor disposed');
    const e = gradientEnergy(striped);
    assert.ok(e.horizontal > 6000, `horizontal gradient energy ${e.horizontal.toFixed(0)} > 6000`);
    assert.ok(e.vertical < e.horizontal / 5, `vertical ${e.vertical.toFixed(0)} < horizontal ${e.horizontal.toFixed(0)} / 5`);
  });
});
