import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../core/backend.ts';
import { rng } from '../core/random.ts';
import { rejectsWith } from './helpers/assert.ts';
import { histogramDistance, histogramReference, matchHistogram } from '../trainer/stylize/histogram.ts';
import type { RgbFloatImage } from '../trainer/stylize/image.ts';
import { flat, gradientEnergy, image, stripes } from './helpers/stylize.ts';
import { aggregateIrls, PatchIndex, patchGrid, sampleStylePatches, type StylePatches } from '../trainer/stylize/patches.ts';
import { patchSizesFor, scaleSchedule, stylize, type StylizeOptions } from '../trainer/stylize/transfer.ts';

/** width × height with each pixel's RGB from f(x, y). */
/** Normalised autocorrelation of the red channel along rows at horizontal shift `lag`. */
function rowAutocorrelation(img: RgbFloatImage, lag: number): number {
  const { width: w, height: h, data } = img;
  let mean = 0;
  for (let i = 0; i < w * h; i++) mean += data[i * 3]!;
  mean /= w * h;
  let num = 0, den = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const a = data[(y * w + x) * 3]! - mean;
      den += a * a;
      if (x + lag < w) num += a * (data[(y * w + x + lag) * 3]! - mean);
    }
  }
  return num / (den * ((w - lag) / w));
}

/** The largest of the three channels' standard deviations. */
function std(img: RgbFloatImage): number {
  let worst = 0;
  for (let c = 0; c < 3; c++) {
    let s = 0, s2 = 0;
    const n = img.width * img.height;
    for (let i = 0; i < n; i++) {
      const v = img.data[i * 3 + c]!;
      s += v;
      s2 += v * v;
    }
    worst = Math.max(worst, Math.sqrt(Math.max(0, s2 / n - (s / n) ** 2)));
  }
  return worst;
}

/** A smooth colourful source: a diagonal ramp in red, a ring in green, seeded noise in blue. */
function smoothSource(w: number, h: number): RgbFloatImage {
  const r = rng(3);
  return image(w, h, (x, y) => [40 + (150 * (x + y)) / (w + h), 128 + 100 * Math.cos(Math.hypot(x - w / 2, y - h / 2) / 5), 60 + 40 * r()]);
}

describe('histogram matching', () => {
  it('gives the output the reference\'s per-channel histograms: the distance goes from large to ≈ 0', () => {
    const source = smoothSource(48, 40);
    // Another size and another distribution: dark blue with a few saturated highlights.
    const q = rng(9);
    const reference = image(37, 53, () => (q() < 0.8 ? [10 + 30 * q(), 20 + 20 * q(), 120 + 80 * q()] : [250 * q(), 240, 20]));
    const before = histogramDistance(source, reference);
    const matched = matchHistogram(source, histogramReference([{ image: reference, weight: 1 }]));
    const after = histogramDistance(matched, reference);
    assert.ok(before > 40, `source and reference differ: W1 ${before.toFixed(2)} > 40 grey levels`);
    assert.ok(after < 0.5, `matched: W1 ${after.toFixed(3)} < 0.5 grey levels`);
    assert.ok(histogramDistance(source, source) === 0, 'an image is at distance 0 from itself');
  });

  it('keeps each channel\'s order of pixels (the mapping is monotone)', () => {
    const source = smoothSource(32, 32);
    const matched = matchHistogram(source, histogramReference([{ image: stripes(16, 4), weight: 1 }]));
    for (let c = 0; c < 3; c++) {
      for (let i = 1; i < 1024; i++) {
        const [a, b] = [source.data[(i - 1) * 3 + c]!, source.data[i * 3 + c]!];
        const [ma, mb] = [matched.data[(i - 1) * 3 + c]!, matched.data[i * 3 + c]!];
        if (a < b) assert.ok(ma <= mb, `channel ${c}, pixels ${i - 1} and ${i}`);
      }
    }
  });

  it('matches several references pooled by weight, not by pixel count', () => {
    const source = smoothSource(40, 40);
    // Black counts 1, white 3, though the black image has 4 times the pixels: a quarter of the result is black.
    const ref = histogramReference([{ image: flat(32, 0), weight: 1 }, { image: flat(16, 255), weight: 3 }]);
    const matched = matchHistogram(source, ref);
    let black = 0;
    for (let i = 0; i < 1600; i++) if (matched.data[i * 3]! < 128) black++;
    assert.ok(Math.abs(black / 1600 - 0.25) < 0.01, `black share ${black / 1600}`);
    assert.ok(histogramDistance(matched, ref) < 1);
  });

  it('leaves a flat image flat (ties share one value)', () => {
    const matched = matchHistogram(flat(16, 90), histogramReference([{ image: smoothSource(20, 20), weight: 1 }]));
    assert.ok(std(matched) < 1e-3);
  });
});

describe('patches', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('patchGrid covers every pixel, including the last row and column', () => {
    for (const [w, h, n, stride, offset] of [[64, 48, 13, 9, 0], [30, 31, 9, 6, 4], [21, 21, 21, 5, 2]] as const) {
      const grid = patchGrid(w, h, n, stride, offset);
      const covered = new Uint8Array(w * h);
      for (let k = 0; k < grid.length; k += 2) {
        assert.ok(grid[k]! >= 0 && grid[k]! + n <= w && grid[k + 1]! >= 0 && grid[k + 1]! + n <= h);
        for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) covered[(grid[k + 1]! + y) * w + grid[k]! + x] = 1;
      }
      assert.ok(covered.every((v) => v === 1), `${w}×${h}, n ${n}, stride ${stride}`);
    }
  });

  it('finds a style patch itself as its nearest neighbour, and aggregation of exact matches gives the image back', async () => {
    const style = smoothSource(40, 40);
    const n = 7;
    const grid = patchGrid(40, 40, n, 5, 0);
    // The style patches are exactly the grid's patches (plus sampled ones), so every query has an exact match.
    const sampled = sampleStylePatches([{ image: style, weight: 1 }], n, 200, rng(1));
    const patches: StylePatches = {
      images: [style],
      n,
      source: new Uint8Array(sampled.source.length + grid.length / 2),
      xs: Int32Array.from([...sampled.xs, ...grid.filter((_, i) => i % 2 === 0)]),
      ys: Int32Array.from([...sampled.ys, ...grid.filter((_, i) => i % 2 === 1)]),
    };
    const before = tf.memory().numTensors;
    const index = await PatchIndex.build(patches, 48, rng(2));
    const matches = await index.nearest(style, grid);
    index.dispose();
    assert.equal(tf.memory().numTensors, before, 'PatchIndex disposes all it made');
    for (let q = 0; q < matches.length; q++) {
      const m = matches[q]!;
      assert.equal(patches.xs[m], grid[q * 2], `query ${q} x`);
      assert.equal(patches.ys[m], grid[q * 2 + 1], `query ${q} y`);
    }
    const noisy = { ...style, data: style.data.map((v, i) => v + ((i * 7919) % 13) - 6) };
    const back = aggregateIrls(noisy, grid, matches, patches, { r: 0.8, iterations: 3 });
    let err = 0;
    for (let i = 0; i < back.data.length; i++) err = Math.max(err, Math.abs(back.data[i]! - style.data[i]!));
    assert.ok(err < 1e-3, `max error ${err}`);
  });

  it('samples style patches in proportion to the styles\' weights', () => {
    const p = sampleStylePatches([{ image: flat(80, 0), weight: 1 }, { image: flat(80, 255), weight: 3 }], 9, 1000, rng(5));
    const first = p.source.filter((s) => s === 0).length;
    assert.ok(p.source.length <= 1000 && p.source.length > 900, `count ${p.source.length}`);
    assert.ok(Math.abs(first / p.source.length - 0.25) < 0.03, `share of style 0: ${first / p.source.length}`);
  });
});

describe('stylize', () => {
  before(async () => {
    await initBackend('wasm');
  });

  const small: Partial<StylizeOptions> = { size: 64, startSize: 32 };

  it('plans scales of equal ratios of at most 2 and shrinks patches to fit small scales', () => {
    assert.deepEqual(scaleSchedule(64, 256), [64, 128, 256]);
    assert.deepEqual(scaleSchedule(100, 256), [100, 160, 256]);
    assert.deepEqual(scaleSchedule(200, 256), [200, 256]);
    assert.deepEqual(scaleSchedule(64, 1024), [64, 128, 256, 512, 1024]);
    assert.deepEqual(scaleSchedule(256, 256), [256]);
    assert.deepEqual(patchSizesFor(256, [33, 21, 13, 9]), [33, 21, 13, 9]);
    assert.deepEqual(patchSizesFor(64, [33, 21, 13, 9]), [21, 13, 9]);
    assert.deepEqual(patchSizesFor(32, [33, 21, 13, 9]), [9]);
  });

  it('a striped style on flat grey content gives a striped pastiche; a flat style gives a flat one', async () => {
    const content = flat(64, 128);
    const striped = await stylize(content, [{ image: stripes(64, 8), weight: 1 }], small, rng(11));
    const e = gradientEnergy(striped);
    // Perfect stripes of period 8: horizontal energy 255² / 4 ≈ 16256, vertical 0.
    assert.ok(e.horizontal > 6000, `horizontal gradient energy ${e.horizontal.toFixed(0)} > 6000`);
    assert.ok(e.vertical < e.horizontal / 5, `vertical ${e.vertical.toFixed(0)} < horizontal ${e.horizontal.toFixed(0)} / 5`);
    const a8 = rowAutocorrelation(striped, 8);
    const a4 = rowAutocorrelation(striped, 4);
    assert.ok(a8 > 0.5, `autocorrelation at the period (8 px): ${a8.toFixed(2)} > 0.5`);
    assert.ok(a4 < -0.3, `autocorrelation at half the period: ${a4.toFixed(2)} < −0.3`);

    const plain = await stylize(content, [{ image: flat(64, 70), weight: 1 }], small, rng(11));
    assert.ok(std(plain) < 0.5, `flat style: std ${std(plain).toFixed(3)} < 0.5`);
    assert.ok(Math.abs(plain.data[0]! - 70) < 0.5, 'in the style\'s colour');
    const g = gradientEnergy(plain);
    assert.ok(g.horizontal < 1 && g.vertical < 1);
  });

  it('blends styles: the pastiche takes its colours from both, by weight', async () => {
    const content = smoothSource(64, 64);
    const red = image(64, 64, (x) => (x % 8 < 4 ? [200, 0, 0] : [255, 60, 60]));
    const blue = image(64, 64, (_, y) => (y % 8 < 4 ? [0, 0, 200] : [60, 60, 255]));
    const out = await stylize(content, [{ image: red, weight: 1 }, { image: blue, weight: 1 }], small, rng(4));
    let reddish = 0;
    for (let i = 0; i < 64 * 64; i++) if (out.data[i * 3]! > out.data[i * 3 + 2]!) reddish++;
    assert.ok(Math.abs(reddish / 4096 - 0.5) < 0.1, `share of red pixels ${(reddish / 4096).toFixed(2)}`);
    assert.ok(histogramDistance(out, histogramReference([{ image: red, weight: 1 }, { image: blue, weight: 1 }])) < 2);
  });

  it('is deterministic for a seed (bit for bit), varies with it, and leaks no tensors', async () => {
    const content = smoothSource(80, 60);
    const styles = [{ image: stripes(48, 6), weight: 2 }, { image: smoothSource(50, 50), weight: 1 }];
    const progress: number[] = [];
    const before = tf.memory().numTensors;
    const a = await stylize(content, styles, small, rng(42), (p) => progress.push(p.done / p.total));
    assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
    const b = await stylize(content, styles, small, rng(42));
    const c = await stylize(content, styles, small, rng(43));
    assert.equal(tf.memory().numTensors, before);
    assert.equal(a.width, 64);
    assert.equal(a.height, 64);
    assert.deepEqual(Buffer.from(a.data.buffer), Buffer.from(b.data.buffer), 'same seed, same pastiche');
    assert.notDeepEqual(Buffer.from(a.data.buffer), Buffer.from(c.data.buffer), 'another seed, another pastiche');
    assert.equal(progress.at(-1), 1, 'progress reaches 1');
    assert.ok(progress.every((p, i) => i === 0 || p > progress[i - 1]!), 'progress only grows');
  });

  it('refuses options and inputs out of range, naming them', async () => {
    const content = flat(32, 10);
    const style = [{ image: flat(32, 200), weight: 1 }];
    await rejectsWith(stylize(content, style, { size: 64, startSize: 128 }, rng(1)), 'BAD_OPTION', 'startSize', '128');
    await rejectsWith(stylize(content, style, { size: 2048 }, rng(1)), 'BAD_OPTION', 'size');
    await rejectsWith(stylize(content, style, { patchSizes: [] }, rng(1)), 'BAD_OPTION', 'patchSizes');
    await rejectsWith(stylize(content, [], {}, rng(1)), 'BAD_OPTION', 'style');
    await rejectsWith(stylize(content, [{ image: flat(32, 1), weight: 0 }], {}, rng(1)), 'BAD_OPTION', 'weight');
    await rejectsWith(stylize(content, style, { bogus: 1 } as Partial<StylizeOptions>, rng(1)), 'BAD_OPTION', 'bogus');
  });
});
