// Smoothing: critically damped springs (exact, frame-rate independent), one-euro filters, and springs on a
// whole latent state. Fixed signals and seeds; times in seconds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LatentSpec } from '../core/checkpoint/manifest.ts';
import { rng } from '../core/random.ts';
import {
  CriticallyDampedSpring,
  CriticallyDampedSpringArray,
  OneEuroFilter,
  OneEuroFilterArray,
  cloneState,
  latentSprings,
  randomState,
  resetSprings,
  setCategory,
  settlingTime,
  smoothState,
  springStep,
  timeConstantForSettling,
  type LatentState,
} from '../core/latent/index.ts';
import { throwsWith } from './helpers/assert.ts';

const INFOGAN: LatentSpec = { size: 74, noise: 62, categorical: [10], continuous: 2, distribution: 'normal' };


/** The critically damped step response from rest at 0 toward 1. */
const stepResponse = (t: number, tau: number) => 1 - (1 + t / tau) * Math.exp(-t / tau);

/** Runs a spring from rest at 0 toward 1 for `seconds` at `fps`. */
function runSpring(tau: number, fps: number, seconds: number): CriticallyDampedSpring {
  const s = new CriticallyDampedSpring({ timeConstant: tau });
  const frames = Math.round(seconds * fps);
  for (let k = 0; k < frames; k++) s.step(1, 1 / fps);
  return s;
}

describe('critically damped spring', () => {
  it('follows 1 − (1 + t/τ)·e^(−t/τ) at τ, 2τ and 4τ', () => {
    const tau = 0.2;
    for (const m of [1, 2, 4]) {
      const s = runSpring(tau, 60, m * tau);
      assert.ok(Math.abs(s.x - stepResponse(m * tau, tau)) < 1e-4, `at ${m}τ: ${s.x} vs ${stepResponse(m * tau, tau)}`);
    }
    assert.ok(Math.abs(stepResponse(0.2, 0.2) - 0.2642) < 1e-4, 'the curve itself: 26.4% at τ');
  });

  it('never overshoots a step, and moves monotonically', () => {
    const s = new CriticallyDampedSpring({ timeConstant: 0.05 });
    let prev = 0;
    for (let k = 0; k < 600; k++) {
      const x = s.step(1, 1 / 60);
      assert.ok(x <= 1 && x >= prev, `frame ${k}: ${x}`);
      prev = x;
    }
    assert.ok(prev > 1 - 1e-9, 'prev > 1 - 1e-9');
  });

  it('is frame-rate independent: 30, 60 and 144 fps agree after 1 s', () => {
    for (const tau of [0.05, 0.2, 1]) {
      const xs = [30, 60, 144].map((fps) => runSpring(tau, fps, 1));
      for (const s of xs) {
        assert.ok(Math.abs(s.x - (xs[0] as CriticallyDampedSpring).x) < 1e-6, `τ = ${tau}`);
        assert.ok(Math.abs(s.v - (xs[0] as CriticallyDampedSpring).v) < 1e-6, `τ = ${tau} (velocity)`);
      }
      assert.ok(Math.abs((xs[0] as CriticallyDampedSpring).x - stepResponse(1, tau)) < 1e-9, 'Math.abs((xs[0] as CriticallyDampedSpring).x - stepResponse(1, tau)) < 1e-9');
    }
  });

  it('one step of 2·dt equals two steps of dt, from any position and velocity', () => {
    const r = rng(5);
    for (let k = 0; k < 100; k++) {
      const start = { x: r() * 4 - 2, v: r() * 10 - 5 };
      const target = r() * 4 - 2;
      const tau = 0.01 + r();
      const dt = r() * 0.1;
      const once = springStep(start, target, 2 * dt, tau);
      const twice = springStep(springStep(start, target, dt, tau), target, dt, tau);
      assert.ok(Math.abs(once.x - twice.x) < 1e-12 && Math.abs(once.v - twice.v) < 1e-9, 'Math.abs(once.x - twice.x) < 1e-12 && Math.abs(once.v - twice.v) < 1e-9');
    }
  });

  it('irregular frame times give the same motion as regular ones', () => {
    const r = rng(6);
    const s = new CriticallyDampedSpring({ timeConstant: 0.1 });
    let t = 0;
    while (t < 0.5) {
      const dt = Math.min(0.5 - t, 0.002 + r() * 0.05);
      s.step(1, dt);
      t += dt;
    }
    assert.ok(Math.abs(s.x - stepResponse(0.5, 0.1)) < 1e-9, 'Math.abs(s.x - stepResponse(0.5, 0.1)) < 1e-9');
  });

  it('τ = 0 snaps; dt = 0 stays; the time constant can change live', () => {
    const snap = new CriticallyDampedSpring({ timeConstant: 0 });
    assert.equal(snap.step(3, 1 / 60), 3);
    const s = new CriticallyDampedSpring({ timeConstant: 0.1 }, 2);
    assert.equal(s.step(5, 0), 2);
    s.step(5, 0.05);
    const { x, v } = s;
    s.timeConstant = 0.3;
    s.step(5, 0.05);
    assert.deepEqual({ x: s.x, v: s.v }, springStep({ x, v }, 5, 0.05, 0.3));
  });

  it('an array of springs matches the scalar spring entry by entry', () => {
    const arr = new CriticallyDampedSpringArray(3, { timeConstant: 0.15 }, [0, 1, -2]);
    const scalars = [0, 1, -2].map((x0) => new CriticallyDampedSpring({ timeConstant: 0.15 }, x0));
    const target = [1, -1, 0.5];
    for (let k = 0; k < 20; k++) {
      const out = arr.step(target, 1 / 30);
      scalars.forEach((s, i) => assert.ok(Math.abs(s.step(target[i] as number, 1 / 30) - (out[i] as number)) < 1e-6, 'Math.abs(s.step(target[i] as number, 1 / 30) - (out[i] as number)) < 1e-6'));
    }
    const fast = [30, 144].map((fps) => {
      const a = new CriticallyDampedSpringArray(2, { timeConstant: 0.2 });
      for (let k = 0; k < fps; k++) a.step([1, -3], 1 / fps);
      return Array.from(a.x);
    });
    assert.ok(Math.abs((fast[0]![0] as number) - (fast[1]![0] as number)) < 1e-6, 'Math.abs((fast[0]![0] as number) - (fast[1]![0] as number)) < 1e-6');
    assert.ok(Math.abs((fast[0]![1] as number) - (fast[1]![1] as number)) < 1e-6, 'Math.abs((fast[0]![1] as number) - (fast[1]![1] as number)) < 1e-6');
    throwsWith(() => arr.step([1, 2], 0.1), 'LATENT_SHAPE_MISMATCH', '2 values');
  });

  it('settlingTime is where the step response comes within the tolerance', () => {
    const tau = 0.25;
    const t = settlingTime(tau, 0.02);
    assert.ok(Math.abs(1 - stepResponse(t, tau) - 0.02) < 1e-9, 'Math.abs(1 - stepResponse(t, tau) - 0.02) < 1e-9');
    assert.ok(Math.abs(t / tau - 5.8339) < 1e-3, 'Math.abs(t / tau - 5.8339) < 1e-3');
    assert.ok(Math.abs(timeConstantForSettling(t, 0.02) - tau) < 1e-12, 'Math.abs(timeConstantForSettling(t, 0.02) - tau) < 1e-12');
    assert.ok(Math.abs(settlingTime(1, 1 - 0.6321) - 1) > 0.5, '63% is not reached at τ (that is a first-order filter)');
  });

  it('options are checked with the value and the range named', () => {
    throwsWith(() => new CriticallyDampedSpring({ timeConstant: -0.1 }), 'BAD_OPTION', 'spring timeConstant', 'from 0 to 60 s', 'got -0.1');
    throwsWith(() => new CriticallyDampedSpring({ timeConstant: Number.NaN }), 'BAD_OPTION', 'got NaN');
    throwsWith(() => new CriticallyDampedSpring({ timeconstant: 1 } as object), 'BAD_OPTION', "Unknown option 'timeconstant'");
    throwsWith(() => new CriticallyDampedSpring().step(1, -0.01), 'BAD_OPTION', 'time step dt', 'got -0.01');
    throwsWith(() => settlingTime(1, 0), 'BAD_OPTION', 'settling tolerance', 'greater than 0');
    assert.equal(new CriticallyDampedSpring().timeConstant, 0.1, 'complete defaults');
  });
});

describe('one-euro filter', () => {
  /** Filters samples of `signal` at `fps` for `seconds`; returns [time, input, output] per frame. */
  function run(filter: OneEuroFilter, signal: (t: number) => number, fps: number, seconds: number): [number, number, number][] {
    const out: [number, number, number][] = [];
    const frames = Math.round(seconds * fps);
    for (let k = 0; k <= frames; k++) {
      const t = k / fps;
      const x = signal(t);
      out.push([t, x, filter.filter(x, k === 0 ? 0 : 1 / fps)]);
    }
    return out;
  }

  const rms = (xs: number[]) => Math.sqrt(xs.reduce((s, x) => s + x * x, 0) / xs.length);

  it('passes the first value through and converges on a constant input', () => {
    const f = new OneEuroFilter();
    assert.equal(f.filter(0, 0), 0);
    let y = 0;
    for (let k = 0; k < 300; k++) y = f.filter(1, 1 / 60);
    assert.ok(Math.abs(y - 1) < 1e-6, `${y}`);
  });

  it('removes jitter at rest, and lags little when moving fast', () => {
    const r = rng(7);
    const noise = Array.from({ length: 2000 }, () => (r() - 0.5) * 0.02);
    const jitter = (k: number) => noise[k % noise.length] as number;
    // At rest: a still value with jitter.
    const rest = run(new OneEuroFilter({ minCutoff: 1, beta: 1 }), (t) => 0.5 + jitter(Math.round(t * 60)), 60, 5).slice(60);
    const inJitter = rms(rest.map(([, x]) => x - 0.5));
    const outJitter = rms(rest.map(([, , y]) => y - 0.5));
    assert.ok(outJitter < 0.4 * inJitter, `jitter ${inJitter} → ${outJitter}`);
    // Moving: a fast ramp (2 units/s). The cutoff rises to minCutoff + beta·speed = 3 Hz, so the lag is a
    // third of a plain 1 Hz low-pass's: speed / (2π · cutoff).
    const ramp = (t: number) => 2 * t;
    const lag = (beta: number) => {
      const rows = run(new OneEuroFilter({ minCutoff: 1, beta }), ramp, 60, 1);
      const [, x, y] = rows[rows.length - 1] as [number, number, number];
      return x - y;
    };
    assert.ok(Math.abs(lag(1) - 2 / (2 * Math.PI * 3)) < 0.01, `lag with beta 1: ${lag(1)}`);
    assert.ok(Math.abs(lag(0) - 2 / (2 * Math.PI * 1)) < 0.01, `lag of a plain low-pass: ${lag(0)}`);
  });

  it('is frame-rate independent within a tolerance', () => {
    const signal = (t: number) => Math.sin(2 * Math.PI * 0.7 * t) + 0.5 * Math.sin(2 * Math.PI * 0.23 * t + 1);
    const at = (fps: number) => run(new OneEuroFilter({ minCutoff: 1.5, beta: 0.5 }), signal, fps, 3);
    const ref = at(144);
    for (const fps of [30, 60]) {
      const rows = at(fps);
      let worst = 0;
      for (const [t, , y] of rows) {
        const k = Math.round(t * 144);
        worst = Math.max(worst, Math.abs(y - (ref[k] as [number, number, number])[2]));
      }
      assert.ok(worst < 0.03, `${fps} fps vs 144 fps: worst difference ${worst} (signal amplitude 1.5)`);
    }
  });

  it('the vector filter matches the scalar filter per entry', () => {
    const arr = new OneEuroFilterArray(2, { minCutoff: 2, beta: 0.3 });
    const scalars = [new OneEuroFilter({ minCutoff: 2, beta: 0.3 }), new OneEuroFilter({ minCutoff: 2, beta: 0.3 })];
    for (let k = 0; k < 50; k++) {
      const x = [Math.sin(k / 7), Math.cos(k / 3)];
      const dt = k === 0 ? 0 : 1 / 50;
      const out = arr.filter(x, dt);
      scalars.forEach((f, i) => assert.ok(Math.abs(f.filter(x[i] as number, dt) - (out[i] as number)) < 1e-6, 'Math.abs(f.filter(x[i] as number, dt) - (out[i] as number)) < 1e-6'));
    }
  });

  it('options are checked', () => {
    throwsWith(() => new OneEuroFilter({ minCutoff: 0 }), 'BAD_OPTION', 'minCutoff', 'greater than 0', 'got 0');
    throwsWith(() => new OneEuroFilter({ beta: -1 }), 'BAD_OPTION', 'beta', 'got -1');
    throwsWith(() => new OneEuroFilter({ dCutoff: 5000 }), 'BAD_OPTION', 'dCutoff', '1000 Hz', 'got 5000');
  });
});

describe('smoothState', () => {
  it('moves every entry of a latent state by the spring, frame-rate independently', () => {
    const from = randomState(INFOGAN, 1);
    const to = setCategory(randomState(INFOGAN, 2), 0, 4);
    to.continuous[0] = 0.8;
    const run = (fps: number): LatentState => {
      const springs = latentSprings(from, { noise: 0.2, categorical: 0.1, continuous: 0.3 });
      let s = cloneState(from);
      for (let k = 0; k < Math.round(0.5 * fps); k++) s = smoothState(springs, s, to, 1 / fps);
      return s;
    };
    const a = run(30);
    const b = run(144);
    const close = (x: Float32Array, y: Float32Array, tol: number) => x.every((v, i) => Math.abs(v - (y[i] as number)) < tol);
    assert.ok(close(a.noise, b.noise, 1e-5) && close(a.continuous, b.continuous, 1e-5), 'close(a.noise, b.noise, 1e-5) && close(a.continuous, b.continuous, 1e-5)');
    assert.ok(close(a.categorical[0] as Float32Array, b.categorical[0] as Float32Array, 1e-5), 'close(a.categorical[0] as Float32Array, b.categorical[0] as Float32Array, 1e-5)');
    // Each part follows its own time constant.
    const fraction = (tau: number) => stepResponse(0.5, tau);
    const i = 7;
    const noiseExpected = (from.noise[i] as number) + fraction(0.2) * ((to.noise[i] as number) - (from.noise[i] as number));
    assert.ok(Math.abs((a.noise[i] as number) - noiseExpected) < 1e-5, 'Math.abs((a.noise[i] as number) - noiseExpected) < 1e-5');
    assert.ok(Math.abs((a.continuous[0] as number) - 0.8 * fraction(0.3)) < 1e-5, 'Math.abs((a.continuous[0] as number) - 0.8 * fraction(0.3)) < 1e-5');
    const w = a.categorical[0] as Float32Array;
    assert.ok(Math.abs((w[4] as number) - fraction(0.1)) < 1e-5, 'Math.abs((w[4] as number) - fraction(0.1)) < 1e-5');
    assert.ok(Math.abs(w.reduce((x, y) => x + y, 0) - 1) < 1e-6 && w.every((x) => x >= 0), 'Math.abs(w.reduce((x, y) => x + y, 0) - 1) < 1e-6 && w.every((x) => x >= 0)');
  });

  it('returns a new state, leaves current and target alone, and keeps weights a mix when the target jumps', () => {
    const springs = latentSprings(randomState(INFOGAN, 1), { categorical: 0.05 });
    let s = randomState(INFOGAN, 1);
    const targets = [3, 8, 1, 8, 0].map((v) => setCategory(randomState(INFOGAN, 1), 0, v));
    for (let k = 0; k < 100; k++) {
      const target = targets[Math.floor(k / 7) % targets.length] as LatentState;
      const before = cloneState(s);
      const targetBefore = cloneState(target);
      const next = smoothState(springs, s, target, 1 / 60);
      assert.deepEqual(s, before);
      assert.deepEqual(target, targetBefore);
      const w = next.categorical[0] as Float32Array;
      assert.ok(w.every((x) => x >= 0) && Math.abs(w.reduce((x, y) => x + y, 0) - 1) < 1e-5, `tick ${k}`);
      s = next;
    }
    resetSprings(springs);
    assert.ok(springs.velocity.noise.every((v) => v === 0), 'springs.velocity.noise.every((v) => v === 0)');
    throwsWith(() => smoothState(springs, s, randomState({ ...INFOGAN, categorical: [4] }, 1), 0.1), 'LATENT_SHAPE_MISMATCH', 'categorical code 0');
    throwsWith(() => latentSprings(s, { noise: 100 }), 'BAD_OPTION', 'noise time constant', 'got 100');
  });
});
