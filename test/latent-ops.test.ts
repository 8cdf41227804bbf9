// Latent state and operations: layout round trips, JSON with clear layout errors, slerp geometry, drift,
// keyframe loops, truncation and knob directions. Pure math on fixed seeds; no engine.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LatentSpec } from '../core/checkpoint/manifest.ts';
import {
  angleBetween,
  cloneState,
  crossfadeCategory,
  dot,
  driftAt,
  fromVector,
  keyframeLoop,
  loopAt,
  norm,
  normalizeNoise,
  nudge,
  randomDirections,
  randomState,
  setCategory,
  setContinuous,
  slerp,
  slerpVectors,
  stateFromJson,
  stateToJson,
  toVector,
  transition,
  transitionAt,
  truncate,
  type LatentState,
} from '../core/latent/index.ts';
import { throwsWith } from './helpers/assert.ts';

const INFOGAN: LatentSpec = { size: 74, noise: 62, categorical: [10], continuous: 2, distribution: 'normal' };
const MULTI: LatentSpec = { size: 62 + 14 + 2, noise: 62, categorical: [10, 4], continuous: 2, distribution: 'normal' };
const PGGAN: LatentSpec = { size: 512, noise: 512, categorical: [], continuous: 0, distribution: 'normal' };
const UNIFORM: LatentSpec = { size: 16, noise: 16, categorical: [], continuous: 0, distribution: 'uniform' };


function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

function stateDiff(a: LatentState, b: LatentState): number {
  let m = Math.max(maxDiff(a.noise, b.noise), maxDiff(a.continuous, b.continuous));
  assert.equal(a.categorical.length, b.categorical.length);
  a.categorical.forEach((w, i) => (m = Math.max(m, maxDiff(w, b.categorical[i] as Float32Array))));
  return m;
}

/** A state with random noise, soft categorical weights and nonzero continuous codes. */
function busyState(spec: LatentSpec, seed: number): LatentState {
  let s = randomState(spec, seed);
  spec.categorical.forEach((k, code) => (s = crossfadeCategory(s, code, (seed + code) % k, (seed + code + 1) % k, 0.3)));
  for (let i = 0; i < spec.continuous; i++) s = setContinuous(s, i, 0.25 * (i + 1) * (seed % 2 ? 1 : -1));
  return s;
}

describe('latent state layout', () => {
  for (const [name, spec] of [['InfoGAN', INFOGAN], ['multi-code', MULTI], ['PGGAN', PGGAN]] as const) {
    it(`toVector / fromVector round trip: ${name}`, () => {
      const s = busyState(spec, 3);
      const v = toVector(spec, s);
      assert.equal(v.length, spec.size);
      assert.deepEqual(v.subarray(0, spec.noise), s.noise);
      let offset = spec.noise;
      spec.categorical.forEach((k, code) => {
        assert.deepEqual(v.subarray(offset, offset + k), s.categorical[code]);
        offset += k;
      });
      assert.deepEqual(v.subarray(offset), s.continuous);
      assert.deepEqual(fromVector(spec, v), s);
      // A caller's buffer is filled in place.
      const out = new Float32Array(spec.size);
      assert.equal(toVector(spec, s, out), out);
      assert.deepEqual(out, v);
    });

    it(`JSON round trip: ${name}`, () => {
      const s = busyState(spec, 4);
      const text = JSON.stringify(stateToJson(s));
      assert.deepEqual(stateFromJson(spec, JSON.parse(text)), s);
    });
  }

  it('randomState: noise from the distribution, codes at value 0, continuous 0; seeded', () => {
    const s = randomState(INFOGAN, 11);
    assert.equal(s.noise.length, 62);
    assert.deepEqual(Array.from(s.categorical[0] as Float32Array), [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(Array.from(s.continuous), [0, 0]);
    assert.deepEqual(randomState(INFOGAN, 11), s);
    assert.notDeepEqual(randomState(INFOGAN, 12).noise, s.noise);
    const big = randomState(PGGAN, 1).noise;
    const mean = big.reduce((a, b) => a + b, 0) / big.length;
    const variance = big.reduce((a, b) => a + (b - mean) ** 2, 0) / big.length;
    assert.ok(Math.abs(mean) < 0.15 && Math.abs(variance - 1) < 0.2, `N(0,1): mean ${mean}, variance ${variance}`);
    const u = randomState(UNIFORM, 1).noise;
    assert.ok(u.every((x) => x >= -1 && x < 1) && u.some((x) => x < -0.3) && u.some((x) => x > 0.3), 'u.every((x) => x >= -1 && x < 1) && u.some((x) => x < -0.3) && u.some((x) => x > 0.3)');
  });

  it('a JSON state of another layout names what differs', () => {
    const multi = stateToJson(busyState(MULTI, 1));
    // Code 1 has 4 values in MULTI; a 10-value code there is named with both sizes.
    const wrongCode = { ...multi, categorical: [multi.categorical[0], multi.categorical[0]] };
    throwsWith(() => stateFromJson(MULTI, wrongCode), 'LATENT_SHAPE_MISMATCH', "categorical code 1 has 10 values, the model's has 4");
    const swapped = { ...multi, categorical: [multi.categorical[1], multi.categorical[0]] };
    throwsWith(() => stateFromJson(MULTI, swapped), 'LATENT_SHAPE_MISMATCH', 'categorical code 0 has 4 values', 'categorical code 1 has 10 values');
    throwsWith(() => stateFromJson(PGGAN, multi), 'LATENT_SHAPE_MISMATCH', "the noise has 62 values, the model's has 512", 'the state has 2 categorical codes, the model\'s latent has 0');
    throwsWith(() => stateFromJson(INFOGAN, { ...stateToJson(busyState(INFOGAN, 1)), continuous: [0] }), 'LATENT_SHAPE_MISMATCH', 'the state has 1 continuous code, the model\'s latent has 2');
    throwsWith(() => toVector(PGGAN, busyState(INFOGAN, 1)), 'LATENT_SHAPE_MISMATCH', 'noise has 62');
    throwsWith(() => fromVector(INFOGAN, new Float32Array(73)), 'LATENT_SHAPE_MISMATCH', '73');
  });

  it('malformed JSON states are refused with the field and code named', () => {
    const good = stateToJson(busyState(INFOGAN, 1));
    throwsWith(() => stateFromJson(INFOGAN, { ...good, noise: 'abc' }), 'LATENT_INVALID', 'noise');
    throwsWith(() => stateFromJson(INFOGAN, null), 'LATENT_INVALID');
    throwsWith(() => stateFromJson(INFOGAN, { ...good, categorical: [[0.5, 0.2, 0, 0, 0, 0, 0, 0, 0, 0]] }), 'LATENT_INVALID', 'code 0', 'sum to 0.7');
    throwsWith(() => stateFromJson(INFOGAN, { ...good, categorical: [[1.5, -0.5, 0, 0, 0, 0, 0, 0, 0, 0]] }), 'LATENT_INVALID', 'code 0', '-0.5');
    // Sums a little off 1 (a hand edit) are accepted and renormalised.
    const near = stateFromJson(INFOGAN, { ...good, categorical: [[0.3004, 0.7, 0, 0, 0, 0, 0, 0, 0, 0]] });
    assert.ok(Math.abs((near.categorical[0] as Float32Array).reduce((a, b) => a + b, 0) - 1) < 1e-6, 'Math.abs((near.categorical[0] as Float32Array).reduce((a, b) => a + b, 0) - 1) < 1e-6');
  });
});

describe('latent operations', () => {
  it('setCategory, crossfadeCategory and setContinuous return new states and leave their input alone', () => {
    const s = randomState(MULTI, 2);
    const before = cloneState(s);
    const a = setCategory(s, 1, 3);
    assert.deepEqual(Array.from(a.categorical[1] as Float32Array), [0, 0, 0, 1]);
    assert.deepEqual(a.categorical[0], s.categorical[0]);
    for (const t of [0, 0.1, 0.37, 0.5, 0.9, 1]) {
      const w = crossfadeCategory(s, 0, 2, 7, t).categorical[0] as Float32Array;
      assert.ok(Math.abs(w.reduce((x, y) => x + y, 0) - 1) < 1e-6, `weights sum to 1 at t = ${t}`);
      assert.ok(Math.abs((w[2] as number) - (1 - t)) < 1e-6 && Math.abs((w[7] as number) - t) < 1e-6, 'Math.abs((w[2] as number) - (1 - t)) < 1e-6 && Math.abs((w[7] as number) - t) < 1e-6');
    }
    assert.deepEqual(Array.from(crossfadeCategory(s, 1, 2, 2, 0.4).categorical[1] as Float32Array), [0, 0, 1, 0]);
    assert.equal(setContinuous(s, 1, -0.75).continuous[1], -0.75);
    assert.deepEqual(s, before);
  });

  it('operations check their arguments', () => {
    const s = randomState(INFOGAN, 2);
    throwsWith(() => setCategory(s, 1, 0), 'BAD_OPTION', 'categorical code', 'from 0 to 0', 'got 1');
    throwsWith(() => setCategory(s, 0, 10), 'BAD_OPTION', 'value of categorical code 0', 'from 0 to 9', 'got 10');
    throwsWith(() => crossfadeCategory(s, 0, 1, 2, 1.5), 'BAD_OPTION', 'from 0 to 1', 'got 1.5');
    throwsWith(() => setCategory(randomState(PGGAN, 1), 0, 0), 'BAD_OPTION', 'no categorical codes');
    throwsWith(() => setContinuous(s, 2, 0), 'BAD_OPTION', 'continuous code', 'got 2');
    throwsWith(() => nudge(s, new Float32Array(10), 1), 'LATENT_SHAPE_MISMATCH', 'direction has 10 values');
    throwsWith(() => truncate(s, 1.2), 'BAD_OPTION', 'psi', 'from 0 to 1', 'got 1.2');
    throwsWith(() => slerp(s, randomState(PGGAN, 1), 0.5), 'LATENT_SHAPE_MISMATCH', 'slerp');
  });

  it('nudge moves the noise along a direction by an amount', () => {
    const s = randomState(INFOGAN, 5);
    const [d] = randomDirections(62, 1, 9) as [Float32Array];
    const moved = nudge(s, d, 0.8);
    const delta = Float32Array.from(moved.noise, (x, i) => x - (s.noise[i] as number));
    assert.ok(Math.abs(norm(delta) - 0.8) < 1e-5, 'Math.abs(norm(delta) - 0.8) < 1e-5');
    assert.ok(Math.abs(dot(delta, d) - 0.8) < 1e-5, 'Math.abs(dot(delta, d) - 0.8) < 1e-5');
    assert.deepEqual(moved.categorical, s.categorical);
  });

  it('truncate: ψ = 1 is the identity, ψ = 0 the mean, between scales the distance to the mean', () => {
    const s = busyState(INFOGAN, 6);
    assert.deepEqual(truncate(s, 1), s);
    assert.ok(truncate(s, 0).noise.every((x) => x === 0), 'truncate(s, 0).noise.every((x) => x === 0)');
    const mean = randomState(INFOGAN, 99).noise;
    assert.ok(maxDiff(truncate(s, 0, mean).noise, mean) === 0, 'maxDiff(truncate(s, 0, mean).noise, mean) === 0');
    const half = truncate(s, 0.5, mean).noise;
    for (let i = 0; i < 62; i++) assert.ok(Math.abs((half[i] as number) - ((mean[i] as number) + 0.5 * ((s.noise[i] as number) - (mean[i] as number)))) < 1e-6, 'Math.abs((half[i] as number) - ((mean[i] as number) + 0.5 * ((s.noise[i] as number) - (mean[i] as number)))) < 1e-6');
    assert.deepEqual(truncate(s, 0).categorical, s.categorical);
  });

  it('normalizeNoise puts the noise on the sphere of radius √n (or the radius given)', () => {
    const s = busyState(PGGAN, 2);
    assert.ok(Math.abs(norm(normalizeNoise(s).noise) - Math.sqrt(512)) < 1e-4, 'Math.abs(norm(normalizeNoise(s).noise) - Math.sqrt(512)) < 1e-4');
    const r3 = normalizeNoise(s, 3).noise;
    assert.ok(Math.abs(norm(r3) - 3) < 1e-5 && Math.abs(angleBetween(r3, s.noise)) < 1e-6, 'Math.abs(norm(r3) - 3) < 1e-5 && Math.abs(angleBetween(r3, s.noise)) < 1e-6');
  });

  it('randomDirections are orthonormal and seeded', () => {
    for (const [n, k] of [[62, 8], [512, 16], [4, 4]] as const) {
      const dirs = randomDirections(n, k, 3);
      assert.equal(dirs.length, k);
      for (let i = 0; i < k; i++) {
        for (let j = i; j < k; j++) {
          const d = dot(dirs[i] as Float32Array, dirs[j] as Float32Array);
          assert.ok(Math.abs(d - (i === j ? 1 : 0)) < 1e-5, `n=${n}: dot(${i}, ${j}) = ${d}`);
        }
      }
      assert.deepEqual(randomDirections(n, k, 3), dirs);
    }
    assert.deepEqual(randomDirections(62, 3, 3), randomDirections(62, 8, 3).slice(0, 3));
    throwsWith(() => randomDirections(8, 9, 1), 'BAD_OPTION', 'number of directions', 'from 0 to 8');
  });
});

describe('slerp and transitions', () => {
  /** Two noises of equal norm and a state pair around them. */
  function equalNormPair(): [LatentState, LatentState] {
    const a = busyState(INFOGAN, 1);
    const b = busyState(INFOGAN, 2);
    const scale = norm(a.noise) / norm(b.noise);
    b.noise = Float32Array.from(b.noise, (x) => x * scale);
    return [a, b];
  }

  it('endpoints are exact', () => {
    const [a, b] = equalNormPair();
    assert.deepEqual(slerp(a, b, 0), a);
    assert.deepEqual(slerp(a, b, 1), b);
  });

  it('the norm is kept mid-way when |a| = |b| (a lerp would shrink it)', () => {
    const [a, b] = equalNormPair();
    const r = norm(a.noise);
    for (const t of [0.1, 0.25, 0.5, 0.75, 0.9]) {
      assert.ok(Math.abs(norm(slerp(a, b, t).noise) - r) < 1e-5 * r, `t = ${t}`);
    }
    const lerped = Float32Array.from(a.noise, (x, i) => 0.5 * x + 0.5 * (b.noise[i] as number));
    assert.ok(norm(lerped) < 0.9 * r, 'the test pair is far enough apart for lerp to shrink');
  });

  it('the norm goes linearly from |a| to |b|', () => {
    const a = randomState(PGGAN, 1).noise;
    const b = Float32Array.from(randomState(PGGAN, 2).noise, (x) => 2 * x);
    const t = 0.3;
    assert.ok(Math.abs(norm(slerpVectors(a, b, t)) - (0.7 * norm(a) + 0.3 * norm(b))) < 1e-4, 'Math.abs(norm(slerpVectors(a, b, t)) - (0.7 * norm(a) + 0.3 * norm(b))) < 1e-4');
  });

  it('constant angular speed: at t the angle from a is t times the whole angle', () => {
    const [a, b] = equalNormPair();
    const total = angleBetween(a.noise, b.noise);
    for (const t of [0.25, 0.5, 0.8]) {
      const mid = slerp(a, b, t);
      assert.ok(Math.abs(angleBetween(a.noise, mid.noise) - t * total) < 1e-5, `t = ${t}`);
      assert.ok(Math.abs(angleBetween(mid.noise, b.noise) - (1 - t) * total) < 1e-5, `t = ${t}`);
    }
  });

  it('codes interpolate linearly and the weights still sum to 1', () => {
    const [a, b] = equalNormPair();
    const mid = slerp(a, b, 0.4);
    const w = mid.categorical[0] as Float32Array;
    assert.ok(Math.abs(w.reduce((x, y) => x + y, 0) - 1) < 1e-6, 'Math.abs(w.reduce((x, y) => x + y, 0) - 1) < 1e-6');
    assert.ok(w.every((x) => x >= 0), 'w.every((x) => x >= 0)');
    assert.ok(Math.abs((mid.continuous[0] as number) - (0.6 * (a.continuous[0] as number) + 0.4 * (b.continuous[0] as number))) < 1e-6, 'Math.abs((mid.continuous[0] as number) - (0.6 * (a.continuous[0] as number) + 0.4 * (b.continuous[0] as number))) < 1e-6');
  });

  it('degenerate pairs: the same vector, opposite vectors, a zero vector', () => {
    const a = randomState(INFOGAN, 1).noise;
    assert.ok(maxDiff(slerpVectors(a, a, 0.3), a) < 1e-5, 'maxDiff(slerpVectors(a, a, 0.3), a) < 1e-5');
    const opposite = Float32Array.from(a, (x) => -x);
    const half = slerpVectors(a, opposite, 0.5);
    assert.ok(Math.abs(norm(half) - norm(a)) < 1e-4, 'Math.abs(norm(half) - norm(a)) < 1e-4');
    assert.ok(Math.abs(angleBetween(a, half) - Math.PI / 2) < 1e-5, 'Math.abs(angleBetween(a, half) - Math.PI / 2) < 1e-5');
    const zero = new Float32Array(62);
    assert.ok(maxDiff(slerpVectors(zero, a, 0.5), Float32Array.from(a, (x) => x / 2)) < 1e-6, 'maxDiff(slerpVectors(zero, a, 0.5), Float32Array.from(a, (x) => x / 2)) < 1e-6');
  });

  it('a transition holds `from` before its start, eases to `to`, and holds `to` after', () => {
    const [a, b] = equalNormPair();
    const tr = transition(a, b, { start: 10, duration: 2, easing: 'linear' });
    assert.deepEqual(transitionAt(tr, 5), a);
    assert.deepEqual(transitionAt(tr, 10), a);
    assert.ok(stateDiff(transitionAt(tr, 11), slerp(a, b, 0.5)) < 1e-7, 'stateDiff(transitionAt(tr, 11), slerp(a, b, 0.5)) < 1e-7');
    assert.deepEqual(transitionAt(tr, 12), b);
    assert.deepEqual(transitionAt(tr, 100), b);
    const eased = transition(a, b, { start: 0, duration: 1, easing: 'smoothstep' });
    assert.ok(stateDiff(transitionAt(eased, 0.25), slerp(a, b, 0.15625)) < 1e-7, 'stateDiff(transitionAt(eased, 0.25), slerp(a, b, 0.15625)) < 1e-7');
    assert.deepEqual(transitionAt(transition(a, b, { start: 3, duration: 0 }), 3), b);
    throwsWith(() => transition(a, b, { duration: -1 }), 'BAD_OPTION', 'transition duration', 'got -1');
    throwsWith(() => transition(a, b, { easing: 'wobble' as 'linear' }), 'BAD_OPTION', "'wobble'");
    throwsWith(() => transition(a, b, { durration: 1 } as object), 'BAD_OPTION', "'durration'");
  });
});

describe('drift', () => {
  const base = busyState(INFOGAN, 8);

  it('starts at the base, keeps the norm and the codes', () => {
    assert.deepEqual(driftAt(base, { seed: 1, speed: 0.5 }, 0), base);
    const r = norm(base.noise);
    for (const t of [0.5, 3, 60, 3600]) {
      const p = driftAt(base, { seed: 1, speed: 0.5 }, t);
      assert.ok(Math.abs(norm(p.noise) - r) < 1e-5 * r, `t = ${t}`);
      assert.deepEqual(p.categorical, base.categorical);
      assert.deepEqual(p.continuous, base.continuous);
    }
  });

  it('is continuous: a small step in time is a small step on the sphere', () => {
    const o = { seed: 2, speed: 0.7 };
    for (const t of [0, 1.234, 47.5, 1000]) {
      const step = angleBetween(driftAt(base, o, t).noise, driftAt(base, o, t + 1e-3).noise);
      assert.ok(step < 0.7 * 1e-3 * 1.2 + 1e-6, `t = ${t}: ${step} rad in 1 ms`);
    }
  });

  for (const speed of [0.1, 0.5, 2]) {
    it(`moves at its angular speed (${speed} rad/s, measured over 10 s)`, () => {
      const o = { seed: 3, speed };
      const dt = 0.02;
      let path = 0;
      let prev = driftAt(base, o, 0).noise;
      for (let k = 1; k <= 500; k++) {
        const cur = driftAt(base, o, k * dt).noise;
        path += angleBetween(prev, cur);
        prev = cur;
      }
      const measured = path / 10;
      assert.ok(Math.abs(measured - speed) < 0.2 * speed, `measured ${measured} rad/s`);
    });
  }

  it('wanders away from the base instead of circling it', () => {
    const o = { seed: 4, speed: 0.5 };
    const far = Math.max(...[20, 40, 60, 80].map((t) => angleBetween(base.noise, driftAt(base, o, t).noise)));
    assert.ok(far > 1, `farthest ${far} rad`);
  });

  it('the same seed gives the same path; another seed another one', () => {
    const a = driftAt(base, { seed: 5, speed: 0.3 }, 7.5);
    assert.deepEqual(driftAt(base, { seed: 5, speed: 0.3 }, 7.5), a);
    assert.ok(maxDiff(driftAt(base, { seed: 6, speed: 0.3 }, 7.5).noise, a.noise) > 0.1, 'maxDiff(driftAt(base, { seed: 6, speed: 0.3 }, 7.5).noise, a.noise) > 0.1');
    // The path depends on speed · t: a live speed knob can integrate a phase.
    assert.ok(stateDiff(driftAt(base, { seed: 5, speed: 1 }, 0.3 * 7.5), a) < 1e-5, 'stateDiff(driftAt(base, { seed: 5, speed: 1 }, 0.3 * 7.5), a) < 1e-5');
  });

  it('checks its options', () => {
    throwsWith(() => driftAt(base, { seed: 1, speed: -1 }, 1), 'BAD_OPTION', 'drift speed', 'got -1');
    throwsWith(() => driftAt(base, { seed: 1.5, speed: 1 }, 1), 'BAD_OPTION', 'drift seed', 'integer');
  });
});

describe('keyframe loops', () => {
  const keys = [1, 2, 3, 4].map((seed) => setCategory(busyState(INFOGAN, seed), 0, seed));

  for (const interpolation of ['spline', 'slerp'] as const) {
    describe(interpolation, () => {
      const loop = keyframeLoop(keys, 8, { interpolation });

      it('passes through each keyframe at i · period / N', () => {
        keys.forEach((k, i) => {
          assert.ok(stateDiff(loopAt(loop, i * 2), k) < 1e-6, `keyframe ${i}`);
          assert.ok(stateDiff(loopAt(loop, i * 2 + 8 * 3), k) < 1e-5, `keyframe ${i}, three periods later`);
        });
      });

      it('is periodic and continuous across the wrap', () => {
        assert.ok(stateDiff(loopAt(loop, 0), loopAt(loop, 8)) < 1e-6, 'stateDiff(loopAt(loop, 0), loopAt(loop, 8)) < 1e-6');
        assert.ok(stateDiff(loopAt(loop, 1.3), loopAt(loop, 9.3)) < 1e-5, 'stateDiff(loopAt(loop, 1.3), loopAt(loop, 9.3)) < 1e-5');
        assert.ok(stateDiff(loopAt(loop, -0.7), loopAt(loop, 7.3)) < 1e-5, 'stateDiff(loopAt(loop, -0.7), loopAt(loop, 7.3)) < 1e-5');
        const before = loopAt(loop, 8 - 1e-4);
        const after = loopAt(loop, 8 + 1e-4);
        assert.ok(stateDiff(before, after) < 1e-3, `jump ${stateDiff(before, after)} across the wrap`);
      });

      it('is continuous everywhere (no jump between neighbouring samples)', () => {
        let worst = 0;
        let prev = loopAt(loop, 0);
        for (let k = 1; k <= 1600; k++) {
          const cur = loopAt(loop, (k * 8) / 1600);
          worst = Math.max(worst, stateDiff(prev, cur));
          prev = cur;
        }
        assert.ok(worst < 0.05, `largest change between samples 5 ms apart: ${worst}`);
      });

      it('keeps categorical weights a mix', () => {
        for (let k = 0; k < 100; k++) {
          const w = loopAt(loop, k * 0.0813).categorical[0] as Float32Array;
          assert.ok(w.every((x) => x >= 0) && Math.abs(w.reduce((x, y) => x + y, 0) - 1) < 1e-5, 'w.every((x) => x >= 0) && Math.abs(w.reduce((x, y) => x + y, 0) - 1) < 1e-5');
        }
      });
    });
  }

  it('spline: the noise velocity is continuous through a keyframe (slerp has a corner)', () => {
    const turn = (interpolation: 'spline' | 'slerp') => {
      const loop = keyframeLoop(keys, 8, { interpolation });
      const h = 1e-3;
      const [p0, p1, p2] = [2 - h, 2, 2 + h].map((t) => loopAt(loop, t).noise) as [Float32Array, Float32Array, Float32Array];
      const inV = Float32Array.from(p1, (x, i) => x - (p0[i] as number));
      const outV = Float32Array.from(p2, (x, i) => (x as number) - (p1[i] as number));
      return angleBetween(inV, outV);
    };
    assert.ok(turn('spline') < 0.05, `spline turns ${turn('spline')} rad at a keyframe`);
    assert.ok(turn('slerp') > 0.3, `slerp turns ${turn('slerp')} rad at a keyframe`);
  });

  it('one keyframe is a still loop; bad loops are refused', () => {
    assert.deepEqual(loopAt(keyframeLoop([keys[0] as LatentState], 4), 1.7), keys[0]);
    throwsWith(() => keyframeLoop([], 4), 'BAD_OPTION', 'number of keyframes');
    throwsWith(() => keyframeLoop(keys, 0), 'BAD_OPTION', 'loop period', 'greater than 0');
    throwsWith(() => keyframeLoop([keys[0] as LatentState, randomState(PGGAN, 1)], 4), 'LATENT_SHAPE_MISMATCH', 'keyframe 1');
  });
});
