// The output page's adaptive render resolution (pure): a GPU that cannot keep up gets fewer pixels to draw,
// one that can gets them back, and a steady display is left alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdaptiveResolution } from '../client/src/output/resolution.ts';

const feed = (r: AdaptiveResolution, ms: number, n: number) => {
  const changes: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = r.observe(ms + (i % 3) * 0.2);
    if (s !== null) changes.push(s);
  }
  return changes;
};

describe('adaptive render resolution', () => {
  it('keeps full resolution while the display keeps its rate', () => {
    const r = new AdaptiveResolution();
    assert.deepEqual(feed(r, 16.7, 600), []);
    assert.equal(r.scale, 1);
  });

  it('draws fewer pixels when drawing takes 4 display intervals, never below the floor, and recovers', () => {
    const r = new AdaptiveResolution({ min: 0.35 });
    feed(r, 16.7, 30); // learns the display's interval
    const down = feed(r, 67, 120);
    assert.ok(down.length > 0 && down.every((s, i) => i === 0 || s < down[i - 1]!), `the scale steps down: ${down.join(' → ')}`);
    assert.ok(r.scale >= 0.35 && r.scale < 0.6, `at or above the floor: ${r.scale}`);
    feed(r, 67, 600);
    assert.ok(r.scale >= 0.35, 'never below the floor');
    const up = feed(r, 16.7, 900);
    assert.ok(up.length > 0, 'fast again: the scale climbs back');
    assert.equal(r.scale, 1);
  });

  it('ignores stalls (a hidden tab) and mild slowness', () => {
    const r = new AdaptiveResolution();
    feed(r, 16.7, 30);
    assert.deepEqual(feed(r, 5000, 100), [], 'a stall is not a measure of drawing');
    assert.deepEqual(feed(r, 20, 300), [], '20 ms on a 60 Hz display: within the margin');
  });
});
