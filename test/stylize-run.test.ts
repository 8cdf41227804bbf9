// `dataset stylize`: the plan of the seed's phases (coverage, dark/light, round robin, reproducible and only
// appended to), and whole runs on real files: resume without redoing, corrupt styles named and skipped, a
// manifest that says what made each image, a contact sheet, and a rerun with other options refused.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { after, before, describe, it } from 'node:test';
import { initBackend } from '../core/backend.ts';
import { setLogLevel } from '../core/log.ts';
import { defaultPlanOptions, planJobs, styleUses, type Job } from '../trainer/stylize/plan.ts';
import { runStylize, type ManifestEntry, type StylizeRunOptions } from '../trainer/stylize/run.ts';
import { rng } from '../core/random.ts';
import { rejectsWith } from './helpers/assert.ts';

const luminances = (n: number, seed: number) => {
  const r = rng(seed);
  return Array.from({ length: n }, () => r());
};
const styleIndexes = (j: Job) => j.styles.map((s) => (s.ref.kind === 'style' ? s.ref.index : -1));

describe('stylize plan', () => {
  it('the collect phase uses every style, 1–5 at a time, with blend weights that sum to 1', () => {
    for (const n of [1, 2, 7, 70]) {
      for (const seed of [1, 2, 3]) {
        const jobs = planJobs({ styleLuminance: luminances(n, seed), contentCount: 0 }, defaultPlanOptions(n, seed));
        const collect = jobs.filter((j) => j.phase === 'collect');
        assert.ok(styleUses(collect, n).every((u) => u > 0), `n ${n} seed ${seed}: every style used in collect`);
        for (const j of collect) {
          assert.ok(j.styles.length >= 1 && j.styles.length <= Math.min(5, n));
          assert.ok(Math.abs(j.styles.reduce((a, s) => a + s.weight, 0) - 1) < 1e-9);
          if (n > 5) assert.ok(j.content.kind === 'style' && !styleIndexes(j).includes(j.content.index), 'a content image is not among its own styles');
        }
        if (n === 70) {
          // The coupon collector with 3 styles a draw on average: about n·H(n)/3 ≈ 113 draws, plus the extras.
          assert.ok(collect.length > 70 && collect.length < 250, `${collect.length} collect draws for 70 styles`);
          const uses = styleUses(collect, n);
          const mean = uses.reduce((a, b) => a + b, 0) / n;
          assert.ok(Math.min(...uses) >= mean / 2 - 1, 'the least-used styles were drawn again');
        }
      }
    }
  });

  it('dark/light draws content and styles within one half of the styles by luminance; round robin styles each of three with the other two', () => {
    const n = 12;
    const lum = luminances(n, 4);
    const jobs = planJobs({ styleLuminance: lum, contentCount: 0 }, defaultPlanOptions(n, 4));
    const median = [...lum].sort((a, b) => a - b)[n / 2 - 1]!;
    for (const j of jobs.filter((x) => x.phase === 'dark-light')) {
      const used = [...styleIndexes(j), j.content.kind === 'style' ? j.content.index : -1];
      const dark = used.map((i) => lum[i]! <= median);
      assert.ok(dark.every((d) => d === dark[0]), `${j.id} stays within one half`);
    }
    const rr = jobs.filter((j) => j.phase === 'round-robin');
    assert.equal(rr.length, 3 * Math.ceil(n / 3));
    for (let t = 0; t < rr.length; t += 3) {
      const trio = rr.slice(t, t + 3);
      const contents = trio.map((j) => (j.content.kind === 'style' ? j.content.index : -1));
      assert.equal(new Set(contents).size, 3);
      for (const j of trio) assert.deepEqual(styleIndexes(j).sort(), contents.filter((c) => c !== (j.content as { index: number }).index).sort());
    }
    const feedback = jobs.filter((j) => j.phase === 'feedback');
    assert.ok(feedback.every((j) => j.content.kind === 'made' && j.styles.length >= 2 && j.styles.length <= 3));
    const earlier = new Set<string>();
    for (const j of jobs) {
      for (const ref of [j.content, ...j.styles.map((s) => s.ref)]) if (ref.kind === 'made') assert.ok(earlier.has(ref.id), `${j.id} uses ${ref.id}, planned before it`);
      earlier.add(j.id);
    }
  });

  it('the same seed plans the same pastiches; a larger phase only appends to it', () => {
    const lum = luminances(9, 5);
    const base = defaultPlanOptions(9, 5);
    const a = planJobs({ styleLuminance: lum, contentCount: 0 }, base);
    assert.deepEqual(planJobs({ styleLuminance: lum, contentCount: 0 }, base), a);
    const more = planJobs({ styleLuminance: lum, contentCount: 0 }, { ...base, feedback: base.feedback + 4, darkLight: base.darkLight + 3 });
    const byId = new Map(more.map((j) => [j.id, j]));
    for (const j of a) assert.deepEqual(byId.get(j.id), j, `${j.id} unchanged`);
    assert.equal(more.length, a.length + 7);
    assert.notDeepEqual(planJobs({ styleLuminance: lum, contentCount: 0 }, { ...base, seed: 6 }), a);
  });
});

describe('dataset stylize runs', () => {
  let root: string;
  // Cheap engine settings: the run's own behaviour is under test here, the transfer in stylize.test.ts.
  const cheap = { patchSizes: [5], iterations: 1, irlsIterations: 1, maxStylePatches: 256, pcaDims: 8 };
  const opts = (over: Partial<StylizeRunOptions> = {}): StylizeRunOptions => ({
    styles: path.join(root, 'styles'),
    out: path.join(root, 'out'),
    size: 32,
    seed: 1,
    counts: { feedback: 2, darkLight: 2, roundRobin: 1 },
    startSizes: [16, 24],
    threads: 1,
    progress: false,
    engine: cheap,
    ...over,
  });

  before(async () => {
    setLogLevel('silent');
    await initBackend('wasm');
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-stylize-'));
    await fs.mkdir(path.join(root, 'styles'));
    for (let i = 0; i < 4; i++) {
      const px = Buffer.from(Array.from({ length: 48 * 40 * 3 }, (_, k) => (((k / 3) % 48 < 24 ? 40 : 200) + i * 13 + (k % 3) * 20) % 256));
      await sharp(px, { raw: { width: 48, height: 40, channels: 3 } }).png().toFile(path.join(root, 'styles', `s${i}.png`));
    }
    await fs.writeFile(path.join(root, 'styles', 'broken.jpg'), 'not a JPEG');
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  it('makes every planned pastiche, names and skips a corrupt style, and writes a manifest and a contact sheet', async () => {
    const r = await runStylize(opts());
    assert.deepEqual(r.skipped.map((s) => path.basename(s.file)), ['broken.jpg']);
    assert.ok(r.skipped[0]!.reason.length > 0);
    assert.equal(r.made, r.planned);
    assert.ok(r.coverage.every((c) => c.uses > 0) && r.coverage.length === 4, 'every readable style used');
    const manifest = JSON.parse(await fs.readFile(r.manifest, 'utf8')) as { images: ManifestEntry[]; phases: Record<string, number> };
    assert.equal(manifest.images.length, r.planned);
    assert.deepEqual(Object.keys(manifest.phases), ['collect', 'feedback', 'dark-light', 'round-robin']);
    assert.ok(manifest.phases['round-robin'] === 3 && manifest.phases['feedback'] === 2);
    for (const e of manifest.images) {
      const meta = await sharp(path.join(r.out, e.file)).metadata();
      assert.match(e.file, /^pastiches\//);
      assert.deepEqual([meta.width, meta.height], [32, 32], e.file);
      assert.ok(e.styles.length >= 1 && e.styles.every((s) => /^s\d\.png$|^pastiches\/(collect|feedback)-\d{4}\.png$/.test(s.image)), JSON.stringify(e));
    }
    assert.ok(manifest.images.filter((e) => e.phase === 'feedback').every((e) => /^pastiches\/collect-/.test(e.content)), 'feedback restyles a pastiche');
    const sheet = await sharp(r.sheet).metadata();
    assert.ok((sheet.width ?? 0) >= 512);
  });

  it('a rerun keeps finished pastiches (not made again), makes one deleted and the ones a larger phase adds', async () => {
    const out = path.join(root, 'out', 'pastiches');
    assert.deepEqual((await fs.readdir(path.join(root, 'out'))).sort(), ['.inputs', 'manifest.json', 'pastiches', 'sheet.png', 'stylize.json'], 'the sheet is not among the pastiches');
    const files = (await fs.readdir(out)).filter((f) => /^(collect|feedback|dark-light|round-robin)-\d{4}\.png$/.test(f)).sort();
    const stamp = async (f: string) => (await fs.stat(path.join(out, f))).mtimeMs;
    const before = await Promise.all(files.map(stamp));
    await fs.rm(path.join(out, files[1]!));
    await fs.writeFile(path.join(out, `${files[2]}.tmp-123-0badf00d`), 'left by a crash');
    const again = await runStylize(opts({ counts: { feedback: 3, darkLight: 2, roundRobin: 1 } }));
    assert.deepEqual([again.existing, again.made], [files.length - 1, 2], 'the deleted one and the new feedback pastiche');
    const after = await Promise.all(files.map(stamp));
    files.forEach((f, i) => i !== 1 && assert.equal(after[i], before[i], `${f} untouched`));
    assert.ok(!(await fs.readdir(out)).some((f) => f.includes('.tmp-')), 'a crashed write is cleared away');
  });

  it('refuses a rerun that would change the pastiches (size, seed), naming the option', async () => {
    await rejectsWith(runStylize(opts({ size: 48 })), 'BAD_OPTION', 'size 32 then, 48 now');
    await rejectsWith(runStylize(opts({ seed: 2 })), 'BAD_OPTION', 'seed 1 then, 2 now');
    await rejectsWith(runStylize(opts({ styles: path.join(root, 'nowhere'), out: path.join(root, 'other') })), 'DATASET_INVALID', 'nowhere');
  });

  it('two threads make the same pastiches as one', async () => {
    const one = await runStylize(opts({ out: path.join(root, 'one'), counts: { feedback: 1, darkLight: 0, roundRobin: 0 } }));
    const two = await runStylize(opts({ out: path.join(root, 'two'), counts: { feedback: 1, darkLight: 0, roundRobin: 0 }, threads: 2 }));
    assert.equal(two.made, one.made);
    for (const f of (await fs.readdir(path.join(one.out, 'pastiches'))).filter((x) => /-\d{4}\.png$/.test(x))) {
      const [a, b] = await Promise.all([one.out, two.out].map((d) => sharp(path.join(d, 'pastiches', f)).raw().toBuffer()));
      assert.ok(a!.equals(b!), `${f} identical`);
    }
  });

  it('--method gatys makes the same plan with random filters; a features file that will not do is refused before any work', async () => {
    const r = await runStylize(opts({ out: path.join(root, 'gatys'), method: 'gatys', counts: { feedback: 1, darkLight: 0, roundRobin: 0 } }));
    assert.equal(r.made, r.planned);
    const record = JSON.parse(await fs.readFile(path.join(r.out, 'stylize.json'), 'utf8')) as { options: { method?: string; features?: string } };
    assert.deepEqual([record.options.method, record.options.features], ['gatys', 'random']);
    await rejectsWith(runStylize(opts({ out: path.join(root, 'patches-again'), method: 'gatys', features: path.join(root, 'styles', 's0.png') })), 'ONNX_INVALID', 's0.png');
    await assert.rejects(fs.stat(path.join(root, 'patches-again', 'stylize.json')), 'nothing written');
  });
});
