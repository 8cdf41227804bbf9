// PGGAN model and trainer: fade-in exactness (G and D), minibatch stddev, the gradient penalty against finite
// differences, what a step changes, Adam restarts, exact state round trips, remedies and tensor memory.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { before, describe, it } from 'node:test';
import { initBackend, threadCount } from '../core/backend.ts';
import { setLogLevel } from '../core/log.ts';
import type { PgganArch } from '../core/models/arch.ts';
import { downsample2x, upsample2x } from '../core/models/layers.ts';
import { initParams, type Params } from '../core/models/params.ts';
import { pgganGenerate, pgganGeneratorSpecs } from '../core/models/pggan.ts';
import { mbstdGroupSize, minibatchStddev, pgganDiscriminate, pgganDiscSpecs } from '../core/models/pggan-disc.ts';
import { gaussianArray } from '../core/random.ts';
import { gradientPenalty, r1Penalty } from '../trainer/pggan/loss.ts';
import { features, isHealthy, meanPairwiseDistance, observe } from '../trainer/pggan/guard.ts';
import { testPgganSettings } from './helpers/pggan.ts';
import { GUARD_DEFAULTS, type PgganSettings } from '../trainer/pggan/settings.ts';
import { microBatches, PgganTrainer, TRAINED_G_PREFIX } from '../trainer/pggan/trainer.ts';
import { MicroBatchPlanner } from '../trainer/pggan/micro-batch.ts';
import { Replicas, shardsOf } from '../trainer/pggan/replicas.ts';

const arch: PgganArch = { kind: 'pggan', latentSize: 8, channels: 3, maxResolution: 16, widths: [8, 8, 4] };

const settings = (over: Partial<PgganSettings> = {}): PgganSettings =>
  testPgganSettings({
    arch: { ...arch, maxResolution: 8, widths: [8, 8] },
    data: 'memory',
    seed: 7,
    // 4² for 3 steps of 4, an 8² fade of 4 steps, then 8² stable.
    levels: [
      { resolution: 4, batch: 4, lr: 0.002, stabiliseKimg: 0.012, transitionKimg: 0 },
      { resolution: 8, batch: 4, lr: 0.002, stabiliseKimg: 0.04, transitionKimg: 0.016 },
    ],
    ...over,
  });

const realBatch = (t: PgganTrainer, seed: number) => {
  const { resolution: r, batch } = t.nextBatch();
  return gaussianArray(batch * r * r * 3, seed).map(Math.tanh);
};

async function snapshot(vars: Record<string, tf.Variable>): Promise<Map<string, Float32Array>> {
  return new Map(await Promise.all(Object.entries(vars).map(async ([k, v]) => [k, (await v.data()) as Float32Array] as const)));
}
function changed(a: Map<string, Float32Array>, b: Map<string, Float32Array>): string[] {
  return [...a].filter(([k, v]) => v.some((x, i) => x !== b.get(k)![i])).map(([k]) => k);
}
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'same length');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
/** Params with one tensor replaced (by a perturbed copy): the rest shared. */
function withParam(params: Params, name: string, f: (t: tf.Tensor) => tf.Tensor): Params {
  return { ...params, [name]: f(params[name]!) };
}

describe('PGGAN models', () => {
  let params: Params;
  before(async () => {
    setLogLevel('silent');
    await initBackend('wasm');
    params = { ...initParams(pgganGeneratorSpecs(arch), 1), ...initParams(pgganDiscSpecs(arch), 2) };
  });

  it('G fades in exactly: alpha 0 is the upsampled previous output, alpha 1 the new block only', async () => {
    tf.tidy(() => {
      const z = tf.tensor2d(gaussianArray(5 * 8, 3), [5, 8]);
      const previous = upsample2x(pgganGenerate(arch, params, z, { resolution: 8, alpha: 1 }));
      const at0 = pgganGenerate(arch, params, z, { resolution: 16, alpha: 0 });
      assert.equal(maxAbsDiff(at0.dataSync(), previous.dataSync()), 0, 'alpha 0 is bit-identical to the upsampled 8² output');
      const at1 = pgganGenerate(arch, params, z, { resolution: 16, alpha: 1 });
      // The 8² toRGB feeds only the faded path: with alpha 1 changing it changes nothing.
      const other = withParam(params, 'g/8/torgb/w', (t) => tf.add(t, 1));
      assert.equal(maxAbsDiff(pgganGenerate(arch, other, z, { resolution: 16, alpha: 1 }).dataSync(), at1.dataSync()), 0, 'alpha 1 ignores the old toRGB');
      assert.ok(maxAbsDiff(at0.dataSync(), at1.dataSync()) > 1e-3, 'the two paths differ (else the test proves nothing)');
      const mid = pgganGenerate(arch, params, z, { resolution: 16, alpha: 0.3 });
      const blend = tf.add(tf.mul(at0, 0.7), tf.mul(at1, 0.3));
      assert.ok(maxAbsDiff(mid.dataSync(), blend.dataSync()) < 1e-5, 'in between, a linear blend');
    });
  });

  it('D fades in exactly: alpha 0 is the previous resolution on the downsampled image, alpha 1 the new block only', async () => {
    tf.tidy(() => {
      const x = tf.tensor4d(gaussianArray(8 * 16 * 16 * 3, 4).map(Math.tanh), [8, 16, 16, 3]);
      const previous = pgganDiscriminate(arch, params, downsample2x(x), { resolution: 8, alpha: 1 });
      const at0 = pgganDiscriminate(arch, params, x, { resolution: 16, alpha: 0 });
      assert.equal(maxAbsDiff(at0.dataSync(), previous.dataSync()), 0, 'alpha 0 is bit-identical to D at 8² on the downsampled image');
      // With alpha 0 the 16² block is out of the path; with alpha 1 the 8² fromRGB is.
      const new16 = withParam(params, 'd/16/conv0/w', (t) => tf.add(t, 1));
      assert.equal(maxAbsDiff(pgganDiscriminate(arch, new16, x, { resolution: 16, alpha: 0 }).dataSync(), at0.dataSync()), 0, 'alpha 0 ignores the new block');
      const at1 = pgganDiscriminate(arch, params, x, { resolution: 16, alpha: 1 });
      const old8 = withParam(params, 'd/8/fromrgb/w', (t) => tf.add(t, 1));
      assert.equal(maxAbsDiff(pgganDiscriminate(arch, old8, x, { resolution: 16, alpha: 1 }).dataSync(), at1.dataSync()), 0, 'alpha 1 ignores the old fromRGB');
      assert.ok(maxAbsDiff(at0.dataSync(), at1.dataSync()) > 1e-4, 'the two paths differ (else the test proves nothing)');
      assert.deepEqual(at1.shape, [8, 1]);
    });
  });

  it('minibatch stddev appends the per-group standard deviation, averaged over features and pixels', async () => {
    assert.deepEqual([8, 6, 5, 3, 1].map((n) => mbstdGroupSize(n)), [4, 3, 1, 3, 1]);
    tf.tidy(() => {
      const n = 8;
      const data = gaussianArray(n * 2 * 2 * 3, 5);
      const out = minibatchStddev(tf.tensor4d(data, [n, 2, 2, 3]), 4);
      assert.deepEqual(out.shape, [8, 2, 2, 4]);
      const values = out.dataSync();
      // Groups are samples {m, m + 2, m + 4, m + 6} for m = 0, 1.
      for (let m = 0; m < 2; m++) {
        let acc = 0;
        for (let k = 0; k < 12; k++) {
          const xs = [0, 1, 2, 3].map((g) => data[(g * 2 + m) * 12 + k]!);
          const mean = xs.reduce((s, v) => s + v, 0) / 4;
          acc += Math.sqrt(xs.reduce((s, v) => s + (v - mean) ** 2, 0) / 4 + 1e-8);
        }
        for (const sample of [m, m + 2, m + 4, m + 6]) {
          for (let px = 0; px < 4; px++) assert.ok(Math.abs(values[(sample * 4 + px) * 4 + 3]! - acc / 12) < 1e-5, `sample ${sample}`);
        }
      }
      assert.equal(maxAbsDiff(tf.slice(out, [0, 0, 0, 0], [8, 2, 2, 3]).dataSync(), data), 0, 'the features pass through');
    });
  });

  it("both penalties' gradients with respect to a critic weight match central finite differences (WGAN-GP, R1)", () => {
    const tiny: PgganArch = { kind: 'pggan', latentSize: 4, channels: 3, maxResolution: 8, widths: [4, 4] };
    const p = initParams(pgganDiscSpecs(tiny), 11);
    const phase = { resolution: 8, alpha: 0.6 };
    const name = 'd/8/conv1/w';
    const real = tf.tensor4d(gaussianArray(4 * 8 * 8 * 3, 12).map(Math.tanh), [4, 8, 8, 3]);
    const fake = tf.tensor4d(gaussianArray(4 * 8 * 8 * 3, 13).map((v) => 0.5 * Math.tanh(v)), [4, 8, 8, 3]);
    const u = tf.tensor1d([0.1, 0.4, 0.7, 0.95]);
    const critic = (w: tf.Tensor) => (x: tf.Tensor4D) => pgganDiscriminate(tiny, { ...p, [name]: w }, x, phase);
    const penalties: [string, (w: tf.Tensor) => tf.Scalar][] = [
      ['WGAN-GP', (w) => gradientPenalty(critic(w), real, fake, u, 10)],
      ['R1', (w) => r1Penalty(critic(w), real, 10, 4)],
    ];
    const w0 = p[name]!;
    const base = w0.dataSync();
    for (const [what, penalty] of penalties) {
      const analytic = tf.tidy(() => tf.grad(penalty)(w0).dataSync());
      // The entries with the largest gradients (float32 finite differences are meaningless on tiny ones).
      const top = [...analytic.keys()].sort((a, b) => Math.abs(analytic[b]!) - Math.abs(analytic[a]!)).slice(0, 6);
      const h = 2e-3;
      const at = (i: number, delta: number) =>
        tf.tidy(() => {
          const w = Float32Array.from(base);
          w[i]! += delta;
          return penalty(tf.tensor(w, w0.shape)).dataSync()[0]!;
        });
      const value = tf.tidy(() => penalty(w0).dataSync()[0]!);
      assert.ok(value > 1e-3, `${what}: the penalty is not trivially zero (${value})`);
      for (const i of top) {
        const numeric = (at(i, h) - at(i, -h)) / (2 * h);
        const rel = Math.abs(numeric - analytic[i]!) / Math.max(Math.abs(analytic[i]!), 1e-6);
        assert.ok(rel < 1e-2, `${what} ${name}[${i}]: analytic ${analytic[i]}, finite differences ${numeric} (relative error ${rel.toFixed(4)})`);
      }
    }
    tf.dispose([real, fake, u, ...Object.values(p)]);
  });
});

describe('PGGAN trainer', () => {
  before(async () => {
    setLogLevel('silent');
    await initBackend('wasm');
  });

  it('follows the schedule: 4² steps, then the 8² fade with rising alpha, then 8² stable', async () => {
    const t = new PgganTrainer(settings());
    const seen: string[] = [];
    for (let i = 0; i < 9; i++) {
      const p = t.point();
      seen.push(`${p.resolution}:${p.stage.kind[0]}:${p.alpha.toFixed(2)}`);
      await t.trainStep(realBatch(t, i));
    }
    assert.deepEqual(seen, ['4:s:1.00', '4:s:1.00', '4:s:1.00', '8:t:0.00', '8:t:0.25', '8:t:0.50', '8:t:0.75', '8:s:1.00', '8:s:1.00']);
    assert.deepEqual([t.step, t.clock, t.run.imagesShown, t.run.dataPos], [9, 36, 36, 36]);
    t.dispose();
  });

  it('a network with learning rate 0 stays bit-identical while the other learns', async () => {
    for (const frozen of ['g', 'd'] as const) {
      const t = new PgganTrainer(settings(frozen === 'g' ? { lrScaleG: 0 } : { lrScaleD: 0 }));
      const [g0, d0] = [await snapshot(t.g), await snapshot(t.d)];
      await t.trainStep(realBatch(t, 1));
      const [g1, d1] = [await snapshot(t.g), await snapshot(t.d)];
      const movedG = changed(g0, g1);
      const movedD = changed(d0, d1);
      if (frozen === 'g') {
        assert.deepEqual(movedG, [], 'G frozen');
        assert.ok(movedD.includes('d/4/dense1/w') && movedD.includes('d/4/fromrgb/w'), `D learned: ${movedD.join(', ')}`);
        assert.ok(!movedD.includes('d/8/fromrgb/w'), "at 4² the 8² layers get no gradient and don't move");
      } else {
        assert.deepEqual(movedD, [], 'D frozen');
        assert.ok(movedG.includes('g/4/dense/w') && movedG.includes('g/4/torgb/w'), `G learned: ${movedG.join(', ')}`);
      }
      t.dispose();
    }
  });

  it('losses are finite, the penalty is positive, and the tensor count is flat across steps and a stage change', async () => {
    const t = new PgganTrainer(settings());
    await t.trainStep(realBatch(t, 1));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 4; i++) {
      const l = await t.trainStep(realBatch(t, i + 2));
      for (const [k, v] of Object.entries(l)) assert.ok(Number.isFinite(v), `${k} = ${v}`);
      assert.ok(l.gp > 0, `gp ${l.gp}`);
      assert.ok(Math.abs(l.d - (l.gp + l.drift - l.wdist)) < 1e-4, 'd = gp + drift − wdist');
    }
    assert.equal(t.point().stage.kind, 'transition', 'crossed into the fade (Adam restarted)');
    assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
    tf.dispose(t.generate(gaussianArray(3 * 8, 1), 3));
    assert.equal(tf.memory().numTensors, before);
    t.dispose();
  });

  it('micro-batches: the same step as one pass (the gradients summed by share), and the tensor count stays flat', async () => {
    // Minibatch stddev groups of 2 in a minibatch of 8: micro-batches of 2 or 4 keep each group whole only when
    // the groups are slices of consecutive images, which they are not in one pass (strided); group 1 has none.
    const s = settings({ mbstdGroup: 1, levels: [{ resolution: 4, batch: 8, lr: 0.002, stabiliseKimg: 0.1, transitionKimg: 0 }, { resolution: 8, batch: 8, lr: 0.002, stabiliseKimg: 0.1, transitionKimg: 0.1 }] });
    const whole = new PgganTrainer(s);
    const split = new PgganTrainer(s);
    try {
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        const real = realBatch(whole, 50 + i);
        const a = await whole.trainStep(real);
        const b = await split.trainStep(real, i === 1 ? 4 : 2);
        for (const k of ['d', 'g', 'wdist', 'gp', 'drift'] as const) assert.ok(Math.abs(a[k] - b[k]) <= 1e-4 * (1 + Math.abs(a[k])), `step ${i} ${k}: ${a[k]} in one pass, ${b[k]} in micro-batches`);
      }
      assert.equal(tf.memory().numTensors, before, 'no tensor left behind by the micro-batches');
      for (const net of ['g', 'd'] as const) {
        const x = await snapshot(whole[net]);
        const y = await snapshot(split[net]);
        for (const [k, v] of x) assert.ok(maxAbsDiff(v, y.get(k)!) < 1e-4, `${k} after 3 steps differs by ${maxAbsDiff(v, y.get(k)!)}`);
      }
    } finally {
      whole.dispose();
      split.dispose();
    }
  });

  it('micro-batches are whole minibatch-stddev groups where one fits', async () => {
    assert.deepEqual(microBatches(16, 6, 4), [{ from: 0, n: 4 }, { from: 4, n: 4 }, { from: 8, n: 4 }, { from: 12, n: 4 }]);
    assert.deepEqual(microBatches(14, 8, 4), [{ from: 0, n: 8 }, { from: 8, n: 6 }]);
    assert.deepEqual(microBatches(16, Infinity, 4), [{ from: 0, n: 16 }]);
    assert.deepEqual(microBatches(3, 8, 4), [{ from: 0, n: 3 }], 'a group larger than the minibatch is the minibatch');
    assert.deepEqual(microBatches(6, 2, 4), [{ from: 0, n: 2 }, { from: 2, n: 2 }, { from: 4, n: 2 }], 'below a group, the groups shrink to the micro-batch');
  });

  it('auto micro-batches: as many images as the budget holds by the measured cost of a pass; a resolution that cannot fit is refused', async () => {
    const MB = 2 ** 20;
    const planner = new MicroBatchPlanner('auto', 4, 2500 * MB);
    // A pass costs 100 MB plus 300 MB an image at 64²: 8 images fit (whole groups of 4); at 128², 1100 MB an image: 2; at 32² (say), 2000 MB: one, so 64² cannot fit.
    const measured: number[] = [];
    const cost = (fixed: number, per: number) => async (n: number) => (measured.push(n), (fixed + n * per) * MB);
    assert.equal(await planner.microFor(64, 16, cost(100, 300)), 8);
    assert.deepEqual(measured, [1, 2], 'measured with one image and with two');
    assert.equal(await planner.microFor(64, 16, cost(100, 300)), 8);
    assert.deepEqual(measured, [1, 2], 'once per resolution');
    assert.equal(await planner.microFor(64, 4, cost(100, 300)), 4, 'never more than the minibatch');
    assert.equal(await planner.microFor(128, 14, cost(100, 1100)), 2, 'below a group where no group fits');
    const tight = new MicroBatchPlanner('auto', 4, 2500 * MB);
    assert.equal(await tight.microFor(32, 14, cost(100, 2000)), 1);
    await assert.rejects(tight.microFor(64, 14, cost(100, 2400)), (e: Error & { hint?: string }) => /at 64² a step of one image needs about 5\.\d GB/.test(e.message) && /--widths narrow/.test(e.hint ?? ''));
    assert.equal(await new MicroBatchPlanner(3, 4).microFor(64, 16, cost(0, 1)), 3, 'a number is used as given');
  });

  it('training threads: shards of whole groups, one per thread; a replica that cannot start says why', async () => {
    assert.deepEqual(shardsOf(16, 2, 4), [{ from: 0, n: 8 }, { from: 8, n: 8 }]);
    assert.deepEqual(shardsOf(14, 2, 4), [{ from: 0, n: 8 }, { from: 8, n: 6 }]);
    assert.deepEqual(shardsOf(3, 2, 4), [{ from: 0, n: 3 }], 'fewer images than a group: one shard');
    assert.equal(threadCount('auto', 'tensorflow'), 1, 'tfjs-node uses every core already');
    assert.equal(threadCount(3, 'wasm'), 3);
    await assert.rejects(Replicas.start(2, { backend: 'no-such-backend', settings: settings() }), /no-such-backend/);
  });

  it('logistic-R1: finite losses, the R1 penalty only every k-th step, and the tensor count flat', async () => {
    const t = new PgganTrainer(settings({ loss: 'logistic-r1', lambdaGp: 0.05, r1Every: 4 }));
    try {
      const before = tf.memory().numTensors;
      const gp: number[] = [];
      for (let i = 0; i < 8; i++) {
        const l = await t.trainStep(realBatch(t, 70 + i));
        for (const k of ['d', 'g', 'wdist', 'gp'] as const) assert.ok(Number.isFinite(l[k]), `step ${i} ${k} ${l[k]}`);
        assert.equal(l.drift, 0);
        gp.push(l.gp);
      }
      assert.deepEqual(gp.map((v) => v > 0), [true, false, false, false, true, false, false, false], `R1 on steps 0 and 4: ${gp.join(', ')}`);
      assert.equal(tf.memory().numTensors, before);
    } finally {
      t.dispose();
    }
  });

  it('with DiffAugment the critic sees augmented images: other losses, still finite, the tensor count flat', async () => {
    const plain = new PgganTrainer(settings());
    const augmented = new PgganTrainer(settings({ augment: ['color', 'translation', 'cutout'] }));
    try {
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        const real = realBatch(plain, 90 + i);
        const a = await plain.trainStep(real);
        const b = await augmented.trainStep(real, 2);
        for (const k of ['d', 'g', 'wdist', 'gp'] as const) assert.ok(Number.isFinite(b[k]), `step ${i} ${k}`);
        assert.notEqual(a.d, b.d, 'the augmentation changed what the critic saw');
      }
      assert.equal(tf.memory().numTensors, before);
    } finally {
      plain.dispose();
      augmented.dispose();
    }
  });

  it('Adam restarts at each stage, as in the official code', async () => {
    const t = new PgganTrainer(settings());
    const adamStep = async () => (await t.state()).get('opt/g/step')!.data[0];
    for (let i = 0; i < 3; i++) await t.trainStep(realBatch(t, i));
    assert.equal(await adamStep(), 3);
    await t.trainStep(realBatch(t, 3));
    assert.equal(await adamStep(), 1, 'the fade began with fresh moments');
    t.dispose();
  });

  it('a trainer rebuilt from its saved state continues bit-identically', async () => {
    const a = new PgganTrainer(settings());
    for (let i = 0; i < 5; i++) await a.trainStep(realBatch(a, i));
    const b = new PgganTrainer(settings(), { state: await a.state(), step: a.step, clock: a.clock, run: a.run, where: 'test' });
    assert.deepEqual([b.step, b.clock, b.phase()], [a.step, a.clock, a.phase()]);
    for (let i = 5; i < 8; i++) {
      const real = realBatch(a, i);
      assert.deepEqual(await b.trainStep(real), await a.trainStep(real));
    }
    const [sa, sb] = [await a.state(), await b.state()];
    for (const [k, w] of sa) assert.equal(maxAbsDiff(w.data, sb.get(k)!.data), 0, `${k} identical`);
    a.dispose();
    b.dispose();
  });

  it("G's moving average follows every update at its half-life, draws the samples, and is saved beside the trained weights", async () => {
    // A half-life of 50 images: β = ½^(4/50) per step of 4.
    const t = new PgganTrainer(settings({ emaKimg: 0.05 }));
    const beta = 0.5 ** (4 / 50);
    let avg = await snapshot(t.gAverage!);
    assert.equal(changed(avg, await snapshot(t.g)).length, 0, 'a new run starts its average at the initial weights');
    const before = tf.memory().numTensors;
    for (let i = 0; i < 4; i++) {
      await t.trainStep(realBatch(t, 30 + i));
      const w = await snapshot(t.g);
      const want = new Map([...w].map(([k, v]) => [k, v.map((x, j) => x + beta * (avg.get(k)![j]! - x))] as const));
      avg = await snapshot(t.gAverage!);
      for (const [k, v] of want) assert.ok(maxAbsDiff(v, avg.get(k)!) < 1e-6, `step ${i} ${k}`);
    }
    assert.equal(tf.memory().numTensors, before, 'the average leaks no tensor');
    assert.ok(changed(avg, await snapshot(t.g)).length > 0, 'the average lags the trained weights');

    // Samples draw the average; the guard asks for the trained weights.
    const z = gaussianArray(2 * 8, 5);
    const [drawn, trained, byAverage] = [t.generate(z, 2), t.generate(z, 2, t.phase(), 'trained'), tf.tidy(() => pgganGenerate(t.settings.arch, t.gAverage!, tf.tensor2d(z, [2, 8]), t.phase()))];
    assert.equal(maxAbsDiff(await drawn.data(), await byAverage.data()), 0);
    assert.ok(maxAbsDiff(await drawn.data(), await trained.data()) > 1e-4);
    tf.dispose([drawn, trained, byAverage]);

    // What plays is under G's names; the trained weights travel under train/ and come back as they were.
    const state = await t.state();
    for (const [k, v] of avg) assert.deepEqual(state.get(k)!.data, v, `${k}: the average`);
    for (const [k, v] of await snapshot(t.g)) assert.deepEqual(state.get(TRAINED_G_PREFIX + k)!.data, v, `${k}: trained`);
    const resumed = new PgganTrainer(t.settings, { state, step: t.step, clock: t.clock, run: t.run, where: 'test' });
    assert.equal(changed(await snapshot(t.g), await snapshot(resumed.g)).length, 0);
    assert.equal(changed(avg, await snapshot(resumed.gAverage!)).length, 0);
    // A checkpoint from before the average (no train/ weights) resumes with its average at the trained weights.
    const older = new Map([...(await t.state())].filter(([k]) => !k.startsWith(TRAINED_G_PREFIX)));
    const upgraded = new PgganTrainer(t.settings, { state: older, step: t.step, clock: t.clock, run: t.run, where: 'test' });
    assert.equal(changed(await snapshot(upgraded.g), await snapshot(upgraded.gAverage!)).length, 0);
    assert.equal(changed(avg, await snapshot(upgraded.g)).length, 0, 'its G is what the older checkpoint played');
    // Without an average: none kept, none saved; replicas never keep one.
    const none = new PgganTrainer(settings({ emaKimg: 0 }));
    const replica = new PgganTrainer(t.settings, undefined, undefined, { average: false });
    assert.equal(none.gAverage, null);
    assert.equal(replica.gAverage, null);
    assert.ok(![...(await none.state()).keys()].some((k) => k.startsWith(TRAINED_G_PREFIX)));
    for (const x of [t, resumed, upgraded, none, replica]) x.dispose();
  });

  it('a remedy scales lr and λ from the current resolution on and lengthens a fade in progress without moving alpha', async () => {
    const t = new PgganTrainer(settings());
    for (let i = 0; i < 5; i++) await t.trainStep(realBatch(t, i));
    const before = t.point();
    assert.equal(before.stage.kind, 'transition');
    const applied = t.applyRemedy({ lr: 0.5, gp: 2, fade: 1.5 });
    const after = t.point();
    assert.deepEqual(applied.lr, [0.002, 0.001]);
    assert.deepEqual(applied.lambdaGp, [10, 20]);
    assert.deepEqual(applied.transitionKimg, [0.016, 0.016 * 1.5]);
    assert.equal(t.run.levels[0]!.lr, 0.002, 'the finished 4² level is untouched');
    assert.equal(after.resolution, 8);
    assert.ok(Math.abs(after.alpha - before.alpha) <= 1 / 24, `alpha ${before.alpha} → ${after.alpha}`);
    assert.ok(t.clock >= applied.clock[0], 'the clock moves to the same alpha in the longer fade');
    assert.equal(t.learningRate('g'), 0.001);
    t.dispose();
  });
});

describe('collapse guard (pure parts)', () => {
  it('diversity is the mean pairwise RMS distance', async () => {
    // Three 2-d points: (0,0), (2,0), (0,2): RMS distances √2, √2, 2.
    const d = meanPairwiseDistance(Float32Array.from([0, 0, 2, 0, 0, 2]), 3);
    assert.ok(Math.abs(d - (2 * Math.SQRT2 + 2) / 3) < 1e-12, String(d));
    assert.equal(meanPairwiseDistance(new Float32Array(12).fill(0.3), 4), 0, 'identical samples: zero');
  });

  it('features clamp to what a viewer sees and box-filter down to 16²', async () => {
    await initBackend('wasm');
    tf.tidy(() => {
      const f = features(tf.fill([2, 32, 32, 3], 5) as tf.Tensor4D);
      assert.deepEqual(f.shape, [2, 16 * 16 * 3]);
      assert.ok(f.dataSync().every((v) => v === 1));
      assert.deepEqual(features(tf.zeros([2, 8, 8, 3]) as tf.Tensor4D).shape, [2, 8 * 8 * 3], 'small images are used as they are');
    });
  });

  it('needs `window` consecutive low measurements past the warm-up; one good one resets it', async () => {
    const g = { ...GUARD_DEFAULTS, threshold: 0.5, window: 3, warmupKimg: 1 };
    let state = { streak: 0, lastRatio: null as number | null };
    const step = (ratio: number, clock = 5000) => {
      const r = observe(g, state, ratio, clock);
      state = r.state;
      return r.verdict;
    };
    assert.equal(step(0.1, 500), 'warmup');
    assert.equal(isHealthy(g, state), false, 'nothing measured past the warm-up: not a rollback target');
    assert.deepEqual([step(0.9), step(0.4), step(0.3)], ['healthy', 'low', 'low']);
    assert.equal(isHealthy(g, state), false);
    assert.deepEqual([step(0.6), step(0.4), step(0.4), step(0.2)], ['healthy', 'low', 'low', 'collapse']);
    assert.equal(step(0.7), 'healthy');
    assert.equal(isHealthy(g, state), true);
    assert.equal(isHealthy({ ...g, enabled: false }, state), false);
  });
});
