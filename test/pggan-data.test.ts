// Real images for PGGAN training: the endless shuffled stream, --mirror and --invert, and pack checks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchStream, checkPackFits } from '../trainer/pggan/data.ts';
import { syntheticPack } from '../trainer/pggan/synthetic.ts';
import { throwsWith } from './helpers/assert.ts';

const pack = syntheticPack(10, 8, 2);
const unit = (b: number) => b / 127.5 - 1;

describe('PGGAN data stream', () => {
  it('visits every image once per pass, in an order that depends on the seed and the pass only', () => {
    const s = new BatchStream(pack, { seed: 4, mirror: false, invert: false });
    const first = s.indices(0, 10);
    const second = s.indices(10, 10);
    assert.deepEqual([...first].sort((a, b) => a - b), [...Array(10).keys()]);
    assert.deepEqual([...second].sort((a, b) => a - b), [...Array(10).keys()]);
    assert.notDeepEqual(first, second, 'each pass is shuffled anew');
    assert.deepEqual(new BatchStream(pack, { seed: 4, mirror: false, invert: false }).indices(7, 6), [...first.slice(7), ...second.slice(0, 3)], 'a batch may span two passes; a new stream at the same position agrees');
  });

  it('reads images as [-1, 1] floats at the asked resolution', async () => {
    const s = new BatchStream(pack, { seed: 4, mirror: false, invert: false });
    const [index] = s.indices(3, 1);
    const bytes = await pack.read(4, [index!]);
    const got = await s.read(4, 1, 3);
    assert.deepEqual(got, Float32Array.from(bytes, unit));
  });

  it('mirrors and inverts about half of the images, the same ones for the same stream position', async () => {
    const plain = new BatchStream(pack, { seed: 4, mirror: false, invert: false });
    const aug = new BatchStream(pack, { seed: 4, mirror: true, invert: true });
    const n = 40;
    const [a, b, again] = [await plain.read(8, n, 0), await aug.read(8, n, 0), await aug.read(8, n, 0)];
    assert.deepEqual(b, again, 'deterministic');
    let mirrored = 0;
    let inverted = 0;
    const size = 8 * 8 * 3;
    for (let i = 0; i < n; i++) {
      const src = a.subarray(i * size, (i + 1) * size);
      const out = b.subarray(i * size, (i + 1) * size);
      const px = (img: Float32Array, y: number, x: number, c: number) => img[(y * 8 + x) * 3 + c]!;
      const candidates = [false, true].flatMap((m) => [false, true].map((inv) => ({ m, inv })));
      const match = candidates.filter(({ m, inv }) => {
        for (let y = 0; y < 8; y++)
          for (let x = 0; x < 8; x++)
            for (let c = 0; c < 3; c++) {
              const v = px(src, y, m ? 7 - x : x, c);
              if (Math.abs(px(out, y, x, c) - (inv ? -v : v)) > 1e-6) return false;
            }
        return true;
      });
      assert.ok(match.length >= 1, `image ${i} is the original, mirrored and/or inverted`);
      if (!match.some((c) => !c.m)) mirrored++;
      if (!match.some((c) => !c.inv)) inverted++;
    }
    assert.ok(mirrored > 8 && mirrored < 32, `${mirrored}/${n} mirrored`);
    assert.ok(inverted > 8 && inverted < 32, `${inverted}/${n} inverted`);
  });

  it('refuses a pack without the resolutions or images training needs, saying what to do', () => {
    throwsWith(() => checkPackFits(pack, 16, 4), 'DATASET_INVALID', '16²');
    throwsWith(() => checkPackFits(pack, 8, 16), 'DATASET_INVALID', 'fewer than a minibatch of 16');
    checkPackFits(pack, 8, 8);
  });
});
