// Procedural source images for the demo PGGAN: the same seed makes the same image; seeds make different
// images of every family; a second run keeps what the first wrote.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { generateTexture, TEXTURE_KINDS } from '../trainer/textures/generate.ts';
import { writeTextures } from '../trainer/textures/write.ts';
import { tempRoot } from './helpers/server.ts';

const sha = (b: Uint8Array) => createHash('sha1').update(b).digest('hex');

describe('procedural textures', () => {
  it('deterministic per seed, different across seeds, every family, full of colour', () => {
    const a = generateTexture(11, 64);
    assert.equal(sha(generateTexture(11, 64).rgb), sha(a.rgb), 'the same seed: the same bytes');
    const hashes = new Set<string>();
    const kinds = new Set<string>();
    for (let s = 0; s < 12; s++) {
      const t = generateTexture(s, 64);
      hashes.add(sha(t.rgb));
      kinds.add(t.kind);
      let min = 255;
      let max = 0;
      for (const v of t.rgb) [min, max] = [Math.min(min, v), Math.max(max, v)];
      assert.ok(max - min > 60, `seed ${s} (${t.kind}) has contrast: ${min}..${max}`);
    }
    assert.equal(hashes.size, 12, 'twelve seeds, twelve images');
    assert.deepEqual([...kinds].sort(), [...TEXTURE_KINDS].sort(), 'every family appears');
  });

  it('writes PNGs atomically and keeps them on a second run', async () => {
    const dir = await tempRoot('rhodops-textures-');
    try {
      const first = await writeTextures({ out: dir, count: 5, size: 48, seed: 2, progress: false });
      assert.equal(first.written, 5);
      const meta = await sharp(path.join(dir, first.files[0]!)).metadata();
      assert.deepEqual([meta.width, meta.height, meta.format], [48, 48, 'png']);
      await fs.rm(path.join(dir, first.files[3]!));
      const second = await writeTextures({ out: dir, count: 5, size: 48, seed: 2, progress: false });
      assert.deepEqual([second.written, second.kept], [1, 4], 'only the missing image is made again');
      assert.deepEqual(second.files, first.files);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
