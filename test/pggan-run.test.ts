// Whole PGGAN runs on a tiny procedural dataset: exact resume mid-transition, the checkpoint's ONNX generator at
// that phase, samples and videos per phase, Ctrl-C, and the collapse guard (quiet on a healthy run; on a forced
// collapse it rolls back to the healthy checkpoint, applies the remedy and goes on, and gives up after its limit).
import assert from 'node:assert/strict';
import { cpSync, existsSync, promises as fs, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { after, before, describe, it } from 'node:test';
import { initBackend } from '../core/backend.ts';
import { setLogLevel } from '../core/log.ts';
import { openCheckpoint, readWeights } from '../core/checkpoint/io.ts';
import { openGenerator } from '../core/runtime/open.ts';
import { pgganGenerate } from '../core/models/pggan.ts';
import { weightsToParams, disposeParams, type WeightMap } from '../core/models/params.ts';
import { gaussianArray } from '../core/random.ts';
import { resolveFfmpeg } from '../core/ffmpeg.ts';
import { HEALTHY_DIR, loadRun, runPggan, type RollbackEvent } from '../trainer/pggan/run.ts';
import { testPgganSettings } from './helpers/pggan.ts';
import { GUARD_DEFAULTS, type PgganSettings } from '../trainer/pggan/settings.ts';
import { syntheticPack } from '../trainer/pggan/synthetic.ts';
import { PgganTrainer } from '../trainer/pggan/trainer.ts';

let root: string;
const pack = syntheticPack(48, 8, 5);

/** 4² for 10 steps of 8, an 8² fade of 10 steps, 8² stable for 10: 30 steps. */
const settings = (over: Partial<PgganSettings> = {}): PgganSettings =>
  testPgganSettings({
    arch: { kind: 'pggan', latentSize: 16, channels: 3, maxResolution: 8, widths: [16, 16] },
    data: 'synthetic',
    seed: 3,
    levels: [
      { resolution: 4, batch: 8, lr: 0.002, stabiliseKimg: 0.08, transitionKimg: 0 },
      { resolution: 8, batch: 8, lr: 0.002, stabiliseKimg: 0.08, transitionKimg: 0.08 },
    ],
    mirror: true,
    checkpointEveryKimg: 0.04,
    guard: { ...GUARD_DEFAULTS, everySteps: 2, warmupKimg: 0.016, samples: 32 },
    ...over,
  });

interface LogEntry {
  step?: number;
  event?: string;
  [k: string]: unknown;
}
const readLog = async (dir: string): Promise<LogEntry[]> =>
  (await fs.readFile(path.join(dir, 'log.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as LogEntry);
const stepLines = async (dir: string) => (await readLog(dir)).filter((e) => e.event === undefined).map(({ ms: _ms, ...rest }) => rest);

const base = { pack, samples: false } as const;

function sameWeights(a: WeightMap, b: WeightMap, what: string): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), `${what}: the same tensors`);
  for (const [k, w] of a) assert.ok(Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength).equals(Buffer.from(b.get(k)!.data.buffer, b.get(k)!.data.byteOffset, b.get(k)!.data.byteLength)), `${what}: ${k} bit-identical`);
}

describe('PGGAN runs', () => {
  before(async () => {
    setLogLevel('silent');
    await initBackend('wasm');
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-pggan-'));
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  it('a run stopped mid-transition resumes at the same step and alpha and ends bit-identical to an uninterrupted one', async () => {
    const straight = path.join(root, 'straight');
    const resumed = path.join(root, 'resumed');
    const a = await runPggan({ ...base, settings: settings(), out: straight, resume: false });
    assert.deepEqual([a.step, a.kimg, a.stoppedEarly, a.phase], [30, 0.24, false, { resolution: 8, alpha: 1 }]);

    const b1 = await runPggan({ ...base, settings: settings(), out: resumed, resume: false, maxSteps: 13 });
    assert.deepEqual([b1.step, b1.stoppedEarly], [13, true]);
    const m = (await openCheckpoint(resumed)).manifest;
    assert.deepEqual(m.training, { step: 13, imagesSeen: 104, phase: { resolution: 8, alpha: 0.3 } }, 'the manifest has the phase and alpha');
    assert.equal(m.resolution, 8, 'its generator.onnx is the 8² generator of that phase');
    const loaded = await loadRun(resumed);
    assert.deepEqual([loaded.step, loaded.clock, loaded.run.dataPos], [13, 104, 104]);

    const b2 = await runPggan({ ...base, settings: settings(), out: resumed, resume: true });
    assert.deepEqual([b2.step, b2.stoppedEarly], [30, false]);
    const [wa, wb] = await Promise.all([straight, resumed].map((d) => fs.readFile(path.join(d, 'tfjs', 'weights.bin'))));
    assert.ok(wa!.equals(wb!), 'weights and optimizer state are bit-identical');
    const [la, lb] = [await stepLines(straight), await stepLines(resumed)];
    assert.equal(la.length, 30);
    assert.deepEqual(lb, la, 'the logs agree step by step');
    const alphas = la.map((l) => l['alpha']);
    assert.deepEqual(alphas.slice(9, 21), [1, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1], 'the fade runs 0 → 1 across the resume');
  });

  it('two threads: the steps of one thread (gradients summed by shard), and a two-thread run resumed ends bit-identical to an uninterrupted one', async () => {
    // Minibatch-stddev groups of 1: one pass and two shards then compute the same losses.
    const s = settings({ mbstdGroup: 1, guard: { ...GUARD_DEFAULTS, enabled: false } });
    const one = path.join(root, 'one-thread');
    const two = path.join(root, 'two-threads');
    await runPggan({ ...base, settings: s, out: one, resume: false, maxSteps: 12 });
    const r = await runPggan({ ...base, settings: s, out: two, resume: false, threads: 2 });
    assert.deepEqual([r.step, r.stoppedEarly], [30, false]);
    const [a, b] = [await stepLines(one), await stepLines(two)];
    for (let i = 0; i < 12; i++) {
      for (const k of ['d', 'g', 'wdist', 'gp']) {
        const x = a[i]![k] as number;
        const y = b[i]![k] as number;
        assert.ok(Math.abs(x - y) <= 2e-3 * (1 + Math.abs(x)), `step ${i + 1} ${k}: ${x} on one thread, ${y} on two`);
      }
    }
    const resumed = path.join(root, 'two-threads-resumed');
    await runPggan({ ...base, settings: s, out: resumed, resume: false, threads: 2, maxSteps: 13 });
    await runPggan({ ...base, out: resumed, resume: true, threads: 2 });
    const [wa, wb] = await Promise.all([two, resumed].map((d) => fs.readFile(path.join(d, 'tfjs', 'weights.bin'))));
    assert.ok(wa!.equals(wb!), 'weights and optimizer state bit-identical: the replica kept in step with the main thread across the resume');
    assert.deepEqual(await stepLines(resumed), b, 'the logs agree step by step');
  });

  it('resume stays exact with every new option at once: logistic-R1, DiffAugment, micro-batches, metrics, grey, two threads', async () => {
    const s = settings({
      loss: 'logistic-r1',
      lambdaGp: 0.05,
      r1Every: 3,
      augment: ['color', 'translation', 'cutout'],
      grayscale: true,
      metricsEveryKimg: 0.08,
      mbstdGroup: 2,
      guard: { ...GUARD_DEFAULTS, enabled: false },
    });
    const straight = path.join(root, 'every-option');
    const resumed = path.join(root, 'every-option-resumed');
    const a = await runPggan({ ...base, settings: s, out: straight, resume: false, threads: 2, microBatch: 2 });
    assert.deepEqual([a.step, a.stoppedEarly], [30, false]);
    // Stopped at 13: inside the fade, one step past an R1 step (12) and between metrics.
    await runPggan({ ...base, settings: s, out: resumed, resume: false, threads: 2, microBatch: 2, maxSteps: 13 });
    await runPggan({ ...base, out: resumed, resume: true, threads: 2, microBatch: 2 });
    const [wa, wb] = await Promise.all([straight, resumed].map((d) => fs.readFile(path.join(d, 'tfjs', 'weights.bin'))));
    assert.ok(wa!.equals(wb!), 'weights and optimizer state bit-identical');
    const [la, lb] = [await stepLines(straight), await stepLines(resumed)];
    assert.deepEqual(lb, la, 'the logs agree step by step');
    assert.deepEqual(la.filter((l) => (l['gp'] as number) > 0).length, 10, 'an R1 penalty every third step');
    assert.ok(la.every((l) => l['micro'] === 2), 'every step in passes of 2');
    const metrics = (d: LogEntry[]) => d.filter((e) => e.event === 'metrics').map(({ ms: _ms, at: _at, ...rest }) => rest);
    assert.deepEqual(metrics(await readLog(resumed)), metrics(await readLog(straight)), 'the same metrics at the same steps');
  });

  it('measures SWD and MS-SSIM diversity into the log every --metrics-every-kimg and at each phase change', async () => {
    const out = path.join(root, 'metrics');
    await runPggan({ ...base, settings: settings({ metricsEveryKimg: 0.04, guard: { ...GUARD_DEFAULTS, enabled: false } }), out, resume: false });
    const metrics = (await readLog(out)).filter((e) => e.event === 'metrics');
    // Every 40 images (5 steps of 8) over 240, and the two phase changes (4² → 8² fade, fade → 8² stable).
    assert.deepEqual(metrics.map((m) => m['kimg']), [0.04, 0.08, 0.12, 0.16, 0.2, 0.24], 'at 40, 80 (4² ends), 120, 160 (the fade ends), 200, 240 (done) images');
    assert.deepEqual(metrics.map((m) => m['res']), [4, 4, 8, 8, 8, 8]);
    for (const m of metrics) {
      const swd = m['swd'] as number[];
      assert.ok(swd.length >= 1 && swd.every((v) => Number.isFinite(v) && v > 0), `SWD ${JSON.stringify(swd)}`);
      assert.equal(m['msssim'], null, 'no MS-SSIM below 16²');
    }
  });

  it('--from: a new run on another dataset starts from the trained G and D (fresh Adam), and FreezeD keeps the critic\'s image side fixed', async () => {
    const source = path.join(root, 'transfer-source');
    await runPggan({ ...base, settings: settings({ guard: { ...GUARD_DEFAULTS, enabled: false } }), out: source, resume: false });
    const trained = await readWeights(await openCheckpoint(source));
    const target = path.join(root, 'transfer-target');
    // The source reached 8²: the new run begins there (4² takes no images) and trains on other images, in grey.
    const s = settings({
      from: source,
      freezeD: 1,
      grayscale: true,
      levels: [
        { resolution: 4, batch: 8, lr: 0.002, stabiliseKimg: 0, transitionKimg: 0 },
        { resolution: 8, batch: 8, lr: 0.002, stabiliseKimg: 0.04, transitionKimg: 0 },
      ],
      guard: { ...GUARD_DEFAULTS, enabled: false },
    });
    const started = new PgganTrainer(s, undefined, { weights: trained, where: source });
    try {
      const z = gaussianArray(4 * 16, 3);
      const fromSource = new PgganTrainer(settings(), { ...(await loadRun(source)) });
      const [a, b] = [started.generate(z, 4, { resolution: 8, alpha: 1 }), fromSource.generate(z, 4, { resolution: 8, alpha: 1 })];
      assert.deepEqual(a.dataSync(), b.dataSync(), 'the new run\'s generator is the trained one');
      tf.dispose([a, b]);
      fromSource.dispose();
    } finally {
      started.dispose();
    }
    const r = await runPggan({ ...base, pack: syntheticPack(40, 8, 11), settings: s, out: target, resume: false });
    assert.deepEqual([r.step, r.phase], [5, { resolution: 8, alpha: 1 }], '5 steps of 8 at 8² stable, none at 4²');
    const after = await readWeights(await openCheckpoint(target));
    const bytes = (w: WeightMap, k: string) => Buffer.from(w.get(k)!.data.buffer, w.get(k)!.data.byteOffset, w.get(k)!.data.byteLength);
    const same = (k: string) => bytes(after, k).equals(bytes(trained, k));
    assert.ok(same('d/8/conv0/w') && same('d/8/fromrgb/w'), 'the frozen 8² critic block did not learn');
    assert.ok(!same('d/4/conv/w') && !same('g/8/conv0/w'), 'the rest learned');
    assert.equal((await loadRun(target)).settings.from, source);
  });

  it("the checkpoint's ONNX generator plays the phase it was saved at", async () => {
    const out = path.join(root, 'onnx');
    await runPggan({ ...base, settings: settings(), out, resume: false, maxSteps: 15 });
    const ckpt = await openCheckpoint(out);
    const phase = ckpt.manifest.training!.phase!;
    assert.deepEqual(phase, { resolution: 8, alpha: 0.5 });
    const loaded = await loadRun(out);
    const z = gaussianArray(4 * 16, 9);
    const params = weightsToParams(loaded.state);
    const expected = tf.tidy(() => pgganGenerate(loaded.settings.arch, params, tf.tensor2d(z, [4, 16]), phase).dataSync());
    disposeParams(params);
    const gen = await openGenerator(out);
    try {
      assert.deepEqual([gen.info.width, gen.info.height], [8, 8]);
      const got = await gen.generateFloat(z, 4);
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(got.data[i]! - expected[i]!));
      assert.ok(worst < 1e-4, `ONNX Runtime and tfjs agree at ${phase.resolution}² α ${phase.alpha} (max diff ${worst})`);
    } finally {
      await gen.dispose();
    }
  });

  it('writes a sample grid per checkpoint and a grid and an interpolation video per phase', async () => {
    const out = path.join(root, 'samples');
    const tensors = tf.memory().numTensors;
    await runPggan({ ...base, settings: settings(), out, resume: false, samples: true });
    assert.equal(tf.memory().numTensors, tensors, 'a whole run (steps, guard, checkpoints, grids, videos) leaves no tensor behind');
    const dir = path.join(out, 'samples');
    const files = (await fs.readdir(dir)).sort();
    const hasFfmpeg = await resolveFfmpeg().then(() => true, () => false);
    const stems = ['r0004-stable', 'r0008-fade', 'r0008-stable'];
    assert.deepEqual(files.filter((f) => f.endsWith('.png')), ['latest.png', ...stems.map((s) => `${s}.png`)]);
    if (hasFfmpeg) assert.deepEqual(files.filter((f) => f.endsWith('.mp4')), stems.map((s) => `${s}.mp4`));
    const meta = await sharp(path.join(dir, 'r0008-stable.png')).metadata();
    assert.ok(meta.width! >= 512, `the grid is scaled up to be visible (${meta.width} px)`);
    const phases = (await readLog(out)).filter((e) => e.event === 'phase').map((e) => e['ended']);
    assert.deepEqual(phases, [{ res: 4, kind: 'stabilise' }, { res: 8, kind: 'transition' }, { res: 8, kind: 'stabilise' }]);
  });

  it('Ctrl-C stops after the current step with a checkpoint that resumes', async () => {
    const out = path.join(root, 'interrupted');
    const controller = new AbortController();
    const hooks = { afterStep: (t: PgganTrainer) => (t.step === 4 ? controller.abort() : undefined) };
    const r = await runPggan({ ...base, settings: settings(), out, resume: false, signal: controller.signal, hooks });
    assert.deepEqual([r.step, r.stoppedEarly], [4, true]);
    assert.equal((await openCheckpoint(out)).manifest.training?.step, 4);
    const r2 = await runPggan({ ...base, settings: settings(), out, resume: true, maxSteps: 3 });
    assert.equal(r2.step, 7);
  });

  it('--resume shortens stages not yet begun, stretches the stabilisation under way, and refuses what would move alpha', async () => {
    const out = path.join(root, 'reshaped');
    await runPggan({ ...base, settings: settings(), out, resume: false, maxSteps: 4 });
    const refused = (overrides: { stabiliseKimg?: string; transitionKimg?: string }, message: RegExp) =>
      assert.rejects(runPggan({ ...base, out, resume: true, overrides }), (e: Error & { code?: string }) => e.code === 'BAD_OPTION' && message.test(e.message));
    await refused({ stabiliseKimg: '4:0.02' }, /stabilisation at 4² has run 0\.03 kimg already, more than 0\.02/);
    // A single value leaves 4²'s stabilisation (under way) alone: 10 steps at 4², a 5-step fade, 2 steps stable.
    const r = await runPggan({ ...base, out, resume: true, overrides: { transitionKimg: '0.04', stabiliseKimg: '0.016' } });
    assert.equal(r.step, 17);
    const alphas = (await stepLines(out)).map((l) => l['alpha']);
    assert.deepEqual(alphas.slice(9), [1, 0, 0.2, 0.4, 0.6, 0.8, 1, 1], 'the fade of 5 steps, then 2 stable');
    const levels = (await loadRun(out)).settings.levels;
    assert.deepEqual(levels.map((l) => [l.stabiliseKimg, l.transitionKimg]), [[0.08, 0], [0.016, 0.04]], 'the checkpoint keeps the new lengths');
    await refused({ stabiliseKimg: '4:0.2' }, /stabilise at 4² has ended/);
    await refused({ transitionKimg: '8:0.2' }, /transition at 8² has already begun/);

    // Named, the stabilisation under way runs longer: 15 steps at 4² instead of 10, then the same fade.
    const stretched = path.join(root, 'stretched');
    await runPggan({ ...base, settings: settings(), out: stretched, resume: false, maxSteps: 4 });
    const s = await runPggan({ ...base, out: stretched, resume: true, overrides: { stabiliseKimg: '4:0.12' } });
    assert.equal(s.step, 35);
    assert.deepEqual((await stepLines(stretched)).map((l) => l['alpha']).slice(13, 17), [1, 1, 0, 0.1]);
  });

  it('--batch changes on resume from the current resolution on; --micro-batch splits steps and the run still ends where it should', async () => {
    const out = path.join(root, 'rebatched');
    await runPggan({ ...base, settings: settings(), out, resume: false, maxSteps: 4 });
    // The schedule counts images: 4² continues with steps of 4 where it left off (32 of its 80 images done).
    const r = await runPggan({ ...base, out, resume: true, overrides: { batch: '4' }, microBatch: 2 });
    assert.deepEqual([r.step, r.kimg, r.stoppedEarly], [4 + 12 + 20 + 20, 0.24, false]);
    const lines = await stepLines(out);
    assert.deepEqual(lines.slice(3, 6).map((l) => [l['kimg'], l['micro']]), [[0.032, undefined], [0.036, 2], [0.04, 2]], 'steps of 4 in passes of 2 after the resume');
    assert.ok(lines.every((l) => Number.isFinite(l['d']) && Number.isFinite(l['g'])), 'finite losses throughout');
    assert.deepEqual((await loadRun(out)).settings.levels.map((l) => l.batch), [4, 4], 'the checkpoint keeps the new minibatch');

    const later = path.join(root, 'rebatched-later');
    await runPggan({ ...base, settings: settings(), out: later, resume: false, maxSteps: 12 });
    await assert.rejects(
      runPggan({ ...base, out: later, resume: true, overrides: { batch: '4:2' } }),
      (e: Error & { code?: string }) => e.code === 'BAD_OPTION' && /left 4² behind/.test(e.message),
    );
  });

  it('the collapse guard stays quiet on a healthy run and keeps a healthy checkpoint', async () => {
    const out = path.join(root, 'healthy-run');
    const r = await runPggan({ ...base, settings: settings(), out, resume: false });
    const log = await readLog(out);
    const checks = log.filter((e) => e.event === 'guard');
    const ratios = checks.filter((e) => e['verdict'] !== 'warmup').map((e) => e['ratio'] as number);
    assert.equal(checks.length, 15, 'measured every 2 steps');
    assert.deepEqual(log.filter((e) => e.event === 'collapse'), [], `no collapse; ratios ${ratios.join(', ')}`);
    assert.ok(ratios.every((v) => v >= 0.5), `diversity stayed above half the real data's: ${ratios.join(', ')}`);
    assert.equal(r.rollbacks, 0);
    assert.ok(existsSync(path.join(out, HEALTHY_DIR, 'manifest.json')), 'a healthy copy was kept');
  });

  it('on a forced collapse the guard rolls back to the healthy checkpoint, applies the remedy, and training goes on', async () => {
    const out = path.join(root, 'collapse');
    const snapshot = path.join(root, 'collapse-healthy-snapshot');
    let healthyStep = -1;
    let sabotaged = false;
    const events: { event: RollbackEvent; state: WeightMap; step: number; lr: number; lambdaGp: number; transitionKimg: number }[] = [];
    const hooks = {
      afterStep: (t: PgganTrainer) => {
        // Remember the healthy copy the run keeps, to compare with what a rollback restores.
        const file = path.join(out, HEALTHY_DIR, 'manifest.json');
        if (events.length === 0 && existsSync(file)) {
          const step = (JSON.parse(readFileSync(file, 'utf8')) as { training: { step: number } }).training.step;
          if (step !== healthyStep) {
            healthyStep = step;
            rmSync(snapshot, { recursive: true, force: true });
            cpSync(path.join(out, HEALTHY_DIR), snapshot, { recursive: true });
          }
        }
        // From step 12 the critic is frozen and the generator's rate absurd: G chases one point of a fixed critic.
        if (t.step === 12 && events.length === 0) {
          t.settings.lrScaleD = 0;
          t.settings.lrScaleG = 50;
          sabotaged = true;
        }
      },
      onRollback: async (event: RollbackEvent, t: PgganTrainer) => {
        const p = t.point();
        events.push({ event, state: await t.state(), step: t.step, lr: t.run.levels[p.stage.level]!.lr, lambdaGp: t.run.lambdaGp, transitionKimg: t.run.levels[1]!.transitionKimg });
        t.settings.lrScaleD = 1;
        t.settings.lrScaleG = 1;
      },
    };
    const guard = { ...settings().guard, remedy: { lr: 0.5, gp: 2, fade: 1.5 } };
    const r = await runPggan({ ...base, settings: settings({ guard }), out, resume: false, hooks });
    assert.ok(sabotaged);
    assert.equal(events.length, 1, 'the guard fired once');
    const [{ event, state, step, lr, lambdaGp, transitionKimg }] = events as [(typeof events)[0]];
    assert.ok(event.detectedAt > 12 && event.ratio < 0.5, `detected at step ${event.detectedAt}, diversity ratio ${event.ratio}`);
    assert.equal(event.rolledBackTo, healthyStep, 'rolled back to the last healthy checkpoint');
    assert.ok(healthyStep <= 12 + 2 * 3, `healthy step ${healthyStep}`);
    assert.equal(step, healthyStep);
    sameWeights(state, (await loadRun(snapshot)).state, 'restored state');
    assert.deepEqual([lr, lambdaGp], [0.001, 20], 'remedy: lr × 0.5, λ_gp × 2');
    assert.equal(transitionKimg, 0.08 * 1.5, 'remedy: the 8² fade (in progress or next) is 1.5× longer');
    const log = await readLog(out);
    const collapse = log.filter((e) => e.event === 'collapse');
    assert.equal(collapse.length, 1);
    assert.equal(collapse[0]!['rolledBackTo'], healthyStep);
    assert.deepEqual([r.stoppedEarly, r.gaveUp, r.rollbacks], [false, false, 1], 'training went on to the end');
    assert.equal((await loadRun(out)).run.rollbacks, 1, 'the checkpoint remembers the rollback');
  });

  it('a collapse before any healthy checkpoint applies the remedy in place and starts a new window', async () => {
    const out = path.join(root, 'early-collapse');
    const events: RollbackEvent[] = [];
    const hooks = {
      afterStep: (t: PgganTrainer) => {
        if (events.length === 0) {
          t.settings.lrScaleD = 0;
          t.settings.lrScaleG = 50;
        }
      },
      onRollback: (event: RollbackEvent, t: PgganTrainer) => {
        events.push(event);
        t.settings.lrScaleD = 1;
        t.settings.lrScaleG = 1;
      },
    };
    const guard = { ...settings().guard, warmupKimg: 0 };
    // 30 steps at 4² before the first checkpoint (a phase change): the collapse comes first.
    const s = settings({ guard, checkpointEveryKimg: 0 });
    s.levels[0]!.stabiliseKimg = 0.24;
    const r = await runPggan({ ...base, settings: s, out, resume: false, hooks });
    const [first, second] = events;
    assert.ok(first && first.detectedAt < 30, `detected at step ${first?.detectedAt}, before the first checkpoint`);
    assert.equal(first.rolledBackTo, null, 'nothing to roll back to');
    assert.deepEqual(first.remedy?.lr, [0.002, 0.001], 'the remedy was applied in place');
    // The collapsed weights stay (there is nothing to go back to), so low diversity may be seen again: but only
    // after a full new window of measurements, never at the very next one.
    if (second) assert.ok(second.detectedAt - first.detectedAt >= guard.window * guard.everySteps, `next detection at ${second.detectedAt}`);
    assert.equal(r.rollbacks, events.filter((e) => !e.gaveUp).length);
  });

  it('a collapse that persists through maxRollbacks stops the run at the last healthy checkpoint', async () => {
    const out = path.join(root, 'gives-up');
    const hooks = {
      afterStep: (t: PgganTrainer) => {
        if (t.step >= 12) {
          t.settings.lrScaleD = 0;
          t.settings.lrScaleG = 50;
        }
      },
    };
    const r = await runPggan({ ...base, settings: settings({ guard: { ...settings().guard, maxRollbacks: 1 } }), out, resume: false, hooks });
    assert.deepEqual([r.stoppedEarly, r.gaveUp, r.rollbacks], [true, true, 1]);
    const collapse = (await readLog(out)).filter((e) => e.event === 'collapse');
    assert.deepEqual(collapse.map((e) => e['gaveUp']), [false, true]);
    const main = await loadRun(out);
    const healthy = await loadRun(path.join(out, HEALTHY_DIR));
    assert.equal(main.step, healthy.step, 'the run stopped at the healthy checkpoint, ready for --resume with other settings');
    assert.equal(main.step, r.step);
  });
});
