/**
 * Vector math on the noise: dot products, norms, angles, spherical interpolation and the rotation that takes
 * one direction to another. Computed in float64, returned as float32 where the result is a latent.
 */
import type { Radians } from './units.ts';

/** Below this a norm or a sine is treated as zero (the direction is undefined). */
const TINY = 1e-12;

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/** a / |a| in float64; all zeros when |a| is zero. */
export function unit(a: ArrayLike<number>): Float64Array {
  const n = norm(a);
  const out = new Float64Array(a.length);
  if (n > TINY) for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) / n;
  return out;
}

/** The angle between two vectors, from 0 to π (0 when either is zero). */
export function angleBetween(a: ArrayLike<number>, b: ArrayLike<number>): Radians {
  const ua = unit(a);
  const ub = unit(b);
  const c = dot(ua, ub);
  let s = 0;
  for (let i = 0; i < ua.length; i++) {
    const p = (ub[i] as number) - c * (ua[i] as number);
    s += p * p;
  }
  return Math.atan2(Math.sqrt(s), c);
}

/** A unit vector perpendicular to unit vector `u`, chosen deterministically (from u's smallest axis). */
export function perpendicular(u: ArrayLike<number>): Float64Array {
  let k = 0;
  for (let i = 1; i < u.length; i++) if (Math.abs(u[i] as number) < Math.abs(u[k] as number)) k = i;
  const p = new Float64Array(u.length);
  const uk = u[k] as number;
  for (let i = 0; i < u.length; i++) p[i] = -uk * (u[i] as number);
  p[k] = (p[k] as number) + 1;
  return unit(p);
}

/**
 * Spherical interpolation between unit vectors: constant angular speed along the great circle from `a`
 * (t = 0) to `b` (t = 1); t outside [0, 1] extrapolates along the same circle. Antipodal inputs turn through
 * a deterministic perpendicular; (nearly) parallel or zero inputs fall back to a normalised lerp.
 */
export function slerpUnit(a: ArrayLike<number>, b: ArrayLike<number>, t: number): Float64Array {
  const n = a.length;
  const c = Math.max(-1, Math.min(1, dot(a, b)));
  let perp: Float64Array = new Float64Array(n);
  for (let i = 0; i < n; i++) perp[i] = (b[i] as number) - c * (a[i] as number);
  const s = norm(perp);
  const out = new Float64Array(n);
  if (s <= 1e-9) {
    if (c < 0 && n > 1) {
      // Antipodal: any great circle through a and b will do; pick one that does not depend on rounding.
      perp = perpendicular(a);
      const angle = t * Math.PI;
      for (let i = 0; i < n; i++) out[i] = Math.cos(angle) * (a[i] as number) + Math.sin(angle) * (perp[i] as number);
      return out;
    }
    for (let i = 0; i < n; i++) out[i] = (1 - t) * (a[i] as number) + t * (b[i] as number);
    return unit(out);
  }
  const theta = Math.atan2(s, c);
  const ca = Math.cos(t * theta);
  const sa = Math.sin(t * theta) / s;
  for (let i = 0; i < n; i++) out[i] = ca * (a[i] as number) + sa * (perp[i] as number);
  return out;
}

/**
 * Slerp for latent noise: the direction moves along the great circle at constant angular speed and the
 * norm goes linearly from |a| to |b|, so a Gaussian latent keeps the norm it expects (a lerp would shrink it
 * mid-way). t = 0 and t = 1 return exact copies of a and b. When either vector is zero the direction is
 * undefined and this is a lerp.
 */
export function slerpVectors(a: Float32Array, b: Float32Array, t: number): Float32Array {
  if (t === 0) return Float32Array.from(a);
  if (t === 1) return Float32Array.from(b);
  const na = norm(a);
  const nb = norm(b);
  const out = new Float32Array(a.length);
  if (na <= TINY || nb <= TINY) {
    for (let i = 0; i < a.length; i++) out[i] = (1 - t) * (a[i] as number) + t * (b[i] as number);
    return out;
  }
  const dir = slerpUnit(unit(a), unit(b), t);
  const r = (1 - t) * na + t * nb;
  for (let i = 0; i < a.length; i++) out[i] = r * (dir[i] as number);
  return out;
}

/** Linear interpolation, float32. */
export function lerpVectors(a: Float32Array, b: Float32Array, t: number): Float32Array {
  if (t === 0) return Float32Array.from(a);
  if (t === 1) return Float32Array.from(b);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (1 - t) * (a[i] as number) + t * (b[i] as number);
  return out;
}

/**
 * The rotation that takes unit vector `from` to unit vector `to` by turning only the plane they span
 * (every vector orthogonal to both is left alone). Returns a function that applies it.
 */
export function planeRotation(from: ArrayLike<number>, to: ArrayLike<number>): (x: ArrayLike<number>) => Float64Array {
  const n = from.length;
  const u = Float64Array.from(from);
  const c = Math.max(-1, Math.min(1, dot(u, to)));
  let w: Float64Array = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = (to[i] as number) - c * (u[i] as number);
  const s = norm(w);
  let theta: number;
  if (s <= 1e-9) {
    if (c > 0 || n < 2) return (x) => Float64Array.from(x);
    w = perpendicular(u);
    theta = Math.PI;
  } else {
    for (let i = 0; i < n; i++) w[i] = (w[i] as number) / s;
    theta = Math.atan2(s, c);
  }
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  return (x) => {
    const xu = dot(x, u);
    const xw = dot(x, w);
    const du = xu * cos - xw * sin - xu;
    const dw = xu * sin + xw * cos - xw;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = (x[i] as number) + du * (u[i] as number) + dw * (w[i] as number);
    return out;
  };
}
