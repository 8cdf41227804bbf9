/**
 * The performer's latent state and what moves it, each tick: the base state (knobs, categories, codes),
 * moved along a transition (preset recall, crossfade), drifted, truncated, then smoothed by critically damped
 * springs (frame-rate independent) toward that target; then pushed along latent directions, each amount with a
 * spring of its own, so a pulse can skip the smoothing (time constant 0) while knobs glide. Per-model gains
 * (calibration.ts) scale the directions and the drift so the same amount moves any model's picture alike.
 */
import { z } from 'zod';
import { latentSpecSchema, type LatentSpec } from '../core/checkpoint/manifest.ts';
import { RhodopsError } from '../core/errors.ts';
import {
  crossfadeCategory,
  driftAt,
  MAX_DRIFT_SPEED,
  layoutMismatches,
  latentSprings,
  nudge,
  randomDirections,
  randomState,
  resetSprings,
  springStep,
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
  type SpringState,
  type LatentState,
  type LatentStateJson,
  type Transition,
} from '../core/latent/index.ts';
import { EASING_NAMES, type EasingName } from '../core/latent/easing.ts';
import { CAMERA_MOVES, cameraRange, NO_CAMERA, type Camera, type CameraMove } from '../core/camera.ts';

export const DIRECTION_KNOBS = 8;

export interface LiveControls {
  /** Amount along each of the model's first DIRECTION_KNOBS random directions. */
  directions: number[];
  driftSpeed: number;
  truncation: number;
  smoothing: number;
  /** A direction's own smoothing time constant (s), where it is not `smoothing`'s (0: none, for pulses). */
  directionSmoothing: (number | null)[];
  /** Which walk the drift follows (0..11): the harmony's root can turn it. */
  driftHeading: number;
  /** The moves of the picture itself (flash, zoom…): the mapping's, drawn by the pages and `render`. */
  camera: Camera;
}

/** How much each direction and the drift move this model's picture: multipliers, 1 when not calibrated. */
export const liveGainsSchema = z.object({ directions: z.array(z.number().positive()), drift: z.number().positive() });
export type LiveGains = z.infer<typeof liveGainsSchema>;

/**
 * Every change of the live state, by method, with its arguments as JSON: what a session log records and a
 * replay calls again, in order and at the same clock readings, to make the same latents.
 */
export interface LiveOps {
  setState: [json: unknown, seconds: number];
  randomize: [seed: number, seconds?: number];
  setCategory: [code: number, value: number];
  crossfade: [code: number, from: number, to: number, t: number];
  setContinuous: [index: number, value: number];
  setDirection: [index: number, value: number];
  setDrift: [speed: number];
  setTruncation: [psi: number];
  setSmoothing: [timeConstant: number];
  setDirectionSmoothing: [index: number, timeConstant: number | null];
  setDriftHeading: [heading: number];
  setCamera: [move: CameraMove, value: number];
  setGains: [gains: LiveGains];
  cut: [];
  modelChanged: [spec: LatentSpec];
  setDirections: [dirs: number[][]];
  useDirections: [count: number];
}
export type LiveOp = { [K in keyof LiveOps]: { op: K; args: LiveOps[K] } }[keyof LiveOps];

/** The operations' names, for readers of logs (checked against LiveOps by the compiler). */
export const LIVE_OPS = ['setState', 'randomize', 'setCategory', 'crossfade', 'setContinuous', 'setDirection', 'setDrift', 'setTruncation', 'setSmoothing', 'setDirectionSmoothing', 'setDriftHeading', 'setCamera', 'setGains', 'cut', 'modelChanged', 'setDirections', 'useDirections'] as const satisfies readonly (keyof LiveOps)[];
// Fails to compile when an operation is missing from the list.
const everyOpListed: Record<Exclude<keyof LiveOps, (typeof LIVE_OPS)[number]>, never> = {};
void everyOpListed;

/** Hears every change (`t`: the clock reading the change saw) and every frame's latent. */
export interface LiveJournal {
  op(t: number, e: LiveOp): void;
  frame(t: number, dt: number, latent: Float32Array): void;
}

/** A state exactly as held, springs' velocities included: unbounded, and never renormalised on the way back. */
const exactStateSchema = z.object({ noise: z.array(z.number()), categorical: z.array(z.array(z.number())), continuous: z.array(z.number()) });
type StateJson = z.infer<typeof exactStateSchema>;
const rawState = (j: StateJson): LatentState => ({ noise: Float32Array.from(j.noise), categorical: j.categorical.map((c) => Float32Array.from(c)), continuous: Float32Array.from(j.continuous) });

/** Everything a LiveState holds, exactly (float32 arrays as numbers, which JSON keeps exact): a session log's start. */
export const liveInternalsSchema = z.object({
  spec: latentSpecSchema,
  seed: z.number(),
  base: exactStateSchema,
  current: exactStateSchema,
  springs: z.object({ options: z.object({ noise: z.number(), categorical: z.number(), continuous: z.number() }), velocity: exactStateSchema }),
  transition: z.object({ from: exactStateSchema, to: exactStateSchema, start: z.number(), duration: z.number(), easing: z.enum(EASING_NAMES as [EasingName, ...EasingName[]]) }).nullable(),
  directions: z.array(z.array(z.number())),
  wantedDirections: z.number().int(),
  controls: z.object({
    directions: z.array(z.number()),
    driftSpeed: z.number(),
    truncation: z.number(),
    smoothing: z.number(),
    directionSmoothing: z.array(z.number().nullable()).default([]),
    driftHeading: z.number().int().default(0),
    camera: z.object({ flash: z.number(), contrast: z.number(), zoom: z.number(), rotate: z.number() }).default({ ...NO_CAMERA }),
  }),
  driftStart: z.number(),
  /** The direction amounts' springs (version 2 logs; older ones start them at rest on their amounts). */
  directionSprings: z.array(z.object({ x: z.number(), v: z.number() })).optional(),
  gains: liveGainsSchema.optional(),
});
export type LiveInternals = z.infer<typeof liveInternalsSchema>;

export class LiveState {
  /** Set by a session log while it records. */
  journal: LiveJournal | null = null;
  private spec: LatentSpec;
  private base: LatentState;
  private current: LatentState;
  private springs: LatentSprings;
  private tr: Transition | null = null;
  private directions: Float32Array[];
  /** Directions asked for (the knobs, more for a mapping that uses chroma directions); capped by the noise size. */
  private wantedDirections = DIRECTION_KNOBS;
  private controls: LiveControls = { directions: new Array<number>(DIRECTION_KNOBS).fill(0), driftSpeed: 0, truncation: 1, smoothing: 0.15, directionSmoothing: [], driftHeading: 0, camera: { ...NO_CAMERA } };
  /** Each direction's smoothed amount. */
  private amounts: SpringState[] = [];
  private gains: LiveGains = { directions: [], drift: 1 };
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
    // One amount per direction the model has (a small noise has fewer than the 8 knobs).
    this.controls.directions = new Array<number>(this.directions.length).fill(0);
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
    if (this.driftSpeed > 0) s = driftAt(s, { seed: this.driftSeedNow, speed: this.driftSpeed }, t - this.driftStart);
    if (this.controls.truncation < 1) s = truncate(s, this.controls.truncation);
    return s;
  }

  /** The walk the drift follows: its heading's own seed. */
  private get driftSeedNow(): number {
    return (this.driftSeed + 7919 * this.controls.driftHeading) >>> 0;
  }

  /** The drift's speed on this model: the control times the model's drift gain. */
  private get driftSpeed(): number {
    return Math.min(MAX_DRIFT_SPEED, this.controls.driftSpeed * this.gains.drift);
  }

  /** Steps each direction's amount toward its control with its own time constant; the amounts to push by. */
  private stepAmounts(dt: number): number[] {
    return this.controls.directions.map((want, k) => {
      const tau = this.controls.directionSmoothing[k] ?? this.controls.smoothing;
      const a = springStep(this.amounts[k] ?? { x: want, v: 0 }, want, dt, tau);
      this.amounts[k] = a;
      return a.x;
    });
  }

  /** The smoothed state pushed along the directions by their smoothed amounts, scaled by gain and truncation. */
  private pushed(state: LatentState, amounts: number[]): LatentState {
    let s = state;
    const psi = this.controls.truncation;
    amounts.forEach((amount, k) => {
      const d = this.directions[k];
      const a = amount * (this.gains.directions[k] ?? 1) * psi;
      if (a !== 0 && d) s = nudge(s, d, a);
    });
    return s;
  }

  latentAt(now: number, dt: number): Float32Array {
    const target = this.targetAt(now);
    const step = Math.min(Math.max(dt, 0), 1);
    this.current = smoothState(this.springs, this.current, target, step);
    const amounts = this.stepAmounts(step);
    let v = toVector(this.spec, this.pushed(this.current, amounts), this.out);
    // Springs that went non-finite would stay so: cut to the target instead (the render loop refuses a
    // non-finite latent either way).
    if (!v.every(Number.isFinite)) {
      resetSprings(this.springs);
      this.current = target;
      this.amounts = [];
      v = toVector(this.spec, this.pushed(this.current, this.stepAmounts(0)), this.out);
    }
    this.journal?.frame(now, dt, v);
    return v;
  }

  /** A new model: keep the state if the layout is the same, else start afresh in the new layout. */
  modelChanged(spec: LatentSpec): void {
    this.record({ op: 'modelChanged', args: [spec] });
    const same = layoutMismatches(spec, this.spec).length === 0;
    this.spec = spec;
    this.out = new Float32Array(spec.size);
    // Gains belong to a model: the new one is calibrated afresh (setGains).
    this.gains = { directions: [], drift: 1 };
    if (same) return;
    this.amounts = [];
    this.controls.directionSmoothing = [];
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

  /** The directions the knobs and the mapping push along (read-only views). */
  get directionVectors(): readonly Float32Array[] {
    return this.directions;
  }

  /**
   * The model's own directions (principal ones) in place of the first random ones, for a model of this noise
   * size; a set for another model (one switched away from meanwhile) is ignored.
   */
  setDirections(dirs: Float32Array[]): boolean {
    if (dirs.some((d) => d.length !== this.spec.noise)) return false;
    this.directions = [...dirs, ...this.makeDirections().slice(dirs.length)];
    this.record({ op: 'setDirections', args: [dirs.map((d) => Array.from(d))] });
    return true;
  }

  /** At least `count` directions (never fewer than the knobs); amounts already set are kept. */
  useDirections(count: number): void {
    const wanted = Math.max(DIRECTION_KNOBS, count);
    if (wanted === this.wantedDirections) return;
    this.record({ op: 'useDirections', args: [count] });
    this.wantedDirections = wanted;
    this.directions = this.makeDirections();
    const amounts = this.controls.directions;
    this.controls.directions = Array.from({ length: this.directions.length }, (_, k) => amounts[k] ?? 0);
  }


  /** Folds the drift so far into the base, so a speed change (or stopping) never jumps. */
  private settleDrift(): number {
    const t = this.now();
    if (this.driftSpeed > 0) this.base = driftAt(this.base, { seed: this.driftSeedNow, speed: this.driftSpeed }, t - this.driftStart);
    this.driftStart = t;
    return t;
  }

  private code(code: number, value?: number): void {
    const k = this.spec.categorical[code];
    if (k === undefined) throw new RhodopsError('BAD_OPTION', `this model has ${this.spec.categorical.length} categorical code(s); there is no code ${code}`);
    if (value !== undefined && value >= k) throw new RhodopsError('BAD_OPTION', `categorical code ${code} has ${k} values (0–${k - 1}); got ${value}`);
  }

  setState(json: unknown, seconds = 0): void {
    const to = stateFromJson(this.spec, json, 'the requested state');
    // One clock reading per change, the one recorded: a replay gives every use of it the same time.
    const t = this.now();
    this.tr = seconds > 0 ? transition(this.targetAt(t), to, { start: t, duration: seconds }) : null;
    if (seconds === 0) this.base = to;
    this.record({ op: 'setState', args: [json, seconds] }, t);
  }

  /** New noise from `seed`: at once, or over `seconds` (a glide to a new region, as a section change). */
  randomize(seed: number, seconds = 0): void {
    const fresh = randomState(this.spec, seed);
    const t = this.now();
    if (seconds > 0) {
      const from = this.targetAt(t);
      this.tr = transition(from, { ...(this.tr ? this.tr.to : this.base), noise: fresh.noise }, { start: t, duration: seconds });
    } else {
      this.base = { ...this.base, noise: fresh.noise };
      this.tr = null;
    }
    this.record({ op: 'randomize', args: seconds > 0 ? [seed, seconds] : [seed] }, t);
  }

  setCategory(code: number, value: number): void {
    this.code(code, value);
    this.base = setCategory(this.base, code, value);
    this.record({ op: 'setCategory', args: [code, value] });
  }

  crossfade(code: number, from: number, to: number, t: number): void {
    this.code(code, Math.max(from, to));
    this.base = crossfadeCategory(this.base, code, from, to, t);
    this.record({ op: 'crossfade', args: [code, from, to, t] });
  }

  setContinuous(index: number, value: number): void {
    if (index >= this.spec.continuous) throw new RhodopsError('BAD_OPTION', `this model has ${this.spec.continuous} continuous code(s); there is no code ${index}`);
    this.base = setContinuous(this.base, index, value);
    this.record({ op: 'setContinuous', args: [index, value] });
  }

  setDirection(index: number, value: number): void {
    if (index >= this.directions.length) throw new RhodopsError('BAD_OPTION', `there are ${this.directions.length} direction knobs; there is no knob ${index}`);
    this.controls.directions[index] = value;
    this.record({ op: 'setDirection', args: [index, value] });
  }

  setDrift(speed: number): void {
    const t = this.settleDrift();
    this.controls.driftSpeed = speed;
    this.record({ op: 'setDrift', args: [speed] }, t);
  }

  setTruncation(psi: number): void {
    this.controls.truncation = psi;
    this.record({ op: 'setTruncation', args: [psi] });
  }

  setSmoothing(timeConstant: number): void {
    this.controls.smoothing = timeConstant;
    const velocity = this.springs.velocity;
    this.springs = { ...latentSprings(this.current, this.springOptions()), velocity };
    this.record({ op: 'setSmoothing', args: [timeConstant] });
  }

  /** Direction `index`'s own smoothing (s; 0 for none), or null for the live smoothing. */
  setDirectionSmoothing(index: number, timeConstant: number | null): void {
    if (index >= this.directions.length) throw new RhodopsError('BAD_OPTION', `there are ${this.directions.length} directions; there is no direction ${index}`);
    const ds = this.controls.directionSmoothing;
    while (ds.length <= index) ds.push(null);
    ds[index] = timeConstant;
    this.record({ op: 'setDirectionSmoothing', args: [index, timeConstant] });
  }

  /** Turns the drift onto walk `heading` (0..11) from where it is: no jump, a new way on. */
  setDriftHeading(heading: number): void {
    if (!Number.isInteger(heading) || heading < 0 || heading > 11) throw new RhodopsError('BAD_OPTION', `drift heading must be an integer from 0 to 11, got ${heading}`);
    const t = this.settleDrift();
    this.controls.driftHeading = heading;
    this.record({ op: 'setDriftHeading', args: [heading] }, t);
  }

  setCamera(move: CameraMove, value: number): void {
    if (!(CAMERA_MOVES as readonly string[]).includes(move)) throw new RhodopsError('BAD_OPTION', `camera move '${String(move)}' is not one of ${CAMERA_MOVES.join(', ')}`);
    const [lo, hi] = cameraRange(move);
    if (!(value >= lo && value <= hi)) throw new RhodopsError('BAD_OPTION', `camera ${move} must be from ${lo} to ${hi}, got ${value}`);
    this.controls.camera[move] = value;
    this.record({ op: 'setCamera', args: [move, value] });
  }

  /** The camera moves of the frame made last. */
  get camera(): Readonly<Camera> {
    return this.controls.camera;
  }

  /** How much this model's picture moves per unit along each direction and per radian of drift (calibration.ts). */
  setGains(gains: LiveGains): void {
    const t = this.settleDrift();
    this.gains = { directions: [...gains.directions], drift: gains.drift };
    this.record({ op: 'setGains', args: [this.gains] }, t);
  }

  /** A cut: no smoothing to the next state (after a model switch, say). */
  cut(): void {
    resetSprings(this.springs);
    this.amounts = this.controls.directions.map((x) => ({ x, v: 0 }));
    const t = this.now();
    this.current = this.targetAt(t);
    this.record({ op: 'cut', args: [] }, t);
  }

  private record(e: LiveOp, t?: number): void {
    this.journal?.op(t ?? this.now(), e);
  }

  /** Calls again a change a journal recorded (a replay; the caller sets the clock to the recorded time first). */
  apply(e: LiveOp): void {
    switch (e.op) {
      case 'setState':
        return this.setState(...e.args);
      case 'randomize':
        return this.randomize(...e.args);
      case 'setCategory':
        return this.setCategory(...e.args);
      case 'crossfade':
        return this.crossfade(...e.args);
      case 'setContinuous':
        return this.setContinuous(...e.args);
      case 'setDirection':
        return this.setDirection(...e.args);
      case 'setDrift':
        return this.setDrift(...e.args);
      case 'setTruncation':
        return this.setTruncation(...e.args);
      case 'setSmoothing':
        return this.setSmoothing(...e.args);
      case 'setDirectionSmoothing':
        return this.setDirectionSmoothing(...e.args);
      case 'setDriftHeading':
        return this.setDriftHeading(...e.args);
      case 'setCamera':
        return this.setCamera(...e.args);
      case 'setGains':
        return this.setGains(...e.args);
      case 'cut':
        return this.cut();
      case 'modelChanged':
        return this.modelChanged(...e.args);
      case 'setDirections':
        this.setDirections(e.args[0].map((d) => Float32Array.from(d)));
        return;
      case 'useDirections':
        return this.useDirections(...e.args);
    }
  }

  /** Everything this state holds, exactly: a session log's starting point. */
  internals(): LiveInternals {
    const tr = this.tr;
    return {
      spec: this.spec,
      seed: this.seed,
      base: stateToJson(this.base),
      current: stateToJson(this.current),
      springs: { options: { ...this.springs.options }, velocity: stateToJson(this.springs.velocity) },
      transition: tr ? { from: stateToJson(tr.from), to: stateToJson(tr.to), start: tr.start, duration: tr.duration, easing: tr.easing } : null,
      directions: this.directions.map((d) => Array.from(d)),
      wantedDirections: this.wantedDirections,
      controls: this.controlsCopy(),
      driftStart: this.driftStart,
      directionSprings: this.amounts.map((a) => ({ ...a })),
      gains: { directions: [...this.gains.directions], drift: this.gains.drift },
    };
  }

  /** A state exactly as `internals()` saw it, on another clock (a replay's). */
  static restore(i: LiveInternals, now: () => number): LiveState {
    const live = new LiveState(i.spec, i.seed, now);
    live.base = rawState(i.base);
    live.current = rawState(i.current);
    live.springs = { options: Object.freeze({ ...i.springs.options }), velocity: rawState(i.springs.velocity) };
    live.tr = i.transition ? { from: rawState(i.transition.from), to: rawState(i.transition.to), start: i.transition.start, duration: i.transition.duration, easing: i.transition.easing } : null;
    live.directions = i.directions.map((d) => Float32Array.from(d));
    live.wantedDirections = i.wantedDirections;
    live.controls = { ...i.controls, directions: [...i.controls.directions], directionSmoothing: [...i.controls.directionSmoothing], camera: { ...i.controls.camera } };
    live.driftStart = i.driftStart;
    live.amounts = i.directionSprings?.map((a) => ({ ...a })) ?? i.controls.directions.map((x) => ({ x, v: 0 }));
    if (i.gains) live.gains = { directions: [...i.gains.directions], drift: i.gains.drift };
    return live;
  }

  snapshot(): { state: LatentStateJson; controls: LiveControls } {
    return { state: stateToJson(this.base), controls: this.controlsCopy() };
  }

  private controlsCopy(): LiveControls {
    const c = this.controls;
    return { ...c, directions: [...c.directions], directionSmoothing: [...c.directionSmoothing], camera: { ...c.camera } };
  }
}
