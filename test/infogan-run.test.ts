// A whole InfoGAN run on a tiny IDX dataset: checkpoints, exact resume, Ctrl-C, samples and animation.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { after, before, describe, it } from 'node:test';
import { initBackend } from '../core/backend.ts';
import { setLogLevel } from '../core/log.ts';
import { openCheckpoint } from '../core/checkpoint/io.ts';
import { openGenerator } from '../core/runtime/open.ts';
import { infoganArch } from '../core/models/architectures.ts';
import { runInfogan } from '../trainer/infogan/run.ts';
import { InfoganTrainer } from '../trainer/infogan/trainer.ts';
import { readWeights } from '../core/checkpoint/io.ts';
import type { WeightMap } from '../core/models/params.ts';
import { INFOGAN_DEFAULTS, type InfoganSettings } from '../trainer/infogan/settings.ts';
import { rejectsWith } from './helpers/assert.ts';

let root: string;
let data: string;

/** 48 IDX images of bright bars at positions set by the index, 28×28. */
async function writeIdx(file: string, shift = 0): Promise<void> {
  const n = 48;
  const header = Buffer.alloc(16);
  header.writeUInt32BE(0x00000803, 0);
  header.writeUInt32BE(n, 4);
  header.writeUInt32BE(28, 8);
  header.writeUInt32BE(28, 12);
  const pixels = Buffer.alloc(n * 784);
  for (let i = 0; i < n; i++) for (let y = 4; y < 24; y++) for (let x = 0; x < 4; x++) pixels[i * 784 + (shift ? x + 12 : y) * 28 + (shift ? y : ((i * 3) % 24) + x)] = 255;
  await fs.writeFile(file, Buffer.concat([header, pixels]));
}

const settings = (epochs: number): InfoganSettings => ({
  trainer: 'infogan',
  arch: infoganArch(28, { noise: 4, categorical: [3], continuous: 1, fcUnits: 32, widths: [8, 4] }),
  disc: { widths: [4, 8], fcUnits: 32, qUnits: 16, learnVariance: false },
  batch: 8,
  freezeD: 0,
  ...INFOGAN_DEFAULTS,
  seed: 5,
  epochs,
  data,
});

const logSteps = async (dir: string) =>
  (await fs.readFile(path.join(dir, 'log.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => 'step' in e)
    .map(({ ms: _ms, ...rest }) => rest);

describe('InfoGAN runs', () => {
  before(async () => {
    setLogLevel('silent');
    await initBackend('wasm');
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-run-'));
    await writeIdx(path.join(root, 'bars-idx3-ubyte'));
    data = `idx:${path.join(root, 'bars-idx3-ubyte')}`;
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  const base = { cacheDir: path.join(os.tmpdir(), 'rhodops-run-cache'), samples: false } as const;

  it('a run stopped and resumed ends exactly where an uninterrupted run ends', async () => {
    const straight = path.join(root, 'straight');
    const resumed = path.join(root, 'resumed');
    const a = await runInfogan({ ...base, settings: settings(2), out: straight, resume: false });
    assert.equal(a.step, 12);
    const b1 = await runInfogan({ ...base, settings: settings(2), out: resumed, resume: false, maxSteps: 5 });
    assert.deepEqual([b1.step, b1.stoppedEarly], [5, true]);
    const b2 = await runInfogan({ ...base, settings: settings(2), out: resumed, resume: true });
    assert.equal(b2.step, 12);
    const [wa, wb] = await Promise.all([straight, resumed].map((d) => fs.readFile(path.join(d, 'tfjs', 'weights.bin'))));
    assert.ok(wa!.equals(wb!), 'weights and optimizer state are bit-identical');
    assert.deepEqual(await logSteps(resumed), await logSteps(straight), 'the logs agree step by step');
    assert.equal((await logSteps(straight)).length, 12);
  });

  it('Ctrl-C stops after the current step with a checkpoint that resumes', async () => {
    const out = path.join(root, 'interrupted');
    const controller = new AbortController();
    controller.abort();
    const r = await runInfogan({ ...base, settings: settings(2), out, resume: false, signal: controller.signal });
    assert.deepEqual([r.step, r.stoppedEarly], [1, true]);
    const ckpt = await openCheckpoint(out);
    assert.equal(ckpt.manifest.training?.step, 1);
    assert.equal(ckpt.manifest.training?.imagesSeen, 8);
  });

  it('refuses to start a new run over an existing one', async () => {
    const out = path.join(root, 'taken');
    await runInfogan({ ...base, settings: settings(1), out, resume: false, maxSteps: 1 });
    await rejectsWith(runInfogan({ ...base, settings: settings(1), out, resume: false }), 'CHECKPOINT_EXISTS', out);
  });

  it('writes sample sheets every epoch, a servable generator, and an animation at the end', async () => {
    const out = path.join(root, 'pictures');
    await runInfogan({ ...base, samples: true, settings: settings(2), out, resume: false });
    const files = (await fs.readdir(path.join(out, 'samples'))).sort();
    for (const f of ['cat0.png', 'cat0-e0001.png', 'cat0-e0002.png', 'cont0.png', 'cat0.gif', 'cont0.gif']) assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
    // 10 rows × 3 code values of 28² digits, each scaled by a whole factor so the grid is ≥ 512 px wide, 2-px gaps.
    const meta = await sharp(path.join(out, 'samples', 'cat0.png')).metadata();
    const scale = (meta.width! - 2 - 3 * 2) / (3 * 28);
    assert.ok(Number.isInteger(scale) && meta.width! >= 512, `${meta.width} px wide`);
    assert.equal(meta.height, 10 * (28 * scale + 2) + 2);
    const gif = await sharp(path.join(out, 'samples', 'cat0.gif'), { animated: true }).metadata();
    assert.equal(gif.pages, 3, 'two epochs, the last held');
    const gen = await openGenerator(out);
    assert.deepEqual(gen.info.latent.categorical, [3]);
    const frame = await gen.generate(new Float32Array(gen.info.latent.size), 1);
    assert.equal(frame.data.length, 28 * 28 * 3);
    await gen.dispose();
  });

  it('--from: a new run on another dataset starts from the trained G, D and Q (fresh Adam), and FreezeD keeps the first conv fixed', async () => {
    const source = path.join(root, 'transfer-source');
    await runInfogan({ ...base, settings: settings(1), out: source, resume: false });
    const trained = await readWeights(await openCheckpoint(source));
    const other = path.join(root, 'across-idx3-ubyte');
    await writeIdx(other, 1); // horizontal bars instead of vertical ones
    const s: InfoganSettings = { ...settings(1), data: `idx:${other}`, from: source, freezeD: 1, seed: 9 };
    const bytes = (w: WeightMap, k: string) => Buffer.from(w.get(k)!.data.buffer, w.get(k)!.data.byteOffset, w.get(k)!.data.byteLength);
    const started = new InfoganTrainer(s, undefined, { weights: trained, where: source });
    try {
      const w = new Map([...(await started.state())].filter(([k]) => !k.startsWith('opt/')));
      for (const k of w.keys()) assert.ok(bytes(w, k).equals(bytes(trained, k)), `${k} starts as the trained one`);
      assert.ok([...(await started.state()).keys()].some((k) => k.startsWith('opt/')), 'with optimizer state of its own');
    } finally {
      started.dispose();
    }
    const target = path.join(root, 'transfer-target');
    const r = await runInfogan({ ...base, settings: s, out: target, resume: false });
    assert.equal(r.step, 6);
    const after = await readWeights(await openCheckpoint(target));
    const same = (k: string) => bytes(after, k).equals(bytes(trained, k));
    assert.ok(same('d/conv0/w') && same('d/conv0/b'), 'the frozen first conv did not learn');
    assert.ok(!same('d/conv1/w') && !same('g/fc1/w') && !same('g/deconv1/w'), 'the rest learned');
    const m = (await openCheckpoint(target)).manifest.settings as InfoganSettings;
    assert.deepEqual([m.from, m.freezeD, m.data], [source, 1, `idx:${other}`]);
  });
});
