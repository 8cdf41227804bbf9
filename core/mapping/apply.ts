/**
 * Applying the engine's outputs to whatever holds the live latent (the server's LiveState; the offline
 * renderer's own state), through the few methods it already has. Stateful on purpose, unlike the engine: it
 * remembers what it last set, so a knob at rest costs nothing per tick and drift is not re-settled every
 * frame (LiveState.setDrift folds the drift so far into the base: cheap, but not free).
 */
import type { MappingAction, MappingOutput } from './engine.ts';
import type { PresetRef } from './schema.ts';
import type { CameraMove } from '../camera.ts';

/** The setters LiveState has (instrument/live-state.ts); the offline renderer can implement the same. */
export interface LiveControlsLike {
  setDirection(index: number, value: number): void;
  setDirectionSmoothing(index: number, timeConstant: number | null): void;
  setCategory(code: number, value: number): void;
  crossfade(code: number, from: number, to: number, t: number): void;
  setContinuous(index: number, value: number): void;
  setDrift(speed: number): void;
  setDriftHeading(heading: number): void;
  setTruncation(psi: number): void;
  /** A camera move (core/camera.ts) to `value`. */
  setCamera(move: CameraMove, value: number): void;
  /** New noise from a seed (LiveState.randomize), at once or over `seconds`. */
  randomize(seed: number, seconds?: number): void;
}

/** What the latent holder cannot do alone: preset I/O. Both are optional (a renderer without presets). */
export interface MappingEffects {
  /** Recall a preset with a crossfade in seconds (the server: recallPreset(ctx, bank ?? 'default', name, crossfade)). */
  recall?(action: Extract<MappingAction, { type: 'recall' }>): void;
  /** Put the state at t (0..1) between two presets (the server: slerp of their states, then setState). */
  morph?(from: PresetRef, to: PresetRef, t: number): void;
}

export interface MappingApplierOptions {
  /** Changes smaller than this are not sent (the springs downstream smooth anyway). */
  epsilon: number;
}

/**
 * Sends each tick's outputs to `live`: only values that changed by more than `epsilon`, only targets the
 * mapping drives; then the actions in order (reseed → live.randomize, recall → effects.recall).
 * Errors from a setter propagate: the server's tick catches and logs them, and the show goes on.
 */
export class MappingApplier {
  readonly #last = new Map<string, number>();
  readonly #categoryMode = new Map<number, string>();
  readonly #epsilon: number;
  #sent = 0;

  constructor(
    private readonly live: LiveControlsLike,
    private readonly effects: MappingEffects = {},
    options: Partial<MappingApplierOptions> = {},
  ) {
    this.#epsilon = options.epsilon ?? 1e-6;
  }

  /** True when `value` differs from what was last sent under `key` (and records it). */
  #changed(key: string, value: number): boolean {
    const last = this.#last.get(key);
    if (last !== undefined && Math.abs(last - value) <= this.#epsilon) return false;
    this.#last.set(key, value);
    this.#sent++;
    return true;
  }

  /** Returns how many values and actions were sent (0: nothing moved). */
  apply(out: MappingOutput): number {
    this.#sent = out.actions.length;
    for (const [k, v] of Object.entries(out.directionSmoothing)) if (this.#changed(`ds${k}`, v)) this.live.setDirectionSmoothing(Number(k), v);
    for (const [k, v] of Object.entries(out.directions)) if (this.#changed(`d${k}`, v)) this.live.setDirection(Number(k), v);
    for (const [k, v] of Object.entries(out.continuous)) if (this.#changed(`c${k}`, v)) this.live.setContinuous(Number(k), v);
    for (const [k, c] of Object.entries(out.categories)) {
      const code = Number(k);
      // What is done to the code (select, or crossfade of which pair) is part of the key: a change of it
      // always re-sends, even to a value sent before under another mode.
      const how = c.mode === 'select' ? 'select' : `${c.from}>${c.to}`;
      if (this.#categoryMode.get(code) !== how) this.#last.delete(`k${k}`);
      this.#categoryMode.set(code, how);
      if (c.mode === 'select') {
        if (this.#changed(`k${k}`, c.value)) this.live.setCategory(code, c.value);
      } else if (this.#changed(`k${k}`, c.t)) {
        this.live.crossfade(code, c.from, c.to, c.t);
      }
    }
    if (out.truncation !== undefined && this.#changed('truncation', out.truncation)) this.live.setTruncation(out.truncation);
    if (out.driftSpeed !== undefined && this.#changed('drift', out.driftSpeed)) this.live.setDrift(out.driftSpeed);
    if (out.driftHeading !== undefined && this.#changed('heading', out.driftHeading)) this.live.setDriftHeading(out.driftHeading);
    for (const [move, v] of Object.entries(out.camera) as [CameraMove, number][]) if (this.#changed(`cam ${move}`, v)) this.live.setCamera(move, v);
    if (out.morph !== undefined && this.effects.morph && this.#changed(`morph ${JSON.stringify([out.morph.from, out.morph.to])}`, out.morph.t)) {
      this.effects.morph(out.morph.from, out.morph.to, out.morph.t);
    }
    // Of several reseeds or recalls in one frame only the last of each shows (each replaces what the one
    // before set), so only those run: a mapping with many triggering routes costs one of each per frame.
    const lastReseed = out.actions.findLastIndex((a) => a.type === 'reseed');
    const lastRecall = out.actions.findLastIndex((a) => a.type === 'recall');
    out.actions.forEach((a, i) => {
      if (a.type === 'reseed' && i === lastReseed) this.live.randomize(a.seed, a.crossfade);
      else if (a.type === 'recall' && i === lastRecall) this.effects.recall?.(a);
    });
    return this.#sent;
  }

  /** Forget what was sent (after a model switch or a preset recall replaced the state): the next apply sends everything. */
  reset(): void {
    this.#last.clear();
    this.#categoryMode.clear();
  }
}
