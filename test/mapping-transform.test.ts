// The transform stages one by one (ranges, dead zone, curves, invert, quantize), the one-pole smoother
// against its time constant, and the trigger envelope's decay.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyCurve, applyTransform, deadZone, envelopeLevel, normalizeRange, quantize, smoothStep, TRANSFORM_DEFAULTS, type Transform } from '../core/mapping/index.ts';

const close = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol;
const tf = (t: Partial<Transform>): Transform => ({ ...TRANSFORM_DEFAULTS, ...t });

describe('mapping transform stages', () => {
  it('maps the input range to 0..1, clamped, and reversed ranges reverse', () => {
    assert.equal(normalizeRange(0.5, [0, 1]), 0.5, 'identity');
    assert.ok(close(normalizeRange(0.5, [0.2, 0.8]), 0.5), 'middle stays middle');
    assert.ok(close(normalizeRange(0.35, [0.2, 0.8]), 0.25), 'a quarter of the way');
    assert.equal(normalizeRange(0.1, [0.2, 0.8]), 0, 'below the range clamps to 0');
    assert.equal(normalizeRange(0.9, [0.2, 0.8]), 1, 'above the range clamps to 1');
    assert.ok(close(normalizeRange(0.25, [1, 0]), 0.75), 'reversed range');
  });

  it('maps 0..1 to the output range, reversed too', () => {
    assert.equal(applyTransform(0.5, tf({ out: [-2, 2] })), 0, 'middle of ±2');
    assert.equal(applyTransform(1, tf({ out: [-2, 2] })), 2, 'top of ±2');
    assert.equal(applyTransform(0, tf({ out: [3, -1] })), 3, 'reversed out: 0 → from');
    assert.equal(applyTransform(0.25, tf({ in: [0, 0.5], out: [0, 10] })), 5, 'in and out together');
  });

  it('ignores a dead zone at the start and stretches the rest', () => {
    assert.equal(deadZone(0.05, 0.1, 'start'), 0, 'inside the zone');
    assert.equal(deadZone(0.1, 0.1, 'start'), 0, 'at its edge');
    assert.ok(close(deadZone(0.55, 0.1, 'start'), 0.5), 'stretched: 0.55 → 0.5');
    assert.equal(deadZone(1, 0.1, 'start'), 1, 'the top still reaches 1');
  });

  it('holds a dead zone around the centre at 0.5 and stretches both sides', () => {
    assert.equal(deadZone(0.52, 0.1, 'center'), 0.5, 'near the centre reads 0.5');
    assert.equal(deadZone(0.46, 0.1, 'center'), 0.5, 'on both sides');
    assert.equal(deadZone(0, 0.1, 'center'), 0, 'the bottom still reaches 0');
    assert.equal(deadZone(1, 0.1, 'center'), 1, 'the top still reaches 1');
    assert.ok(close(deadZone(0.225, 0.1, 'center'), 0.25), 'halfway down the lower side');
    assert.ok(close(deadZone(0.775, 0.1, 'center'), 0.75), 'halfway up the upper side');
  });

  it('curves keep their ends and bend the way their names say', () => {
    for (const curve of ['linear', 'exp', 'log', 's-curve'] as const) {
      assert.ok(close(applyCurve(0, curve, 3), 0), `${curve}(0) = 0`);
      assert.ok(close(applyCurve(1, curve, 3), 1), `${curve}(1) = 1`);
      let prev = -1;
      for (let u = 0; u <= 1.0001; u += 0.05) {
        const y = applyCurve(Math.min(u, 1), curve, 3);
        assert.ok(y >= prev, `${curve} is increasing at ${u}`);
        prev = y;
      }
    }
    assert.ok(applyCurve(0.5, 'exp', 3) < 0.3, `exp is slow at first: ${applyCurve(0.5, 'exp', 3)}`);
    assert.ok(applyCurve(0.5, 'log', 3) > 0.7, `log is fast at first: ${applyCurve(0.5, 'log', 3)}`);
    assert.ok(close(applyCurve(applyCurve(0.3, 'exp', 3), 'log', 3), 0.3), 'log is the inverse of exp');
    assert.ok(close(applyCurve(0.5, 's-curve', 2), 0.5), 's-curve passes through the middle');
    assert.ok(applyCurve(0.25, 's-curve', 2) < 0.25 && applyCurve(0.75, 's-curve', 2) > 0.75, 's-curve is flat at the ends, steep in the middle');
    assert.ok(close(applyCurve(0.25, 's-curve', 2), 0.0625), '0.5·(2u)^3 at u = 0.25');
  });

  it('inverts after the curve', () => {
    assert.equal(applyTransform(0.2, tf({ invert: true })), 0.8, 'linear invert');
    assert.ok(close(applyTransform(0.5, tf({ invert: true, curve: 'exp', curveAmount: 3 })), 1 - applyCurve(0.5, 'exp', 3)), 'invert of the curved value');
  });

  it('quantizes to evenly spaced steps', () => {
    assert.equal(quantize(0.3, 2), 0, 'two steps: off');
    assert.equal(quantize(0.6, 2), 1, 'two steps: on');
    assert.equal(quantize(0.4, 5), 0.5, 'five steps: nearest of 0, .25, .5, .75, 1');
    assert.equal(quantize(0.37, 0), 0.37, '0 = off');
    const out = new Set<number>();
    for (let u = 0; u <= 1; u += 0.01) out.add(applyTransform(u, tf({ quantize: 4, out: [0, 3] })));
    assert.deepEqual([...out].sort(), [0, 1, 2, 3], 'a quantized route only ever gives its steps');
  });
});

describe('one-pole smoothing', () => {
  it('reaches 63% of a step after one time constant, in one step or many', () => {
    const tau = 0.2;
    const one = smoothStep(0, 1, 1, tau, tau, tau);
    assert.ok(close(one, 1 - Math.exp(-1)), `one step of τ: ${one}`);
    for (const fps of [30, 120]) {
      let y = 0;
      const n = Math.round(tau * fps);
      for (let i = 0; i < n; i++) y = smoothStep(y, 1, 1, 1 / fps, tau, tau);
      assert.ok(close(y, 1 - Math.exp(-1), 1e-12), `${fps} steps a second: ${y}`);
    }
  });

  it('uses attack going up and release going down; 0 follows at once', () => {
    assert.ok(close(smoothStep(0, 1, 1, 0.1, 0.1, 1), 1 - Math.exp(-1)), 'rising uses attack');
    assert.ok(close(smoothStep(1, 0, 0, 1, 0.1, 1), Math.exp(-1)), 'falling uses release');
    assert.equal(smoothStep(0.3, 0.9, 0.9, 0.01, 0, 0), 0.9, 'no smoothing');
  });

  it('follows a ramp exactly whatever the step size', () => {
    // Input x(t) = t from y(0) = 0, τ = 0.5: y(t) = t − τ(1 − e^(−t/τ)).
    const tau = 0.5;
    const exact = 1 - tau * (1 - Math.exp(-1 / tau));
    for (const steps of [1, 7, 100]) {
      let y = 0;
      for (let i = 0; i < steps; i++) y = smoothStep(y, i / steps, (i + 1) / steps, 1 / steps, tau, tau);
      assert.ok(close(y, exact, 1e-12), `${steps} steps: ${y} vs ${exact}`);
    }
  });
});

describe('trigger envelope', () => {
  const shape = { attack: 0, decay: 0.2 };
  it('jumps to the peak and decays to 37% after one decay time', () => {
    const env = { start: 1, from: 0, peak: 0.8 };
    assert.equal(envelopeLevel(env, shape, 1), 0.8, 'the peak at the trigger');
    assert.ok(close(envelopeLevel(env, shape, 1.2), 0.8 * Math.exp(-1)), 'e^-1 after one decay time');
    assert.ok(close(envelopeLevel(env, shape, 1.6), 0.8 * Math.exp(-3)), 'e^-3 after three');
    assert.equal(envelopeLevel(undefined, shape, 5), 0, 'never triggered: 0');
  });

  it('rises linearly over its attack first', () => {
    const env = { start: 0, from: 0, peak: 1 };
    const s = { attack: 0.1, decay: 0.2 };
    assert.ok(close(envelopeLevel(env, s, 0.05), 0.5), 'half way up');
    assert.ok(close(envelopeLevel(env, s, 0.1), 1), 'the peak after the attack');
    assert.ok(close(envelopeLevel(env, s, 0.3), Math.exp(-1)), 'then the decay');
  });
});
