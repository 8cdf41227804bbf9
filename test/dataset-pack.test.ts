// `rhodops dataset pack` and openPack: the box-filter pyramid, a round trip (top resolution exact, lower
// ones the block means), images of the wrong size, corrupt images, and packs that are truncated, foreign,
// newer or damaged. Real sharp, real files in a temporary folder.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { rejectsWith } from './helpers/assert.ts';
import { setLogLevel } from '../core/log.ts';
import { openPack, pack } from '../trainer/prepare/pack.ts';
import { PACK_MANIFEST, packFileName, type PackManifest } from '../trainer/prepare/pack-format.ts';
import { boxPyramid } from '../trainer/prepare/pyramid.ts';

let root: string;
const tmp = (...parts: string[]) => path.join(root, ...parts);

before(async () => {
  setLogLevel('silent');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-pack-'));
});
after(() => fs.rm(root, { recursive: true, force: true }));

/** Deterministic noise: every pixel different, so a mix-up of images, rows or channels shows. */
function noise(side: number, seed: number): Uint8Array {
  let s = seed * 2654435761;
  return Uint8Array.from({ length: side * side * 3 }, () => ((s = (s * 1103515245 + 12345) >>> 0), s >>> 24));
}

async function writeImages(dir: string, side: number, count: number): Promise<Uint8Array[]> {
  await fs.mkdir(dir, { recursive: true });
  const images: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const rgb = noise(side, i + 1);
    images.push(rgb);
    await sharp(rgb, { raw: { width: side, height: side, channels: 3 } }).png().toFile(path.join(dir, `img${String(i).padStart(2, '0')}.png`));
  }
  return images;
}

/** The exact (unrounded) mean of each block × block square of `rgb`, per channel. */
function blockMeans(rgb: Uint8Array, side: number, res: number): Float64Array {
  const block = side / res;
  const out = new Float64Array(res * res * 3);
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) for (let c = 0; c < 3; c++) out[(Math.floor(y / block) * res + Math.floor(x / block)) * 3 + c]! += rgb[(y * side + x) * 3 + c]! / (block * block);
  return out;
}

describe('box-filter pyramid', () => {
  it('each level is the block mean of the full image, rounded once', () => {
    const side = 32;
    const rgb = noise(side, 7);
    const levels = boxPyramid(rgb, side);
    assert.deepEqual([...levels.keys()], [32, 16, 8, 4], 'every power of two from the size down to 4');
    assert.equal(levels.get(32), rgb, 'the top level is the image itself');
    for (const res of [16, 8, 4]) {
      const want = blockMeans(rgb, side, res);
      const got = levels.get(res)!;
      for (let i = 0; i < want.length; i++) assert.equal(got[i], Math.floor(want[i]! + 0.5 + 1e-9), `${res}²: value ${i} is the block mean ${want[i]!.toFixed(3)} rounded`);
    }
  });
});

describe('pack', () => {
  const SIDE = 32;
  let images: Uint8Array[];

  before(async () => {
    images = await writeImages(tmp('imgs'), SIDE, 7);
    await fs.writeFile(tmp('imgs', 'summary.json'), '{}'); // what augment leaves beside its images
  });

  it('round trip: the top resolution exactly, every lower one the block mean, any order of indices', async () => {
    const r = await pack({ input: tmp('imgs'), out: tmp('p1') });
    assert.equal(r.count, 7);
    assert.deepEqual(r.resolutions, [4, 8, 16, 32], 'the resolution comes from the images');
    const ds = await openPack(tmp('p1'));
    try {
      assert.equal(ds.count, 7);
      assert.deepEqual(ds.resolutions, [4, 8, 16, 32]);
      assert.equal(ds.channels, 3);
      const all = await ds.read(32, [0, 1, 2, 3, 4, 5, 6]);
      for (let i = 0; i < 7; i++) assert.deepEqual(all.subarray(i * SIDE * SIDE * 3, (i + 1) * SIDE * SIDE * 3), images[i], `image ${i} at 32² is the PNG's pixels`);
      const order = [5, 0, 5, 6, 2, 3];
      for (const res of [4, 8, 16]) {
        const got = await ds.read(res, order);
        assert.equal(got.length, order.length * res * res * 3);
        order.forEach((idx, k) => {
          const want = blockMeans(images[idx]!, SIDE, res);
          for (let i = 0; i < want.length; i++) {
            const v = got[k * res * res * 3 + i]!;
            assert.ok(Math.abs(v - want[i]!) <= 0.5, `image ${idx} at ${res}²: value ${i} is ${v}, the block mean is ${want[i]!.toFixed(2)}`);
          }
        });
      }
      assert.deepEqual(await ds.read(8, []), new Uint8Array(0), 'no indices, no bytes');
      await assert.rejects(ds.read(64, [0]), RangeError, 'a resolution the pack does not have');
      await assert.rejects(ds.read(8, [7]), RangeError, 'an index past the end');
      await assert.rejects(ds.read(8, [1.5]), RangeError, 'a fractional index');
    } finally {
      await ds.close();
    }
    await assert.rejects(ds.read(8, [0]), /closed/, 'reads after close are refused');
    const manifest = JSON.parse(await fs.readFile(tmp('p1', PACK_MANIFEST), 'utf8')) as PackManifest;
    assert.equal(manifest.format, 'rhodops-dataset');
    assert.deepEqual(manifest.files, { '4': 'r0004.bin', '8': 'r0008.bin', '16': 'r0016.bin', '32': 'r0032.bin' });
    for (const res of [4, 8, 16, 32]) assert.equal((await fs.stat(tmp('p1', packFileName(res)))).size, 7 * res * res * 3, `${packFileName(res)} holds 7 images of ${res}²`);
    assert.ok(!(await fs.readdir(root)).some((n) => n.includes('.tmp-')), 'no temporary folder is left behind');
  });

  it('refuses an image of another size by name, or resizes it with --resize', async () => {
    await writeImages(tmp('mixed'), 16, 2);
    await sharp(noise(20, 9), { raw: { width: 20, height: 12, channels: 3 } }).png().toFile(tmp('mixed', 'odd.png'));
    await rejectsWith(pack({ input: tmp('mixed'), out: tmp('p-mixed') }), 'DATASET_INVALID', 'odd.png', '20×12', '16');
    assert.ok(!(await fs.stat(tmp('p-mixed')).catch(() => null)), 'no pack is left after a refusal');
    const r = await pack({ input: tmp('mixed'), out: tmp('p-mixed'), resize: true });
    assert.equal(r.count, 3, 'with --resize every image goes in');
    await rejectsWith(pack({ input: tmp('mixed'), out: tmp('p-x'), resolution: 24 }), 'BAD_OPTION', '--resolution');
    await rejectsWith(pack({ input: tmp('mixed'), out: tmp('p-x'), resolution: 8 }), 'DATASET_INVALID', 'img00.png');
  });

  it('skips a corrupt image with a warning and lists it in the manifest', async () => {
    await writeImages(tmp('some-bad'), 8, 3);
    await fs.writeFile(tmp('some-bad', 'img01.png'), 'garbage');
    const r = await pack({ input: tmp('some-bad'), out: tmp('p-bad') });
    assert.equal(r.count, 2);
    assert.match(r.skipped[0] ?? '', /^img01\.png: /, `the skipped file is named: ${r.skipped.join('; ')}`);
    const ds = await openPack(tmp('p-bad'));
    await ds.close();
    assert.equal(ds.count, 2);
    const manifest = JSON.parse(await fs.readFile(tmp('p-bad', PACK_MANIFEST), 'utf8')) as PackManifest;
    assert.equal(manifest.source.skipped?.length, 1);
  });

  it('replaces an existing pack only with --force, and never a folder that is not a pack', async () => {
    await rejectsWith(pack({ input: tmp('imgs'), out: tmp('p1') }), 'BAD_OPTION', 'p1', 'exists');
    await writeImages(tmp('fewer'), SIDE, 2);
    const r = await pack({ input: tmp('fewer'), out: tmp('p1'), force: true });
    assert.equal(r.count, 2);
    const ds = await openPack(tmp('p1'));
    await ds.close();
    assert.equal(ds.count, 2, 'the new pack replaced the old one');
    assert.ok(!(await fs.readdir(root)).some((n) => n.startsWith('p1.old-')), 'the old pack is removed');
    await fs.mkdir(tmp('precious'));
    await fs.writeFile(tmp('precious', 'thesis.tex'), 'x');
    await rejectsWith(pack({ input: tmp('imgs'), out: tmp('precious'), force: true }), 'BAD_OPTION', 'not a dataset pack');
    assert.ok(await fs.stat(tmp('precious', 'thesis.tex')), 'the folder is untouched');
  });
});

describe('openPack on damaged or foreign packs', () => {
  let good: string;

  before(async () => {
    await writeImages(tmp('src'), 16, 3);
    good = tmp('good');
    await pack({ input: tmp('src'), out: good });
  });

  async function copyOfGood(name: string): Promise<string> {
    const dir = tmp(name);
    await fs.cp(good, dir, { recursive: true });
    return dir;
  }

  async function editManifest(dir: string, edit: (m: Record<string, unknown>) => void): Promise<void> {
    const m = JSON.parse(await fs.readFile(path.join(dir, PACK_MANIFEST), 'utf8')) as Record<string, unknown>;
    edit(m);
    await fs.writeFile(path.join(dir, PACK_MANIFEST), JSON.stringify(m));
  }

  it('a truncated file: names the file, its size and the size expected', async () => {
    const dir = await copyOfGood('truncated');
    await fs.truncate(path.join(dir, 'r0008.bin'), 3 * 8 * 8 * 3 - 10);
    await rejectsWith(openPack(dir), 'DATASET_INVALID', 'r0008.bin', `${3 * 8 * 8 * 3 - 10} bytes`, `expected ${3 * 8 * 8 * 3}`, 'truncated');
  });

  it('a missing file, a missing folder, a folder without a manifest', async () => {
    const dir = await copyOfGood('missing');
    await fs.rm(path.join(dir, 'r0016.bin'));
    await rejectsWith(openPack(dir), 'DATASET_INVALID', 'r0016.bin', 'missing');
    await rejectsWith(openPack(tmp('nowhere')), 'DATASET_INVALID', 'nowhere', 'does not exist');
    await rejectsWith(openPack(tmp('src')), 'DATASET_INVALID', 'no manifest.json');
  });

  it('a foreign manifest, a newer version, a damaged field, not JSON', async () => {
    const foreign = await copyOfGood('foreign');
    await editManifest(foreign, (m) => (m['format'] = 'rhodops-checkpoint'));
    await rejectsWith(openPack(foreign), 'DATASET_INVALID', 'not a rhodops dataset pack', 'rhodops-checkpoint');
    const newer = await copyOfGood('newer');
    await editManifest(newer, (m) => (m['version'] = 2));
    await rejectsWith(openPack(newer), 'DATASET_INVALID', 'newer rhodops');
    const damaged = await copyOfGood('damaged');
    await editManifest(damaged, (m) => {
      m['count'] = -1;
      m['resolutions'] = [4, 16];
    });
    await rejectsWith(openPack(damaged), 'DATASET_INVALID', 'count', 'resolutions');
    const text = await copyOfGood('text');
    await fs.writeFile(path.join(text, PACK_MANIFEST), '{"format": "rhodops-dat');
    await rejectsWith(openPack(text), 'DATASET_INVALID', 'not JSON');
  });
});
