/**
 * The performer's latent state and what moves it, each tick: the base state (knobs, categories, codes),
 * moved along a transition (preset recall, crossfade), pushed along latent directions, drifted, truncated,
 * then smoothed by critically damped springs (frame-rate independent) toward that target.
 */
import type { LatentSpec } from '../core/checkpoint/manifest.ts';
import { RhodopsError } from '../core/errors.ts';
import {
  crossfadeCategory,
  driftAt,
  latentSprings,
  nudge,
  randomDirections,
  randomState,
  resetSprings,
  setCategory,
  setContinuous,
  smoothState,
  stateFromJson,
  stateToJson,
  toVector,
  transition,
  transitionAt,
  transitionDone,
  truncate,
  type LatentSprings,
  type LatentState,
  type LatentStateJson,
  type Transition,
} from '../core/latent/index.ts';
import type { LatentSource } from './loop.ts';

export const DIRECTION_KNOBS = 8;

export interface LiveControls {
  /** Amount along each of the model's first DIRECTION_KNOBS random directions. */
  directions: number[];
  driftSpeed: number;
  truncation: number;
  smoothing: number;
}

export class LiveState implements LatentSource {
  private spec: LatentSpec;
  private base: LatentState;
  private current: LatentState;
  private springs: LatentSprings;
  private tr: Transition | null = null;
  private directions: Float32Array[];
  /** Directions asked for (the knobs, more for a mapping that uses chroma directions); capped by the noise size. */
  private wantedDirections = DIRECTION_KNOBS;
  private controls: LiveControls = { directions: new Array<number>(DIRECTION_KNOBS).fill(0), driftSpeed: 0, truncation: 1, smoothing: 0.15 };
  private driftStart = 0;
  private readonly driftSeed: number;
  private out: Float32Array;

  constructor(
    spec: LatentSpec,
    private readonly seed: number,
    private readonly now: () => number,
  ) {
    this.spec = spec;
    this.driftSeed = seed + 101;
    this.base = randomState(spec, seed);
    this.current = this.base;
    this.springs = latentSprings(this.base, this.springOptions());
    this.directions = this.makeDirections();
    this.out = new Float32Array(spec.size);
  }

  private springOptions() {
    const t = this.controls.smoothing;
    return { noise: t, categorical: t, continuous: t };
  }

  get layout(): LatentSpec {
    return this.spec;
  }

  /** The target before smoothing, at time `t`. */
  private targetAt(t: number): LatentState {
    if (this.tr && transitionDone(this.tr, t)) {
      this.base = this.tr.to;
      this.tr = null;
    }
    let s = this.tr ? transitionAt(this.tr, t) : this.base;
    this.controls.directions.forEach((amount, k) => {
      if (amount !== 0 && this.directions[k]) s = nudge(s, this.directions[k], amount);
    });
    if (this.controls.driftSpeed > 0) s = driftAt(s, { seed: this.driftSeed, speed: this.controls.driftSpeed }, t - this.driftStart);
    if (this.controls.truncation < 1) s = truncate(s, this.controls.truncation);
    return s;
  }

  latentAt(now: number, dt: number): Float32Array {
    this.current = smoothState(this.springs, this.current, this.targetAt(now), Math.min(Math.max(dt, 0), 1));
    return toVector(this.spec, this.current, this.out);
  }

  /** A new model: keep the state if the layout is the same, else start afresh in the new layout. */
  modelChanged(spec: LatentSpec): void {
    const same = spec.noise === this.spec.noise && spec.continuous === this.spec.continuous && spec.categorical.join() === this.spec.categorical.join();
    this.spec = spec;
    this.out = new Float32Array(spec.size);
    if (same) return;
    this.base = randomState(spec, this.seed);
    this.current = this.base;
    this.tr = null;
    this.springs = latentSprings(this.base, this.springOptions());
    this.directions = this.makeDirections();
    this.controls.directions = new Array<number>(this.directions.length).fill(0);
  }

  /** The same seed gives the same first directions whatever the count, so knob 0 stays knob 0. */
  private makeDirections(): Float32Array[] {
    return randomDirections(this.spec.noise, Math.min(this.wantedDirections, this.spec.noise), this.seed + 7);
  }

  get directionCount(): number {
    return this.directions.length;
  }

  /**
   * The model's own directions (principal ones) in place of the first random ones, for a model of this noise
   * size; a set for another model (one switched away from meanwhile) is ignored.
   */
  setDirections(dirs: Float32Array[]): boolean {
    if (dirs.some((d) => d.length !== this.spec.noise)) return false;
    this.directions = [...dirs, ...this.makeDirections().slice(dirs.length)];
    return true;
  }

  /** At least `count` directions (never fewer than the knobs); amounts already set are kept. */
  useDirections(count: number): void {
    const wanted = Math.max(DIRECTION_KNOBS, count);
    if (wanted === this.wantedDirections) return;
    this.wantedDirections = wanted;
    this.directions = this.makeDirections();
    const amounts = this.controls.directions;
    this.controls.directions = Array.from({ length: this.directions.length }, (_, k) => amounts[k] ?? 0);
  }


  /** Folds the drift so far into the base, so a speed change (or stopping) never jumps. */
  private settleDrift(): void {
    const t = this.now();
    if (this.controls.driftSpeed > 0) this.base = driftAt(this.base, { seed: this.driftSeed, speed: this.controls.driftSpeed }, t - this.driftStart);
    this.driftStart = t;
  }

  private code(code: number, value?: number): void {
    const k = this.spec.categorical[code];
    if (k === undefined) throw new RhodopsError('BAD_OPTION', `this model has ${this.spec.categorical.length} categorical code(s); there is no code ${code}`);
    if (value !== undefined && value >= k) throw new RhodopsError('BAD_OPTION', `categorical code ${code} has ${k} values (0–${k - 1}); got ${value}`);
  }

  setState(json: unknown, seconds = 0): void {
    const to = stateFromJson(this.spec, json, 'the requested state');
    this.tr = seconds > 0 ? transition(this.targetAt(this.now()), to, { start: this.now(), duration: seconds }) : null;
    if (seconds === 0) this.base = to;
  }

  randomize(seed: number): void {
    const fresh = randomState(this.spec, seed);
    this.base = { ...this.base, noise: fresh.noise };
    this.tr = null;
  }

  setCategory(code: number, value: number): void {
    this.code(code, value);
    this.base = setCategory(this.base, code, value);
  }

  crossfade(code: number, from: number, to: number, t: number): void {
    this.code(code, Math.max(from, to));
    this.base = crossfadeCategory(this.base, code, from, to, t);
  }

  setContinuous(index: number, value: number): void {
    if (index >= this.spec.continuous) throw new RhodopsError('BAD_OPTION', `this model has ${this.spec.continuous} continuous code(s); there is no code ${index}`);
    this.base = setContinuous(this.base, index, value);
  }

  setDirection(index: number, value: number): void {
    if (index >= this.directions.length) throw new RhodopsError('BAD_OPTION', `there are ${this.directions.length} direction knobs; there is no knob ${index}`);
    this.controls.directions[index] = value;
  }

  setDrift(speed: number): void {
    this.settleDrift();
    this.controls.driftSpeed = speed;
  }

  setTruncation(psi: number): void {
    this.controls.truncation = psi;
  }

  setSmoothing(timeConstant: number): void {
    this.controls.smoothing = timeConstant;
    const velocity = this.springs.velocity;
    this.springs = { ...latentSprings(this.current, this.springOptions()), velocity };
  }

  /** A cut: no smoothing to the next state (after a model switch, say). */
  cut(): void {
    resetSprings(this.springs);
    this.current = this.targetAt(this.now());
  }

  snapshot(): { state: LatentStateJson; controls: LiveControls } {
    return { state: stateToJson(this.base), controls: { ...this.controls, directions: [...this.controls.directions] } };
  }
}
