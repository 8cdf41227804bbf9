// `rhodops train pggan` as a user runs it (the real command, a real pack): what --resume accepts and refuses,
// and one writer per run folder.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { pack } from '../trainer/prepare/pack.ts';
import { loadRun } from '../trainer/pggan/run.ts';
import { runRhodops } from './helpers/processes.ts';
import { tinyPack } from './helpers/pggan.ts';
import { setLogLevel } from '../core/log.ts';

describe('rhodops train pggan (the command)', () => {
  let root: string;
  let data: string;
  let out: string;
  const run = (extra: string[]) => runRhodops(['train', 'pggan', '--out', out, '--backend', 'wasm', '--threads', '1', '--no-samples', '--metrics-every-kimg', '0', ...extra]);

  before(async () => {
    setLogLevel('silent');
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-train-cli-'));
    data = await tinyPack(root);
    out = path.join(root, 'run');
    const first = await run(['--data', data, '--resolution', '8', '--widths', '8,8', '--batch', '4', '--stabilise-kimg', '0.008', '--transition-kimg', '0.008', '--seed', '1']);
    assert.equal(first.code, 0, first.stderr);
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  it('the run keeps a report.html; --report writes it again, prints where, and says so when no browser opens', async () => {
    const file = path.join(out, 'report.html');
    const html = await fs.readFile(file, 'utf8');
    assert.match(html, /<svg/, 'curves drawn');
    assert.match(html, /data:image\/png;base64,|no sample/i);
    // No opener on the PATH: the command must still succeed and say where the file is.
    const shown = await runRhodops(['train', 'pggan', '--out', out, '--report'], { ...process.env, PATH: '/nonexistent' });
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(shown.stdout.trim(), file);
    assert.match(shown.stderr, /no browser could be opened here/);
  });

  it('--from starts a new run where the source got to, with its widths, on the data given', async () => {
    const target = path.join(root, 'transfer');
    const r = await runRhodops(['train', 'pggan', '--out', target, '--from', out, '--data', data, '--resolution', '8', '--freeze-d', '1', '--grayscale', '--batch', '4', '--stabilise-kimg', '0.008', '--backend', 'wasm', '--threads', '1', '--no-samples', '--metrics-every-kimg', '0']);
    assert.equal(r.code, 0, r.stderr);
    const run = await loadRun(target);
    assert.equal(run.settings.from, out);
    assert.deepEqual(run.settings.arch, (await loadRun(out)).settings.arch);
    assert.deepEqual(run.settings.levels.map((l) => [l.resolution, l.stabiliseKimg, l.transitionKimg]), [[4, 0, 0], [8, 0.008, 0]], 'no images at 4², no fade: straight to 8²');
    assert.deepEqual([run.settings.grayscale, run.settings.freezeD], [true, 1]);
    const refused = await runRhodops(['train', 'pggan', '--out', path.join(root, 'nope'), '--data', data, '--resolution', '8', '--freeze-d', '1']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--freeze-d.*needs --from/);
  });

  it('--resume refuses an option that would make another run, by name, and accepts one equal to the run\'s own', async () => {
    const other = await run(['--resume', '--seed', '2']);
    assert.equal(other.code, 2, other.stderr);
    assert.match(other.stderr, /--seed.*differs from the run.s own/);
    const same = await run(['--resume', '--seed', '1', '--data', data, '--widths', '8,8', '--final-kimg', '0.016']);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /^done: step \d+/);
  });

  it('one writer per run folder: a live process holding it is named; a dead one\'s lock is taken over', async () => {
    const lock = path.join(out, '.rhodops-lock');
    await fs.writeFile(lock, JSON.stringify({ pid: process.pid, host: os.hostname(), since: 'now' }));
    const busy = await run(['--resume', '--final-kimg', '0.024']);
    assert.equal(busy.code, 2, busy.stderr);
    assert.match(busy.stderr, new RegExp(`RUN_IN_USE|being trained by process ${process.pid}`));
    // A pid that cannot be running (above the kernel's maximum).
    await fs.writeFile(lock, JSON.stringify({ pid: 2 ** 30, host: os.hostname(), since: 'then' }));
    const taken = await run(['--resume', '--final-kimg', '0.024']);
    assert.equal(taken.code, 0, taken.stderr);
    assert.match(taken.stderr, /taking over the lock/);
    await assert.rejects(fs.stat(lock), 'the lock is gone when the run ends');
  });

  it('eval refuses what its classifier cannot judge: a PGGAN, a code the model lacks, another dataset than the model\'s', async () => {
    const models = path.resolve(import.meta.dirname, '..', 'presets', 'models');
    const pggan = await runRhodops(['eval', path.join(models, 'pggan-wallpapers')]);
    assert.equal(pggan.code, 2, pggan.stderr);
    assert.match(pggan.stderr, /cannot judge .*a PGGAN/);
    const code = await runRhodops(['eval', path.join(models, 'infogan-mnist'), '--code', '3']);
    assert.equal(code.code, 2);
    assert.match(code.stderr, /has 1 categorical code, so no code 3/);
    const other = await runRhodops(['eval', path.join(models, 'infogan-mnist'), '--data', 'svhn:/nowhere']);
    assert.equal(other.code, 2);
    assert.match(other.stderr, /trained on mnist, and the judging classifier would learn svhn:\/nowhere/);
  });

  it('train infogan --from takes the source\'s architecture and refuses what would contradict it', async () => {
    const models = path.resolve(import.meta.dirname, '..', 'presets', 'models');
    const ig = path.join(root, 'infogan-from');
    const pggan = await runRhodops(['train', 'infogan', '--from', out, '--out', ig]);
    assert.equal(pggan.code, 2, pggan.stderr);
    assert.match(pggan.stderr, /--from .* is not an InfoGAN run \(it is a PGGAN\)/);
    const size = await runRhodops(['train', 'infogan', '--from', path.join(models, 'infogan-mnist'), '--size', '32', '--out', ig]);
    assert.equal(size.code, 2);
    assert.match(size.stderr, /--size comes from --from/);
    const frozen = await runRhodops(['train', 'infogan', '--freeze-d', '1', '--out', ig]);
    assert.equal(frozen.code, 2);
    assert.match(frozen.stderr, /--freeze-d needs --from/);
  });

  it('a resume over a pack made again (another image stream) is refused, naming both packs and the way out', async () => {
    await pack({ input: path.join(root, 'images'), out: data, force: true, progress: false });
    const r = await run(['--resume', '--final-kimg', '0.05']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /is not the pack this run was trained on/);
    assert.match(r.stderr, /--from /);
  });
});

describe('rhodops train pggan: the defaults through 256²', () => {
  let root: string;
  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-train-256-'));
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  // The wasm heap (4 GB) used to abort the default widths at the paper's minibatch entering 64²: every phase
  // change to 256² must pass, one step or two per stage, with nothing but the defaults (mid widths, the paper's
  // minibatch, --micro-batch auto, --threads auto).
  it('the default widths and minibatch pass every phase change up to 256², splitting steps where the heap needs it', async () => {
    const images = path.join(root, 'images');
    await fs.mkdir(images);
    for (let i = 0; i < 16; i++) {
      const px = Buffer.from(Array.from({ length: 256 * 256 * 3 }, (_, k) => ((k % 768) * (i + 1) + (k >> 10) * 7) % 256));
      await sharp(px, { raw: { width: 256, height: 256, channels: 3 } }).png().toFile(path.join(images, `i${i}.png`));
    }
    const data = path.join(root, 'pack');
    await pack({ input: images, out: data, progress: false });
    const out = path.join(root, 'run');
    const r = await runRhodops(['train', 'pggan', '--data', data, '--resolution', '256', '--out', out, '--stabilise-kimg', '0.016', '--transition-kimg', '0.016', '--no-samples', '--metrics-every-kimg', '0', '--backend', 'wasm']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^done: /m);
    const run = await loadRun(out);
    assert.equal(run.settings.arch.maxResolution, 256);
    assert.deepEqual(run.settings.levels.map((l) => l.batch), [16, 16, 16, 16, 16, 16, 14], "the paper's minibatches");
    const steps = (await fs.readFile(path.join(out, 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e['event'] === undefined);
    const reached = [...new Set(steps.map((s) => s['res']))];
    assert.deepEqual(reached, [4, 8, 16, 32, 64, 128, 256], 'every resolution trained');
    assert.ok(steps.every((s) => Number.isFinite(s['d']) && Number.isFinite(s['g'])), 'finite losses');
    assert.ok(steps.some((s) => s['res'] === 256 && typeof s['micro'] === 'number'), 'the 256² steps are split into micro-batches');
  });
});
