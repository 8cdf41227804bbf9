// The output page's look for offline renders (render/look.ts): the page shader's formulas on the CPU.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_DISPLAY } from '../protocol/display.ts';
import { Look } from '../render/look.ts';

const pixel = (r: number, g: number, b: number, n = 4) => Uint8Array.from({ length: n * 3 }, (_, i) => [r, g, b][i % 3]!);

describe('the look in renders', () => {
  it('the default look changes nothing', () => {
    const look = new Look(DEFAULT_DISPLAY, 30);
    assert.equal(look.colours, false);
    assert.equal(look.sharpens, false);
  });

  it('saturation 0 makes grey with the Rec. 709 luma; contrast and brightness act about mid-grey', () => {
    const grey = new Look({ ...DEFAULT_DISPLAY, saturation: 0 }, 30);
    const f = pixel(200, 40, 10);
    grey.colour(f);
    const luma = Math.round(0.2126 * 200 + 0.7152 * 40 + 0.0722 * 10);
    assert.deepEqual([...f.subarray(0, 3)], [luma, luma, luma]);
    const flat = new Look({ ...DEFAULT_DISPLAY, contrast: 0, brightness: 0.25 }, 30);
    const g = pixel(0, 128, 255);
    flat.colour(g);
    assert.deepEqual([...g.subarray(0, 3)], [191, 191, 191], 'contrast 0: everything mid-grey, then +0.25');
  });

  it('trails: a bright frame fades by trails^(60/fps) a video frame, and a brighter new one wins', () => {
    const look = new Look({ ...DEFAULT_DISPLAY, trails: 0.9 }, 30);
    const keep = 0.9 ** 2;
    look.colour(pixel(255, 255, 255));
    const next = pixel(0, 0, 0);
    look.colour(next);
    assert.equal(next[0], Math.round((keep - 1 / 512) * 255));
    const brighter = pixel(250, 250, 250);
    look.colour(brighter);
    assert.equal(brighter[0], 250);
    assert.equal(look.remembers, true);
  });

  it('sharpening pushes an edge apart and leaves flat areas alone', () => {
    const look = new Look({ ...DEFAULT_DISPLAY, sharpen: 1 }, 30);
    // A 4×1 strip: dark, dark, light, light.
    const f = Uint8Array.from([50, 50, 50, 50, 50, 50, 200, 200, 200, 200, 200, 200]);
    look.sharpen(f, 4, 1);
    assert.ok(f[3]! < 50 && f[6]! > 200, `the edge: ${f[3]} | ${f[6]}`);
    assert.equal(f[0], 50, 'flat stays flat');
  });
});
