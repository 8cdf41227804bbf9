/**
 * Frame-rate independent smoothing: filters set by time constants and cutoffs in seconds and hertz, stepped
 * by the time that passed, never by per-frame factors, so 30 fps and 144 fps give the same motion.
 *
 * - CriticallyDampedSpring: the exact solution of x'' = −(2/τ) x' − (x − target)/τ² over each step (the
 *   target held for the step): the fastest approach without overshoot, with continuous velocity. One step
 *   of 2·dt equals two steps of dt.
 * - OneEuroFilter (Casiez, Roussel & Vogel, CHI 2012): a low-pass whose cutoff rises with speed, so values
 *   at rest lose their jitter and moving values lag little.
 * - smoothState: a spring on every entry of a latent state (the server's per-tick smoothing).
 */
import { RhodopsError } from '../errors.ts';
import { checkRange, mergeOptions } from '../options.ts';
import { checkSameLayout, type LatentState } from './state.ts';
import type { Hertz, NormalRange, Seconds } from './units.ts';

/** The longest time constant accepted: longer is almost surely a unit mistake (ms for s). */
export const MAX_TIME_CONSTANT: Seconds = 60;
/** The longest step accepted (a laptop waking from sleep gives long ones: clamp before calling). */
export const MAX_STEP: Seconds = 1e6;

function checkDt(dt: number): void {
  checkRange('time step dt', dt, { min: 0, max: MAX_STEP, unit: ' s' });
}

// ─── Critically damped spring ────────────────────────────────────────────────────────────────────────────

export interface SpringOptions {
  /** τ: the step response is 1 − (1 + t/τ)·e^(−t/τ) (63% of the way… at about 2.15 τ, 98% at 5.8 τ). 0 = no smoothing. */
  timeConstant: Seconds;
}

export const SPRING_DEFAULTS: SpringOptions = { timeConstant: 0.1 };

export interface SpringState {
  /** Position. */
  x: number;
  /** Velocity, per second. */
  v: number;
}

function checkSpringOptions(options: Partial<SpringOptions> | undefined): SpringOptions {
  const o = mergeOptions('spring options', SPRING_DEFAULTS, options);
  checkRange('spring timeConstant', o.timeConstant, { min: 0, max: MAX_TIME_CONSTANT, unit: ' s' });
  return o;
}

/**
 * One exact step of a critically damped spring toward `target` (held for the step). With y = x − target
 * and c = v + y/τ: y(dt) = (y + c·dt)·e^(−dt/τ), v(dt) = (v − c·dt/τ)·e^(−dt/τ). τ = 0 snaps to the target.
 */
export function springStep(state: SpringState, target: number, dt: Seconds, timeConstant: Seconds): SpringState {
  if (timeConstant === 0) return { x: target, v: 0 };
  if (dt === 0) return { x: state.x, v: state.v };
  const y = state.x - target;
  const c = state.v + y / timeConstant;
  const e = Math.exp(-dt / timeConstant);
  return { x: target + (y + c * dt) * e, v: (state.v - (c * dt) / timeConstant) * e };
}

/** One spring on one value. */
export class CriticallyDampedSpring implements SpringState {
  x: number;
  v = 0;
  #timeConstant: Seconds;

  constructor(options?: Partial<SpringOptions>, initial = 0) {
    this.#timeConstant = checkSpringOptions(options).timeConstant;
    this.x = initial;
  }

  get timeConstant(): Seconds {
    return this.#timeConstant;
  }

  /** Changes τ from the next step on (position and velocity carry over). */
  set timeConstant(value: Seconds) {
    this.#timeConstant = checkSpringOptions({ timeConstant: value }).timeConstant;
  }

  /** Moves toward `target` for `dt` seconds; returns the new position. */
  step(target: number, dt: Seconds): number {
    checkDt(dt);
    const s = springStep(this, target, dt, this.#timeConstant);
    this.x = s.x;
    this.v = s.v;
    return s.x;
  }

  /** Jumps to `x` with velocity `v` (a cut, not a move). */
  reset(x: number, v = 0): void {
    this.x = x;
    this.v = v;
  }
}

/** One spring per entry of a vector, all with the same τ; positions and velocities kept in float64. */
export class CriticallyDampedSpringArray {
  readonly x: Float64Array;
  readonly v: Float64Array;
  #timeConstant: Seconds;

  constructor(size: number, options?: Partial<SpringOptions>, initial?: ArrayLike<number>) {
    checkRange('spring array size', size, { min: 0, max: 1 << 24, integer: true });
    this.#timeConstant = checkSpringOptions(options).timeConstant;
    this.x = new Float64Array(size);
    this.v = new Float64Array(size);
    if (initial !== undefined) this.reset(initial);
  }

  get size(): number {
    return this.x.length;
  }

  get timeConstant(): Seconds {
    return this.#timeConstant;
  }

  set timeConstant(value: Seconds) {
    this.#timeConstant = checkSpringOptions({ timeConstant: value }).timeConstant;
  }

  /** Moves every entry toward `target` for `dt` seconds; returns the positions (into `out` when given). */
  step(target: ArrayLike<number>, dt: Seconds, out?: Float32Array): Float32Array {
    checkDt(dt);
    this.#checkLength('target', target.length);
    if (out !== undefined) this.#checkLength('output', out.length);
    const result = out ?? new Float32Array(this.size);
    const tau = this.#timeConstant;
    const e = tau === 0 ? 0 : Math.exp(-dt / tau);
    for (let i = 0; i < this.size; i++) {
      const g = target[i] as number;
      if (tau === 0) {
        this.x[i] = g;
        this.v[i] = 0;
      } else if (dt > 0) {
        const y = (this.x[i] as number) - g;
        const v = this.v[i] as number;
        const c = v + y / tau;
        this.x[i] = g + (y + c * dt) * e;
        this.v[i] = (v - (c * dt) / tau) * e;
      }
      result[i] = this.x[i] as number;
    }
    return result;
  }

  /** Jumps to `x` (and velocities `v`, default 0). */
  reset(x: ArrayLike<number>, v?: ArrayLike<number>): void {
    this.#checkLength('reset position', x.length);
    this.x.set(x);
    if (v !== undefined) {
      this.#checkLength('reset velocity', v.length);
      this.v.set(v);
    } else {
      this.v.fill(0);
    }
  }

  #checkLength(what: string, length: number): void {
    if (length !== this.size) {
      throw new RhodopsError('LATENT_SHAPE_MISMATCH', `spring array: the ${what} has ${length} values, the springs are ${this.size}.`, {
        hint: 'make the springs for the same size as the values they smooth',
      });
    }
  }
}

/**
 * The time the step response of a critically damped spring with time constant τ takes to come within
 * `tolerance` (a fraction of the step) of its target: the s·τ where (1 + s)·e^(−s) = tolerance.
 */
export function settlingTime(timeConstant: Seconds, tolerance: NormalRange = 0.02): Seconds {
  checkRange('timeConstant', timeConstant, { min: 0, max: MAX_TIME_CONSTANT, unit: ' s' });
  return timeConstant * settlingMultiple(tolerance);
}

/** The time constant whose step response settles to within `tolerance` in `settling` seconds. */
export function timeConstantForSettling(settling: Seconds, tolerance: NormalRange = 0.02): Seconds {
  checkRange('settling time', settling, { min: 0, max: MAX_TIME_CONSTANT * 100, unit: ' s' });
  return settling / settlingMultiple(tolerance);
}

function settlingMultiple(tolerance: number): number {
  checkRange('settling tolerance', tolerance, { min: 0, exclusiveMin: true, max: 1 });
  if (tolerance === 1) return 0;
  // Newton on f(s) = ln(1 + s) − s − ln(tol): f is concave and decreasing for s > 0, so from the right it
  // converges monotonically.
  let s = Math.max(1, -Math.log(tolerance) * 2);
  for (let i = 0; i < 50; i++) {
    const f = Math.log1p(s) - s - Math.log(tolerance);
    const df = 1 / (1 + s) - 1;
    const next = s - f / df;
    if (Math.abs(next - s) < 1e-14 * Math.max(1, s)) return next;
    s = next;
  }
  return s;
}

// ─── One-euro filter ─────────────────────────────────────────────────────────────────────────────────────

export interface OneEuroOptions {
  /** Cutoff at rest: lower removes more jitter from still values. */
  minCutoff: Hertz;
  /** How fast the cutoff rises with speed (Hz per unit/s): higher lags less when moving. */
  beta: number;
  /** Cutoff of the low-pass on the estimated speed. */
  dCutoff: Hertz;
}

/** Defaults for values about ±1 in size (knobs 0..1, codes); tune minCutoff first, then beta. */
export const ONE_EURO_DEFAULTS: OneEuroOptions = { minCutoff: 1, beta: 1, dCutoff: 1 };
export const MAX_CUTOFF: Hertz = 1000;

function checkOneEuroOptions(options: Partial<OneEuroOptions> | undefined): OneEuroOptions {
  const o = mergeOptions('one-euro filter options', ONE_EURO_DEFAULTS, options);
  checkRange('one-euro minCutoff', o.minCutoff, { min: 0, exclusiveMin: true, max: MAX_CUTOFF, unit: ' Hz' });
  checkRange('one-euro beta', o.beta, { min: 0, max: 1e6 });
  checkRange('one-euro dCutoff', o.dCutoff, { min: 0, exclusiveMin: true, max: MAX_CUTOFF, unit: ' Hz' });
  return o;
}

/**
 * The smoothing factor of a first-order low-pass with cutoff `cutoff` over a step of `dt` for an input held
 * over the step: 1 − e^(−2π·cutoff·dt), the exact discretisation.
 */
export function lowPassAlpha(cutoff: Hertz, dt: Seconds): number {
  return 1 - Math.exp(-2 * Math.PI * cutoff * dt);
}

/**
 * One step of a first-order low-pass (cutoff `cutoff`) from output `y`, for an input that went linearly from
 * `x0` to `x1` over `dt` (a first-order hold): the exact solution, so the result depends on the signal, not
 * on how often it is sampled.
 */
export function lowPassRampStep(y: number, x0: number, x1: number, cutoff: Hertz, dt: Seconds): number {
  const tau = 1 / (2 * Math.PI * cutoff);
  const slope = (x1 - x0) / dt;
  return x1 - tau * slope + (y - x0 + tau * slope) * Math.exp(-dt / tau);
}

/**
 * One step of the one-euro filter. The speed (x1 − x0)/dt is the input's mean speed over the step, so its
 * low-pass is exact for a speed held over the step; the value's low-pass is exact for an input moving
 * linearly over the step. (Casiez et al. write both as y += α·(x − y) with α = 1/(1 + 1/(2π·cutoff·dt)); the
 * exact forms agree with it for small steps and keep 30 fps and 144 fps closer together.)
 */
function oneEuroStep(o: OneEuroOptions, y: number, dx: number, x0: number, x1: number, dt: Seconds): [number, number] {
  const speed = dx + lowPassAlpha(o.dCutoff, dt) * ((x1 - x0) / dt - dx);
  return [lowPassRampStep(y, x0, x1, o.minCutoff + o.beta * Math.abs(speed), dt), speed];
}

/** A one-euro filter on one value. The first value passes through. */
export class OneEuroFilter {
  readonly options: Readonly<OneEuroOptions>;
  #y: number | undefined;
  #lastInput = 0;
  #dx = 0;

  constructor(options?: Partial<OneEuroOptions>) {
    this.options = Object.freeze(checkOneEuroOptions(options));
  }

  /** The last output (undefined before the first value). */
  get value(): number | undefined {
    return this.#y;
  }

  /** Filters `x`, which arrived `dt` seconds after the previous value. */
  filter(x: number, dt: Seconds): number {
    checkDt(dt);
    const y = this.#y;
    if (y === undefined) {
      this.#y = x;
      this.#lastInput = x;
      this.#dx = 0;
      return x;
    }
    if (dt === 0) return y;
    const [next, dx] = oneEuroStep(this.options, y, this.#dx, this.#lastInput, x, dt);
    this.#y = next;
    this.#dx = dx;
    this.#lastInput = x;
    return next;
  }

  /** Forgets the past: the next value passes through. */
  reset(): void {
    this.#y = undefined;
    this.#dx = 0;
  }
}

/** A one-euro filter per entry of a vector (each entry's cutoff follows its own speed). */
export class OneEuroFilterArray {
  readonly options: Readonly<OneEuroOptions>;
  readonly size: number;
  #y: Float64Array;
  #lastInput: Float64Array;
  #dx: Float64Array;
  #started = false;

  constructor(size: number, options?: Partial<OneEuroOptions>) {
    checkRange('one-euro array size', size, { min: 0, max: 1 << 24, integer: true });
    this.options = Object.freeze(checkOneEuroOptions(options));
    this.size = size;
    this.#y = new Float64Array(size);
    this.#lastInput = new Float64Array(size);
    this.#dx = new Float64Array(size);
  }

  /** Filters `x`, which arrived `dt` seconds after the previous vector; returns the output (into `out`). */
  filter(x: ArrayLike<number>, dt: Seconds, out?: Float32Array): Float32Array {
    checkDt(dt);
    if (x.length !== this.size || (out !== undefined && out.length !== this.size)) {
      throw new RhodopsError('LATENT_SHAPE_MISMATCH', `one-euro filter: got ${x.length} values, the filter is for ${this.size}.`, {
        hint: 'make the filter for the same size as the values it smooths',
      });
    }
    const result = out ?? new Float32Array(this.size);
    if (!this.#started) {
      this.#y.set(x);
      this.#lastInput.set(x);
      this.#dx.fill(0);
      this.#started = true;
    } else if (dt > 0) {
      for (let i = 0; i < this.size; i++) {
        const xi = x[i] as number;
        const [y, dx] = oneEuroStep(this.options, this.#y[i] as number, this.#dx[i] as number, this.#lastInput[i] as number, xi, dt);
        this.#y[i] = y;
        this.#dx[i] = dx;
        this.#lastInput[i] = xi;
      }
    }
    for (let i = 0; i < this.size; i++) result[i] = this.#y[i] as number;
    return result;
  }

  /** Forgets the past: the next vector passes through. */
  reset(): void {
    this.#started = false;
  }
}

// ─── Springs on a latent state ───────────────────────────────────────────────────────────────────────────

export interface LatentSmoothingOptions {
  /** Time constant on the noise. */
  noise: Seconds;
  /** Time constant on categorical weights (a category change becomes a short crossfade). */
  categorical: Seconds;
  /** Time constant on continuous codes. */
  continuous: Seconds;
}

export const LATENT_SMOOTHING_DEFAULTS: LatentSmoothingOptions = { noise: 0.1, categorical: 0.1, continuous: 0.1 };

/**
 * What the latent springs carry from tick to tick: their time constants and a velocity for every entry
 * (laid out as a LatentState). Positions are the `current` state passed to smoothState.
 */
export interface LatentSprings {
  readonly options: Readonly<LatentSmoothingOptions>;
  velocity: LatentState;
}

export function checkLatentSmoothingOptions(options: Partial<LatentSmoothingOptions> | undefined): LatentSmoothingOptions {
  const o = mergeOptions('latent smoothing options', LATENT_SMOOTHING_DEFAULTS, options);
  for (const key of ['noise', 'categorical', 'continuous'] as const) {
    checkRange(`latent smoothing ${key} time constant`, o[key], { min: 0, max: MAX_TIME_CONSTANT, unit: ' s' });
  }
  return o;
}

/** Springs at rest for states laid out like `like`. */
export function latentSprings(like: LatentState, options?: Partial<LatentSmoothingOptions>): LatentSprings {
  return {
    options: Object.freeze(checkLatentSmoothingOptions(options)),
    velocity: {
      noise: new Float32Array(like.noise.length),
      categorical: like.categorical.map((c) => new Float32Array(c.length)),
      continuous: new Float32Array(like.continuous.length),
    },
  };
}

/** Stops every spring (after a cut: a preset jump, a model switch). */
export function resetSprings(springs: LatentSprings): void {
  springs.velocity.noise.fill(0);
  for (const c of springs.velocity.categorical) c.fill(0);
  springs.velocity.continuous.fill(0);
}

function springPart(x: Float32Array, v: Float32Array, g: Float32Array, dt: Seconds, tau: Seconds): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const s = springStep({ x: x[i] as number, v: v[i] as number }, g[i] as number, dt, tau);
    out[i] = s.x;
    v[i] = s.v;
  }
  return out;
}

/**
 * `current` moved toward `target` for `dt` seconds by a critically damped spring on every entry; returns the
 * new state and updates `springs.velocity` (the one thing it changes). Categorical weights stay a mix: the
 * spring keeps their sum at 1, and any overshoot below 0 (after the target jumps mid-move) is clipped and the
 * weights renormalised.
 */
export function smoothState(springs: LatentSprings, current: LatentState, target: LatentState, dt: Seconds): LatentState {
  checkDt(dt);
  checkSameLayout(current, target, 'smoothState');
  checkSameLayout(current, springs.velocity, 'smoothState (springs made for another layout)');
  const o = springs.options;
  const v = springs.velocity;
  const categorical = current.categorical.map((w, code) => {
    const out = springPart(w, v.categorical[code] as Float32Array, target.categorical[code] as Float32Array, dt, o.categorical);
    let sum = 0;
    let clipped = false;
    for (let i = 0; i < out.length; i++) {
      if ((out[i] as number) < 0) {
        out[i] = 0;
        clipped = true;
      }
      sum += out[i] as number;
    }
    if (clipped && sum > 0) for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / sum;
    return out;
  });
  return {
    noise: springPart(current.noise, v.noise, target.noise, dt, o.noise),
    categorical,
    continuous: springPart(current.continuous, v.continuous, target.continuous, dt, o.continuous),
  };
}
