// The training metrics on known inputs (trainer/metrics): SWD of a set against itself is 0 and against noise
// large, and it ranks a blurred copy between the two; MS-SSIM of copies is 1, of unrelated images low, and the
// diversity of a collapsed set is higher than a varied one's.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../core/backend.ts';
import { setLogLevel } from '../core/log.ts';
import { gaussianArray, rng } from '../core/random.ts';
import { laplacianPyramid, slicedWassersteinDistance, type ImageSet } from '../trainer/metrics/swd.ts';
import { msSsim, msSsimDiversity } from '../trainer/metrics/ms-ssim.ts';

const SIZE = 32;
/** Smooth coloured blobs: images with structure at several scales, different per seed. */
function blobs(count: number, seed: number): ImageSet {
  const r = rng(seed);
  const data = new Float32Array(count * SIZE * SIZE * 3);
  for (let i = 0; i < count; i++) {
    const centres = Array.from({ length: 4 }, () => ({ x: r() * SIZE, y: r() * SIZE, rad: 3 + r() * 8, col: [r(), r(), r()] }));
    for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) for (let c = 0; c < 3; c++) {
      let v = 0.1;
      for (const b of centres) v += b.col[c]! * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.rad * b.rad));
      data[((i * SIZE + y) * SIZE + x) * 3 + c] = Math.min(1, v);
    }
  }
  return { data, count, size: SIZE, channels: 3 };
}
const noise = (count: number, seed: number): ImageSet => ({ data: gaussianArray(count * SIZE * SIZE * 3, seed).map((v) => Math.min(1, Math.max(0, 0.5 + 0.25 * v))), count, size: SIZE, channels: 3 });
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('training metrics', () => {
  before(async () => {
    setLogLevel('silent');
    await initBackend('wasm');
  });

  it('the Laplacian pyramid adds back up to the image: levels of 32², then the 16² residue', () => {
    const img = blobs(1, 3).data;
    const levels = laplacianPyramid(img, SIZE, 3);
    assert.deepEqual(levels.map((l) => l.size), [32, 16]);
    assert.ok(Math.max(...levels[0]!.data.map(Math.abs)) < 0.5, 'the detail level is small on smooth images');
  });

  it('SWD: a set against itself 0, against another draw of the same kind small, against noise large', async () => {
    const a = blobs(48, 1);
    const self = await slicedWassersteinDistance(a, { ...a, data: Float32Array.from(a.data) });
    assert.ok(self.every((v) => v < 1e-3), `against itself: ${self.map((v) => v.toFixed(4))}`);
    const same = mean(await slicedWassersteinDistance(a, blobs(48, 2)));
    const far = mean(await slicedWassersteinDistance(a, noise(48, 3)));
    assert.ok(far > 5 * same, `blobs against blobs ${same.toFixed(1)}, against noise ${far.toFixed(1)}`);
  });

  it('MS-SSIM: copies score 1, unrelated images low; a collapsed set is less diverse than a varied one', () => {
    const a = blobs(16, 4);
    const n = SIZE * SIZE * 3;
    const one = a.data.subarray(0, n);
    assert.ok(Math.abs(msSsim(one, Float32Array.from(one), SIZE, 3) - 1) < 1e-6, 'a copy');
    assert.ok(msSsim(one, noise(1, 5).data, SIZE, 3) < 0.3, 'noise');
    const varied = msSsimDiversity(a.data, 16, SIZE, 3, 40);
    const collapsed = new Float32Array(16 * n);
    const jitter = rng(6);
    for (let i = 0; i < 16; i++) for (let k = 0; k < n; k++) collapsed[i * n + k] = Math.min(1, Math.max(0, one[k]! + 0.01 * (jitter() - 0.5)));
    const same = msSsimDiversity(collapsed, 16, SIZE, 3, 40);
    assert.ok(same > 0.9 && same > varied + 0.2, `a collapsed set ${same.toFixed(3)}, a varied one ${varied.toFixed(3)}`);
  });
});
