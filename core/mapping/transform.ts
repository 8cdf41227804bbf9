/**
 * The transform stages as pure functions of plain numbers (Meyda-style: one job each, tested one by one).
 * The engine strings them together in the order the schema documents:
 *   in range → dead zone → [smoothing] → curve → invert → quantize → out range.
 */
import type { NormalRange, Seconds } from '../latent/units.ts';
import type { Envelope, Transform } from './schema.ts';

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);

/** `v` located in [from, to] as 0..1, clamped (a reversed range reverses the result). */
export function normalizeRange(v: number, range: readonly [number, number]): NormalRange {
  return clamp01((v - range[0]) / (range[1] - range[0]));
}

/**
 * A dead zone of `width` (a fraction of the range). 'start': values below it read 0 and the rest is
 * stretched to 0..1 (a knob that never quite reaches its end). 'center': a band of that width around 0.5
 * reads 0.5 and each side is stretched (a pitch bend or a centred knob that rests a little off its middle).
 */
export function deadZone(u: NormalRange, width: number, at: 'start' | 'center'): NormalRange {
  if (width <= 0) return u;
  if (at === 'start') return u <= width ? 0 : (u - width) / (1 - width);
  const half = width / 2;
  if (Math.abs(u - 0.5) <= half) return 0.5;
  return u < 0.5 ? (0.5 * u) / (0.5 - half) : 0.5 + (0.5 * (u - 0.5 - half)) / (0.5 - half);
}

/**
 * Curves on 0..1 that keep 0 → 0 and 1 → 1. exp: (e^(a·u) − 1)/(e^a − 1), slow then fast (for loudness-like
 * controls); log: its inverse, fast then slow; s-curve: a power of (1 + a) mirrored about the middle, slow at
 * both ends and steep in the middle.
 */
export function applyCurve(u: NormalRange, curve: Transform['curve'], amount: number): NormalRange {
  switch (curve) {
    case 'linear':
      return u;
    case 'exp':
      return Math.expm1(amount * u) / Math.expm1(amount);
    case 'log':
      return Math.log1p(u * Math.expm1(amount)) / amount;
    case 's-curve': {
      const p = 1 + amount;
      return u < 0.5 ? 0.5 * (2 * u) ** p : 1 - 0.5 * (2 - 2 * u) ** p;
    }
  }
}

/** `steps` evenly spaced values from 0 to 1 (0 = off): round(u·(steps − 1)) / (steps − 1). */
export function quantize(u: NormalRange, steps: number): NormalRange {
  if (steps < 2) return u;
  return Math.round(u * (steps - 1)) / (steps - 1);
}

/** The first two stages: the source's value as 0..1 after the input range and the dead zone. */
export function preSmoothing(v: number, t: Transform): NormalRange {
  return deadZone(normalizeRange(v, t.in), t.deadZone, t.deadZoneAt);
}

/** The stages after smoothing: curve, invert, quantize, output range. */
export function postSmoothing(u: NormalRange, t: Transform): number {
  let x = applyCurve(clamp01(u), t.curve, t.curveAmount);
  if (t.invert) x = 1 - x;
  x = quantize(x, t.quantize);
  return t.out[0] + x * (t.out[1] - t.out[0]);
}

/** The whole transform of a value with no smoothing (what a route gives once its smoother has settled). */
export function applyTransform(v: number, t: Transform): number {
  return postSmoothing(preSmoothing(v, t), t);
}

/**
 * One step of a one-pole smoother y' = (x − y)/τ over `dt`, for an input that went linearly from x0 to x1
 * over the step (exact for that input; for a held input, x0 = x1, it is the exact exponential approach, so
 * one step of 2·dt equals two of dt and the result does not depend on how often it is called). τ is `attack`
 * while the input is above the output (the signal getting stronger) and `release` otherwise; 0 follows the
 * input at once. A step response reaches 1 − 1/e ≈ 63% after one time constant.
 */
export function smoothStep(y: number, x0: number, x1: number, dt: Seconds, attack: Seconds, release: Seconds): number {
  if (dt <= 0) return y;
  const tau = x1 > y || (x1 === y && x0 > y) ? attack : release;
  if (tau === 0) return x1;
  const e = Math.exp(-dt / tau);
  if (x0 === x1) return x1 + (y - x1) * e;
  const slope = (x1 - x0) / dt;
  return x1 - tau * slope + (y - x0 + tau * slope) * e;
}

/** An envelope after a trigger: where it started from, the peak it goes to, and when. */
export interface EnvelopeState {
  start: Seconds;
  from: number;
  peak: number;
}

/**
 * The level of a triggered envelope at time t: a linear rise from `from` to `peak` over `attack`, then an
 * exponential decay toward 0 with time constant `decay` (37% of the peak after `decay` seconds). A pure
 * function of the time since the trigger, so it is exact at any evaluation rate.
 */
export function envelopeLevel(env: EnvelopeState | undefined, shape: Envelope, t: Seconds): number {
  if (env === undefined) return 0;
  const since = t - env.start;
  if (since < 0) return env.from;
  if (since < shape.attack) return env.from + ((env.peak - env.from) * since) / shape.attack;
  return env.peak * Math.exp(-(since - shape.attack) / shape.decay);
}

/** A retrigger starts from the current level and never drops the peak below it (no sudden dip). */
export function triggerEnvelope(current: EnvelopeState | undefined, shape: Envelope, t: Seconds, strength: number): EnvelopeState {
  const level = envelopeLevel(current, shape, t);
  return { start: t, from: level, peak: Math.max(strength, level) };
}
