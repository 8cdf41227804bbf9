/**
 * A keyframe loop: a closed path through N keyframes, one every period / N seconds, periodic in the period
 * (so a loop of N beats returns to its start). Two ways to go between keyframes:
 * - 'spline' (default): a Catmull-Rom spline through the keyframes, on the sphere for the noise (the
 *   Barry–Goldman pyramid with slerps in place of lerps, so the direction's velocity is continuous through
 *   each keyframe) and on the norm separately; categorical weights and continuous codes as Euclidean
 *   Catmull-Rom (weights clamped at 0 and renormalised so they stay a mix).
 * - 'slerp': slerp from each keyframe to the next at constant angular speed (a corner at each keyframe).
 */
import { RhodopsError } from '../errors.ts';
import { checkRange, mergeOptions } from '../options.ts';
import { slerp } from './ops.ts';
import { checkSameLayout, cloneState, type LatentState } from './state.ts';
import type { Seconds } from './units.ts';
import { norm, slerpUnit, unit } from './vector.ts';

export type LoopInterpolation = 'spline' | 'slerp';

export interface KeyframeLoopOptions {
  interpolation: LoopInterpolation;
}

export const KEYFRAME_LOOP_DEFAULTS: KeyframeLoopOptions = { interpolation: 'spline' };
export const MAX_KEYFRAMES = 1024;
export const MAX_LOOP_PERIOD: Seconds = 86400;

export interface KeyframeLoop {
  readonly keyframes: readonly LatentState[];
  readonly period: Seconds;
  readonly interpolation: LoopInterpolation;
}

export function keyframeLoop(keyframes: readonly LatentState[], periodSeconds: Seconds, options?: Partial<KeyframeLoopOptions>): KeyframeLoop {
  const o = mergeOptions('keyframe loop options', KEYFRAME_LOOP_DEFAULTS, options);
  if (o.interpolation !== 'spline' && o.interpolation !== 'slerp') {
    throw new RhodopsError('BAD_OPTION', `Unknown loop interpolation '${String(o.interpolation)}'.`, { hint: "use 'spline' or 'slerp'" });
  }
  checkRange('number of keyframes', keyframes.length, { min: 1, max: MAX_KEYFRAMES, integer: true });
  checkRange('loop period', periodSeconds, { min: 0, exclusiveMin: true, max: MAX_LOOP_PERIOD, unit: ' s' });
  const first = keyframes[0] as LatentState;
  keyframes.forEach((k, i) => checkSameLayout(first, k, `keyframe ${i} of the loop`));
  return { keyframes: keyframes.map(cloneState), period: periodSeconds, interpolation: o.interpolation };
}

/** Uniform Catmull-Rom through p1 (u = 0) and p2 (u = 1). */
function catmullRom(p0: number, p1: number, p2: number, p3: number, u: number): number {
  const u2 = u * u;
  return 0.5 * (2 * p1 + (p2 - p0) * u + (2 * p0 - 5 * p1 + 4 * p2 - p3) * u2 + (3 * p1 - p0 - 3 * p2 + p3) * u2 * u);
}

/** Catmull-Rom on the unit sphere: the Barry–Goldman pyramid (knots −1, 0, 1, 2) with slerps. */
function sphericalCatmullRom(d0: Float64Array, d1: Float64Array, d2: Float64Array, d3: Float64Array, u: number): Float64Array {
  const a1 = slerpUnit(d0, d1, u + 1);
  const a2 = slerpUnit(d1, d2, u);
  const a3 = slerpUnit(d2, d3, u - 1);
  const b1 = slerpUnit(a1, a2, (u + 1) / 2);
  const b2 = slerpUnit(a2, a3, u / 2);
  return slerpUnit(b1, b2, u);
}

function splineBetween(k0: LatentState, k1: LatentState, k2: LatentState, k3: LatentState, u: number): LatentState {
  const n = k1.noise.length;
  const noise = new Float32Array(n);
  if (n > 0) {
    const r = Math.max(0, catmullRom(norm(k0.noise), norm(k1.noise), norm(k2.noise), norm(k3.noise), u));
    const dir = sphericalCatmullRom(unit(k0.noise), unit(k1.noise), unit(k2.noise), unit(k3.noise), u);
    for (let i = 0; i < n; i++) noise[i] = r * (dir[i] as number);
  }
  const euclid = (get: (k: LatentState) => Float32Array): Float32Array => {
    const [a, b, c, d] = [get(k0), get(k1), get(k2), get(k3)];
    return Float32Array.from(b, (_, i) => catmullRom(a[i] as number, b[i] as number, c[i] as number, d[i] as number, u));
  };
  const categorical = k1.categorical.map((_, code) => {
    const w = euclid((k) => k.categorical[code] as Float32Array);
    let sum = 0;
    for (let i = 0; i < w.length; i++) {
      w[i] = Math.max(0, w[i] as number);
      sum += w[i] as number;
    }
    if (sum > 0) for (let i = 0; i < w.length; i++) w[i] = (w[i] as number) / sum;
    return w;
  });
  return { noise, categorical, continuous: euclid((k) => k.continuous) };
}

/**
 * The loop's state at `time` (any real number): keyframe i at time i · period / N (+ any whole number of
 * periods), and loopAt(t) = loopAt(t + period).
 */
export function loopAt(loop: KeyframeLoop, time: Seconds): LatentState {
  checkRange('loop time', time, { min: -1e12, max: 1e12, unit: ' s' });
  const n = loop.keyframes.length;
  const at = (i: number): LatentState => loop.keyframes[((i % n) + n) % n] as LatentState;
  const cycles = time / loop.period;
  const phase = (cycles - Math.floor(cycles)) * n;
  const index = Math.min(n - 1, Math.floor(phase));
  const u = phase - index;
  if (n === 1 || u === 0) return cloneState(at(index));
  if (loop.interpolation === 'slerp') return slerp(at(index), at(index + 1), u);
  return splineBetween(at(index - 1), at(index), at(index + 1), at(index + 2), u);
}
