// The progressive-growing schedule (pure): images seen → phase and alpha and back, ETA, and the option parsers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clockAt, etaSeconds, pgganStepCost, pointAt, stages, totalImages, type Level } from '../trainer/pggan/schedule.ts';
import { parsePerResolution, parseRemedy } from '../trainer/pggan/settings.ts';

const level = (resolution: number, over: Partial<Level> = {}): Level => ({ resolution, batch: 16, lr: 0.001, stabiliseKimg: 2, transitionKimg: 1, ...over });
const levels: Level[] = [level(4), level(8), level(16, { stabiliseKimg: 3 })];

describe('PGGAN schedule', () => {
  it('lays out 4² stabilise, then fade-in and stabilise per resolution, in images', () => {
    assert.deepEqual(
      stages(levels).map((s) => [s.resolution, s.kind, s.start, s.images]),
      [
        [4, 'stabilise', 0, 2000],
        [8, 'transition', 2000, 1000],
        [8, 'stabilise', 3000, 2000],
        [16, 'transition', 5000, 1000],
        [16, 'stabilise', 6000, 3000],
      ],
    );
    assert.equal(totalImages(levels), 9000);
  });

  it('gives the phase and fade-in alpha for any number of images seen', () => {
    const at = (clock: number) => {
      const p = pointAt(levels, clock);
      return [p.resolution, p.stage.kind, Number(p.alpha.toFixed(4)), p.done];
    };
    assert.deepEqual(at(0), [4, 'stabilise', 1, false]);
    assert.deepEqual(at(1999), [4, 'stabilise', 1, false]);
    assert.deepEqual(at(2000), [8, 'transition', 0, false], 'a fade starts at alpha 0');
    assert.deepEqual(at(2250), [8, 'transition', 0.25, false]);
    assert.deepEqual(at(2999), [8, 'transition', 0.999, false]);
    assert.deepEqual(at(3000), [8, 'stabilise', 1, false], 'and ends at alpha 1');
    assert.deepEqual(at(5500), [16, 'transition', 0.5, false]);
    assert.deepEqual(at(8999), [16, 'stabilise', 1, false]);
    assert.deepEqual(at(9000), [16, 'stabilise', 1, true], 'past the end: done');
  });

  it('alpha rises monotonically through a fade', () => {
    let prev = -1;
    for (let c = 5000; c < 6000; c += 37) {
      const a = pointAt(levels, c).alpha;
      assert.ok(a > prev, `alpha at ${c} (${a}) is above the previous (${prev})`);
      prev = a;
    }
  });

  it('maps a phase back to the images seen (the inverse of pointAt)', () => {
    for (const clock of [0, 2000, 2250, 2999, 3000, 5000, 5500, 6000]) {
      const p = pointAt(levels, clock);
      const back = clockAt(levels, { resolution: p.resolution, alpha: p.alpha });
      const expected = p.stage.kind === 'stabilise' ? p.stage.start : clock;
      assert.equal(back, expected, `clock ${clock} → ${p.resolution}² α ${p.alpha} → ${back}`);
    }
    assert.throws(() => clockAt(levels, { resolution: 32, alpha: 1 }), /no stabilise stage at 32/);
  });

  it('skips zero-length stages', () => {
    const noFade = [level(4), level(8, { transitionKimg: 0 })];
    assert.deepEqual([pointAt(noFade, 2000).stage.kind, pointAt(noFade, 2000).alpha], ['stabilise', 1]);
  });

  it('estimates the time left, scaling unmeasured resolutions by pixel count', () => {
    // 1 ms per image at 4², nothing measured above: 8² costs 4 ms, 16² 16 ms per image.
    const eta = etaSeconds(levels, 1000, (r) => (r === 4 ? 0.001 : null))!;
    const expected = 1000 * 0.001 + 3000 * 0.004 + 4000 * 0.016;
    assert.ok(Math.abs(eta - expected) < 1e-9, `${eta} vs ${expected}`);
    assert.equal(etaSeconds(levels, 0, () => null), null, 'nothing measured: no estimate');
  });

  it('scales by the activations of the run\'s widths when given them: halving widths double the cost per level', () => {
    const widths: Record<number, number> = { 4: 64, 8: 64, 16: 32 };
    const cost = (r: number) => pgganStepCost(r, (l) => widths[l]!);
    assert.deepEqual([cost(4), cost(8), cost(16)], [64 * 16, 64 * 16 + 64 * 64, 64 * 16 + 64 * 64 + 32 * 256]);
    const eta = etaSeconds(levels, 1000, (r) => (r === 4 ? 0.001 : null), cost)!;
    const expected = 1000 * 0.001 + 3000 * 0.001 * (cost(8) / cost(4)) + 4000 * 0.001 * (cost(16) / cost(4));
    assert.ok(Math.abs(eta - expected) < 1e-9, `${eta} vs ${expected}`);
    assert.ok(eta < etaSeconds(levels, 1000, (r) => (r === 4 ? 0.001 : null))!, 'below the pixel-count estimate');
  });

  it('parses per-resolution options and remedies, and says what is wrong', () => {
    const res = [4, 8, 16];
    assert.deepEqual([...parsePerResolution('32', res, () => 1)], [[4, 32], [8, 32], [16, 32]]);
    assert.deepEqual([...parsePerResolution('4:64, 16:8', res, () => 16)], [[4, 64], [8, 16], [16, 8]]);
    assert.throws(() => parsePerResolution('32:4', res, () => 1), /RES:VALUE with RES one of 4, 8, 16/);
    assert.throws(() => parsePerResolution('abc', res, () => 1), /not a number/);
    assert.deepEqual(parseRemedy('lr:0.5,gp:2,fade:1.5'), { lr: 0.5, gp: 2, fade: 1.5 });
    assert.deepEqual(parseRemedy('fade:2'), { lr: 1, gp: 1, fade: 2 });
    assert.throws(() => parseRemedy('speed:2'), /not one of lr:X, gp:X, fade:X/);
    assert.throws(() => parseRemedy('fade:0.5'));
  });
});
