// Checkpoints: round trip through both engines, crash-safe replacement, and clear errors for broken ones.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rejectsWith } from './helpers/assert.ts';
import { setLogLevel } from '../core/log.ts';
import { openCheckpoint, readWeights, saveCheckpoint } from '../core/checkpoint/io.ts';
import { saveModelCheckpoint } from '../core/checkpoint/from-model.ts';
import { infoganArch, pgganArch } from '../core/models/architectures.ts';
import { latentSizeOf } from '../core/models/arch.ts';
import { openGenerator } from '../core/runtime/open.ts';
import { TfjsGenerator } from '../core/runtime/tfjs.ts';
import { exportServing } from '../core/checkpoint/serving.ts';
import { gaussian, randomWeights, relativeRms, useBackend } from './helpers/models.ts';

let root: string;
const arch = infoganArch(28, { noise: 8, categorical: [3], continuous: 1 });
const weights = randomWeights(arch, 2);

async function fresh(name: string): Promise<string> {
  const dir = path.join(root, name);
  await saveModelCheckpoint(dir, arch, weights, { name, training: { step: 10, imagesSeen: 320 } });
  return dir;
}

describe('checkpoints', () => {
  before(async () => {
    setLogLevel('silent');
    await useBackend('cpu');
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-ckpt-'));
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  it('round-trips: both engines open it and agree; the weights come back bit-exact', async () => {
    const dir = await fresh('roundtrip');
    const ckpt = await openCheckpoint(dir);
    assert.equal(ckpt.manifest.kind, 'infogan');
    assert.equal(ckpt.manifest.latent.size, latentSizeOf(arch));
    assert.equal(ckpt.manifest.training?.step, 10);
    const back = await readWeights(ckpt);
    for (const [name, w] of weights) assert.deepEqual(back.get(name)?.data, w.data, name);

    const z = gaussian(2 * latentSizeOf(arch), 3);
    const ortGen = await openGenerator(dir, { engine: 'ort' });
    const tfGen = await openGenerator(dir, { engine: 'tfjs' });
    const [a, b] = [await ortGen.generateFloat(z, 2), await tfGen.generateFloat(z, 2)];
    assert.ok(relativeRms(a.data, b.data) < 1e-4);
    assert.equal(ortGen.info.latent.categorical[0], 3);
    await ortGen.dispose();
    await tfGen.dispose();
  });

  it('a new save replaces the model atomically and keeps samples/ and log.jsonl', async () => {
    const dir = await fresh('resave');
    await fs.mkdir(path.join(dir, 'samples'));
    await fs.writeFile(path.join(dir, 'samples', 'grid-0001.png'), 'png');
    await fs.writeFile(path.join(dir, 'log.jsonl'), '{"step":1}\n');
    await saveModelCheckpoint(dir, arch, randomWeights(arch, 99), { name: 'resave', training: { step: 20, imagesSeen: 640 } });
    const ckpt = await openCheckpoint(dir);
    assert.equal(ckpt.manifest.training?.step, 20);
    assert.equal(await fs.readFile(path.join(dir, 'samples', 'grid-0001.png'), 'utf8'), 'png');
    assert.equal(await fs.readFile(path.join(dir, 'log.jsonl'), 'utf8'), '{"step":1}\n');
    const leftovers = (await fs.readdir(root)).filter((f) => f.startsWith('resave.'));
    assert.deepEqual(leftovers, [], 'no temporary directories left behind');
  });

  it('a save killed between its two renames is recovered on the next open', async () => {
    const dir = await fresh('interrupted');
    // What a crash leaves: the old copy renamed away, the complete new one still under its temporary name.
    await fs.rename(dir, `${dir}.old-dead`);
    await saveModelCheckpoint(path.join(root, 'staging'), arch, weights, { name: 'interrupted', training: { step: 30, imagesSeen: 1 } });
    await fs.rename(path.join(root, 'staging'), `${dir}.tmp-1-dead`);
    const ckpt = await openCheckpoint(dir);
    assert.equal(ckpt.manifest.training?.step, 30, 'the newer complete copy wins');
    assert.deepEqual((await fs.readdir(root)).filter((f) => f.startsWith('interrupted.')), []);
  });

  it('a save that died mid-write leaves the previous checkpoint untouched', async () => {
    const dir = await fresh('midwrite');
    await fs.mkdir(`${dir}.tmp-2-dead`);
    await fs.writeFile(`${dir}.tmp-2-dead/generator.onnx`, 'half a model');
    const ckpt = await openCheckpoint(dir);
    assert.equal(ckpt.manifest.training?.step, 10);
    const g = await openGenerator(dir);
    await g.dispose();
  });

  it('export --resolution plays an earlier phase of a growing PGGAN, as the run drew it there', async () => {
    const pg = pgganArch('narrow', 16, { latentSize: 16 });
    const w = randomWeights(pg, 5);
    // Fading in 16² (α 0.4): 8² is the fade's other branch, so its output layer is trained.
    const run = path.join(root, 'growing');
    await saveModelCheckpoint(run, pg, w, { name: 'growing', phase: { resolution: 16, alpha: 0.4 }, training: { step: 9, imagesSeen: 90 } });
    await fs.mkdir(path.join(run, 'samples'));
    for (const f of ['r0004-stable.png', 'r0008-stable.png', 'r0016-fade.png', 'latest.png']) await fs.writeFile(path.join(run, 'samples', f), 'png');
    const out = path.join(root, 'growing-8');
    await exportServing(run, out, { resolution: 8 });

    const m = (await openCheckpoint(out)).manifest;
    assert.equal(m.resolution, 8);
    assert.deepEqual(m.training?.phase, { resolution: 8, alpha: 1 });
    assert.equal(m.training?.step, 9);
    assert.deepEqual((await fs.readdir(path.join(out, 'samples'))).sort(), ['r0004-stable.png', 'r0008-stable.png'], 'only the sheets of resolutions it plays');
    // Both engines of the copy draw what the generator draws at 8², α 1, from the same weights.
    const z = gaussian(3 * 16, 11);
    const direct = TfjsGenerator.fromWeights(pg, w, { resolution: 8, alpha: 1 });
    const [ortGen, tfGen] = [await openGenerator(out, { engine: 'ort' }), await openGenerator(out, { engine: 'tfjs' })];
    try {
      assert.equal(ortGen.info.width, 8);
      const want = await direct.generateFloat(z, 3);
      assert.equal(want.data.length, 3 * 3 * 8 * 8);
      assert.ok(relativeRms((await ortGen.generateFloat(z, 3)).data, want.data) < 1e-4);
      assert.ok(relativeRms((await tfGen.generateFloat(z, 3)).data, want.data) < 1e-5);
    } finally {
      await Promise.all([ortGen.dispose(), tfGen.dispose(), direct.dispose()]);
    }

    await rejectsWith(exportServing(run, path.join(root, 'x16'), { resolution: 16 }), 'BAD_OPTION', 'still fading in 16² (α 0.40)');
    await rejectsWith(exportServing(run, path.join(root, 'x12'), { resolution: 12 }), 'BAD_OPTION', 'has 4, 8, 16');
    await rejectsWith(exportServing(await fresh('flat'), path.join(root, 'x4'), { resolution: 4 }), 'BAD_OPTION', 'not a PGGAN');
    await assert.rejects(fs.access(path.join(root, 'x16')), 'a refused export writes nothing');
  });

  describe('broken checkpoints get errors that name the file and the field', () => {
    it('missing directory', () => rejectsWith(openGenerator(path.join(root, 'nope')), 'CHECKPOINT_NOT_FOUND', 'nope'));

    it('missing manifest.json', async () => {
      const dir = await fresh('nomanifest');
      await fs.rm(path.join(dir, 'manifest.json'));
      await rejectsWith(openGenerator(dir), 'CHECKPOINT_FILE_MISSING', 'manifest.json');
    });

    it('manifest.json truncated (invalid JSON)', async () => {
      const dir = await fresh('badjson');
      const text = await fs.readFile(path.join(dir, 'manifest.json'), 'utf8');
      await fs.writeFile(path.join(dir, 'manifest.json'), text.slice(0, text.length / 2));
      await rejectsWith(openGenerator(dir), 'MANIFEST_INVALID', 'manifest.json', 'not valid JSON');
    });

    it('manifest.json with a wrong field', async () => {
      const dir = await fresh('badfield');
      const m = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8'));
      m.latent.size = 'seventy';
      m.output.layout = 'CHWN';
      await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(m));
      await rejectsWith(openGenerator(dir), 'MANIFEST_INVALID', 'latent.size', 'output.layout');
    });

    it('manifest whose latent blocks do not add up', async () => {
      const dir = await fresh('badsum');
      const m = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8'));
      m.latent.continuous = 5;
      await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(m));
      await rejectsWith(openGenerator(dir), 'MANIFEST_INVALID', 'latent.size', 'add up');
    });

    it('truncated generator.onnx', async () => {
      const dir = await fresh('truncated');
      const file = path.join(dir, 'generator.onnx');
      const bytes = await fs.readFile(file);
      await fs.writeFile(file, bytes.subarray(0, bytes.length - 1000));
      await rejectsWith(openGenerator(dir), 'CHECKPOINT_FILE_CORRUPT', 'generator.onnx', 'truncated');
    });

    it('truncated weights for the tfjs engine', async () => {
      const dir = await fresh('truncweights');
      const file = path.join(dir, 'tfjs', 'weights.bin');
      await fs.truncate(file, 100);
      await rejectsWith(openGenerator(dir, { engine: 'tfjs' }), 'CHECKPOINT_FILE_CORRUPT', 'weights.bin');
    });

    it('a truncated bare .onnx file is reported by ONNX Runtime with its name', async () => {
      const dir = await fresh('bare');
      const bytes = await fs.readFile(path.join(dir, 'generator.onnx'));
      const file = path.join(root, 'cut.onnx');
      await fs.writeFile(file, bytes.subarray(0, 3000));
      await rejectsWith(openGenerator(file), 'ONNX_INVALID', 'cut.onnx');
    });

    it('weights from another architecture', async () => {
      const other = pgganArch('narrow', 8, { latentSize: 8 });
      const dir = path.join(root, 'mismatch');
      await saveCheckpoint(dir, {
        manifest: {
          kind: 'infogan',
          name: 'mismatch',
          resolution: 28,
          channels: 1,
          output: { layout: 'NCHW', range: '-1..1' },
          latent: { size: 12, noise: 8, categorical: [3], continuous: 1 },
          onnx: { file: 'generator.onnx', input: 'latent', output: 'image' },
          arch,
        },
        onnx: new Uint8Array(await fs.readFile(path.join(await fresh('donor'), 'generator.onnx'))),
        weights: randomWeights(other, 1),
      });
      await rejectsWith(openGenerator(dir, { engine: 'tfjs' }), 'CHECKPOINT_FILE_CORRUPT', 'g/fc1/w');
    });
  });
});
