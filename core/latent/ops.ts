/**
 * Operations on a latent state. Each returns a new state and leaves its inputs alone.
 */
import { RhodopsError } from '../errors.ts';
import { checkRange } from '../options.ts';
import { checkSameLayout, cloneState, oneHot, type LatentState } from './state.ts';
import type { NormalRange } from './units.ts';
import { lerpVectors, norm, slerpVectors } from './vector.ts';

function checkCode(state: LatentState, code: number): number {
  const count = state.categorical.length;
  if (count === 0) {
    throw new RhodopsError('BAD_OPTION', `categorical code ${String(code)} does not exist: the model has no categorical codes.`, {
      hint: 'only InfoGAN models have categorical codes',
    });
  }
  checkRange('categorical code', code, { min: 0, max: count - 1, integer: true });
  return (state.categorical[code] as Float32Array).length;
}

function checkValue(name: string, value: number, size: number): void {
  checkRange(name, value, { min: 0, max: size - 1, integer: true });
}

/** Categorical code `code` one-hot at `value`. */
export function setCategory(state: LatentState, code: number, value: number): LatentState {
  const size = checkCode(state, code);
  checkValue(`value of categorical code ${code}`, value, size);
  const out = cloneState(state);
  out.categorical[code] = oneHot(size, value);
  return out;
}

/**
 * Categorical code `code` as a soft mix: weight 1 − t on `from`, t on `to` (one-hot on `from` at t = 0, on
 * `to` at t = 1), so a knob can crossfade between two categories.
 */
export function crossfadeCategory(state: LatentState, code: number, from: number, to: number, t: NormalRange): LatentState {
  const size = checkCode(state, code);
  checkValue(`crossfade 'from' value of categorical code ${code}`, from, size);
  checkValue(`crossfade 'to' value of categorical code ${code}`, to, size);
  checkRange('crossfade position t', t, { min: 0, max: 1 });
  const w = new Float32Array(size);
  w[from] = 1 - t;
  w[to] = (w[to] as number) + t;
  const out = cloneState(state);
  out.categorical[code] = w;
  return out;
}

/** Continuous code `index` set to `value`. */
export function setContinuous(state: LatentState, index: number, value: number): LatentState {
  const count = state.continuous.length;
  if (count === 0) {
    throw new RhodopsError('BAD_OPTION', `continuous code ${String(index)} does not exist: the model has no continuous codes.`, {
      hint: 'only InfoGAN models have continuous codes',
    });
  }
  checkRange('continuous code', index, { min: 0, max: count - 1, integer: true });
  checkRange(`value of continuous code ${index}`, value, { min: -1e6, max: 1e6 });
  const out = cloneState(state);
  out.continuous[index] = value;
  return out;
}

/** The noise moved by `amount` along `direction` (noise + amount · direction); codes unchanged. */
export function nudge(state: LatentState, direction: Float32Array, amount: number): LatentState {
  if (direction.length !== state.noise.length) {
    throw new RhodopsError('LATENT_SHAPE_MISMATCH', `nudge: the direction has ${direction.length} values, the noise has ${state.noise.length}.`, {
      hint: 'make directions for this model (randomDirections(spec.noise, …))',
    });
  }
  checkRange('nudge amount', amount, { min: -1e6, max: 1e6 });
  const out = cloneState(state);
  for (let i = 0; i < out.noise.length; i++) out.noise[i] = (state.noise[i] as number) + amount * (direction[i] as number);
  return out;
}

/**
 * The truncation trick: noise ← mean + ψ · (noise − mean), ψ from 0 (the mean: the most typical image) to 1
 * (unchanged). `mean` defaults to 0 (the mean of the noise prior); codes are left alone.
 */
export function truncate(state: LatentState, psi: NormalRange, mean?: Float32Array): LatentState {
  checkRange('truncation psi', psi, { min: 0, max: 1 });
  if (mean !== undefined && mean.length !== state.noise.length) {
    throw new RhodopsError('LATENT_SHAPE_MISMATCH', `truncate: the mean has ${mean.length} values, the noise has ${state.noise.length}.`, {
      hint: 'pass a mean of the noise size, or none for 0',
    });
  }
  const out = cloneState(state);
  if (psi === 1) return out;
  for (let i = 0; i < out.noise.length; i++) {
    const m = mean === undefined ? 0 : (mean[i] as number);
    out.noise[i] = m + psi * ((state.noise[i] as number) - m);
  }
  return out;
}

/**
 * The noise scaled onto the sphere of `radius` (default √n, where an n-dimensional standard normal latent
 * concentrates; PGGAN normalises its latent there anyway); codes unchanged. A zero noise stays zero.
 */
export function normalizeNoise(state: LatentState, radius?: number): LatentState {
  const r = radius ?? Math.sqrt(state.noise.length);
  checkRange('noise radius', r, { min: 0, max: 1e6 });
  const out = cloneState(state);
  const n = norm(state.noise);
  if (n === 0) return out;
  for (let i = 0; i < out.noise.length; i++) out.noise[i] = ((state.noise[i] as number) * r) / n;
  return out;
}

/**
 * Interpolation between two states of one layout: spherical on the noise (constant angular speed, the norm
 * going linearly from |a| to |b|), linear on categorical weights (still summing to 1) and continuous codes.
 * t = 0 gives a, t = 1 gives b (copies); t outside [0, 1] extrapolates (easings that overshoot).
 */
export function slerp(a: LatentState, b: LatentState, t: number): LatentState {
  checkSameLayout(a, b, 'slerp');
  checkRange('slerp t', t, { min: -1e3, max: 1e3 });
  return {
    noise: slerpVectors(a.noise, b.noise, t),
    categorical: a.categorical.map((w, i) => lerpVectors(w, b.categorical[i] as Float32Array, t)),
    continuous: lerpVectors(a.continuous, b.continuous, t),
  };
}
