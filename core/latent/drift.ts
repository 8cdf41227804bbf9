/**
 * Drift: a smooth endless wander of the noise on its sphere (the norm is kept), deterministic from
 * (seed, time), at an exact angular speed.
 *
 * The noise turns by a seeded one-parameter rotation: the coordinates are paired at random (seeded) and each
 * pair turns in its own plane at its own frequency, p(t) = exp(t·A)·base with A a seeded skew-symmetric
 * matrix made of those planes. Each pair's length is kept, so the angular speed |p'|/|p| is the same at every
 * moment; the frequencies are scaled for the base so that it is exactly `speed`. The frequencies are spread
 * and incommensurate, so the path never repeats; it is C∞ in t; p(0) is the base. Every point on the path is
 * as typical a latent as the base (a Gaussian pair is rotation invariant). Cost: O(n) per call.
 *
 * What it does not do: each pair keeps its length, so the walk stays on the torus through the base rather
 * than roaming the whole sphere (with 31 pairs for a 62-noise latent, 256 for PGGAN's 512, a large space);
 * with an odd noise size one coordinate stays put.
 *
 * The path depends on speed · t only, so a live speed control should accumulate a phase
 * (phase += speed · dt each tick) and ask for driftAt(base, { seed, speed: 1 }, phase).
 */
import { hash32, rng } from '../random.ts';
import { checkRange, mergeOptions } from '../options.ts';
import { cloneState, type LatentState } from './state.ts';
import type { RadiansPerSecond, Seconds } from './units.ts';

export interface DriftOptions {
  /** Which walk: the same seed (and noise size) gives the same path. */
  seed: number;
  /** Angular speed of the noise's direction. */
  speed: RadiansPerSecond;
}

export const DRIFT_DEFAULTS: DriftOptions = { seed: 0, speed: 0.2 };
export const MAX_DRIFT_SPEED: RadiansPerSecond = 100;

/** Keeps the drift's random stream apart from other uses of the same seed. */
const DRIFT_STREAM = 0x64726674;

interface DriftPlanes {
  /** Coordinate pairs (i, j): pair m is (pairs[2m], pairs[2m + 1]). */
  pairs: Uint32Array;
  /** One frequency per pair, from 0.3 to 1.7 (relative; scaled to the speed per base). */
  freq: Float64Array;
}

/** Seeded pairing (a Fisher–Yates shuffle of the coordinates) and frequencies. */
function driftPlanes(n: number, seed: number): DriftPlanes {
  const r = rng(hash32(seed, DRIFT_STREAM, n));
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const tmp = order[i] as number;
    order[i] = order[j] as number;
    order[j] = tmp;
  }
  const count = Math.floor(n / 2);
  const freq = new Float64Array(count);
  for (let m = 0; m < count; m++) freq[m] = 0.3 + 1.4 * r();
  return { pairs: order.subarray(0, 2 * count), freq };
}

function checkDrift(options: Partial<DriftOptions> | undefined): DriftOptions {
  const o = mergeOptions('drift options', DRIFT_DEFAULTS, options);
  checkRange('drift seed', o.seed, { min: 0, max: 2 ** 32 - 1, integer: true });
  checkRange('drift speed', o.speed, { min: 0, max: MAX_DRIFT_SPEED, unit: ' rad/s' });
  return o;
}

/**
 * The base state's noise after drifting for `t` seconds (t may be negative: the path extends both ways).
 * driftAt(base, o, 0) is the base; the norm of the noise is kept; codes are unchanged.
 */
export function driftAt(base: LatentState, options: Partial<DriftOptions>, t: Seconds): LatentState {
  const o = checkDrift(options);
  checkRange('drift time', t, { min: -1e9, max: 1e9, unit: ' s' });
  const out = cloneState(base);
  const n = base.noise.length;
  if (n < 2 || o.speed === 0 || t === 0) return out;
  const { pairs, freq } = driftPlanes(n, o.seed);
  // |p'|² = Σ_m ω_m² ρ_m² (ρ_m: the length of pair m), |p|² = Σ ρ² over all coordinates.
  let total = 0;
  let moving = 0;
  for (let i = 0; i < n; i++) total += (base.noise[i] as number) ** 2;
  for (let m = 0; m < freq.length; m++) {
    const a = base.noise[pairs[2 * m] as number] as number;
    const b = base.noise[pairs[2 * m + 1] as number] as number;
    moving += (freq[m] as number) ** 2 * (a * a + b * b);
  }
  if (moving === 0) return out;
  const scale = (o.speed * t) / Math.sqrt(moving / total);
  for (let m = 0; m < freq.length; m++) {
    const i = pairs[2 * m] as number;
    const j = pairs[2 * m + 1] as number;
    const angle = scale * (freq[m] as number);
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    const a = base.noise[i] as number;
    const b = base.noise[j] as number;
    out.noise[i] = c * a - s * b;
    out.noise[j] = s * a + c * b;
  }
  return out;
}
