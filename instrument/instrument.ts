/**
 * The instrument: what turns inputs at time t into a latent. It owns the live state (knobs, categories, codes,
 * drift, transitions, springs), the mapping engine and its applier, MIDI learn, and the mapping's effects on
 * presets (recall and morph, from preset states it is given). It has no clock of its own: every change reads
 * the clock it is built with, and `frameAt(t, dt)` makes the latent of the frame at t. So the same instrument is
 * driven three ways with three clocks:
 * - live: the server pushes MIDI and audio-feature inputs as they arrive, applies the pages' operations, and
 *   its render loop asks for a frame at each tick (performance.now);
 * - offline: a renderer pushes a song's feature frames and a timeline's recalls, and asks for the frame at
 *   each video frame's time (the clock reads that time);
 * - replay: a session log's operations are applied again at their recorded clock readings and frames asked
 *   for at their recorded times; or, with another mapping, its inputs are mapped again.
 *
 * A journal (a session log) hears every operation with the clock reading it used (marked when the mapping made
 * it), every input as the engine will play it, every mapping and preset-state change, and every frame's latent.
 */
import { EventEmitter } from 'node:events';
import type { LatentSpec } from '../core/checkpoint/manifest.ts';
import { slerp, stateFromJson, stateToJson, type LatentStateJson } from '../core/latent/index.ts';
import { logger } from '../core/log.ts';
import {
  arm,
  cancel,
  DEFAULT_MAPPING,
  directionsNeeded,
  learnIdle,
  learnInput,
  MappingApplier,
  MappingEngine,
  mappingToJson,
  parseMapping,
  type LearnState,
  type Mapping,
  type MappingInput,
  type PresetRef,
  type TargetInput,
} from '../core/mapping/index.ts';
import { CAMERA_MOVES, type Camera } from '../core/camera.ts';
import { LiveState, type LiveControls, type LiveInternals, type LiveOp } from './live-state.ts';

const log = logger('instrument');

/** Preset states by `bank/name`, for the mapping's recalls and morphs. */
export type PresetStates = ReadonlyMap<string, LatentStateJson>;

export const presetKey = (bank: string | undefined, name: string) => `${bank ?? 'default'}/${name}`;

/** What a session log hears. */
export interface InstrumentJournal {
  /** An operation, at the clock reading it used; `mapped` when the mapping made it (a re-mapping replay skips those). */
  op(t: number, e: LiveOp, mapped: boolean): void;
  frame(t: number, dt: number, latent: Float32Array): void;
  /** An input, with the time the mapping engine plays it at. */
  input(t: number, input: MappingInput): void;
  mapping(t: number, mapping: unknown): void;
  presets(t: number, states: Record<string, LatentStateJson>): void;
}

export interface InstrumentEvents {
  /** The state or the controls changed (an operation, or the mapping moved something at a frame). */
  changed: [];
  /** The mapping was replaced (a page, learn, a preset recall). */
  mapping: [Mapping];
  /** MIDI learn made (or replaced) route `route` of the new mapping. */
  learned: [Mapping, number];
  /** The latent directions changed (another model, principal directions, a mapping that needs more): gains are measured again. */
  directions: [];
}

export interface InstrumentOptions {
  layout: LatentSpec;
  seed: number;
  mapping?: Mapping;
  /** The clock every change reads, in seconds. */
  now: () => number;
  presets?: PresetStates;
}

/** Everything an instrument holds that a replay needs to start from: the live state, the mapping and the preset states. */
export interface InstrumentInternals {
  live: LiveInternals;
  mapping: unknown;
  presets: Record<string, LatentStateJson>;
}

export class Instrument extends EventEmitter<InstrumentEvents> {
  private readonly live: LiveState;
  private readonly engine: MappingEngine;
  private readonly applier: MappingApplier;
  private mappingNow: Mapping;
  private learn: LearnState = learnIdle();
  private armed: TargetInput | null = null;
  private presets: PresetStates;
  /** While the applier runs: operations it makes are the mapping's. */
  private applying = false;
  /** A journal (a session log) hears everything from when it is attached; null detaches it. */
  journal: InstrumentJournal | null = null;
  private readonly now: () => number;

  constructor(o: InstrumentOptions, live?: LiveState) {
    super();
    this.now = o.now;
    this.live = live ?? new LiveState(o.layout, o.seed, o.now);
    this.live.journal = {
      op: (t, e) => this.journal?.op(t, e, this.applying),
      frame: (t, dt, latent) => this.journal?.frame(t, dt, latent),
    };
    this.mappingNow = o.mapping ?? DEFAULT_MAPPING;
    this.presets = o.presets ?? new Map();
    this.live.useDirections(directionsNeeded(this.mappingNow));
    this.engine = new MappingEngine(this.mappingNow, { layout: this.live.layout, directions: this.live.directionCount });
    this.applier = new MappingApplier(this.live, {
      recall: (a) => this.recallFromMapping(a.bank, a.name, a.crossfade),
      morph: (from, to, t) => this.morph(from, to, t),
    });
    this.reportWarnings();
  }

  /** Routes this model cannot play: a user's own mapping says each; the built-in one (made for every model) only in debug. */
  private reportWarnings(): void {
    const builtIn = this.mappingNow === DEFAULT_MAPPING;
    for (const w of this.engine.warnings) (builtIn ? log.debug : log.warn)(`mapping '${this.mappingNow.name}': ${w}`);
  }

  /** An instrument exactly as `internals()` saw it, on another clock (a replay's). */
  static restore(i: InstrumentInternals, now: () => number): Instrument {
    const live = LiveState.restore(i.live, now);
    return new Instrument({ layout: i.live.spec, seed: i.live.seed, mapping: parseMapping(i.mapping), now, presets: new Map(Object.entries(i.presets)) }, live);
  }

  internals(): InstrumentInternals {
    return { live: this.live.internals(), mapping: mappingToJson(this.mappingNow), presets: Object.fromEntries(this.presets) };
  }


  get layout(): LatentSpec {
    return this.live.layout;
  }

  get mapping(): Mapping {
    return this.mappingNow;
  }

  get warnings(): readonly string[] {
    return this.engine.warnings;
  }

  get directionCount(): number {
    return this.live.directionCount;
  }

  /** The latent directions in use (calibration measures them). */
  get directions(): readonly Float32Array[] {
    return this.live.directionVectors;
  }

  get learning(): TargetInput | null {
    return this.armed;
  }

  snapshot(): { state: LatentStateJson; controls: LiveControls } {
    return this.live.snapshot();
  }

  // ─── Inputs ───────────────────────────────────────────────────────────────────────────────────────────────

  /** A MIDI message or an audio-feature frame, stamped on this instrument's clock. Learn hears MIDI first. */
  push(input: MappingInput): void {
    if (this.armed && input.type !== 'audio') {
      const r = learnInput(this.learn, this.mappingNow, input);
      this.learn = r.state;
      if (r.learned) {
        this.armed = null;
        this.setMapping(r.mapping);
        log.info(`learned: route ${r.learned.index}${r.learned.replaced ? ' (replacing the old one)' : ''}`);
        this.emit('learned', this.mappingNow, r.learned.index);
      }
    }
    const at = this.engine.push(input);
    this.journal?.input(at, at === input.time ? input : { ...input, time: at });
  }

  armLearn(target: TargetInput): void {
    this.learn = arm(this.learn, target);
    this.armed = target;
  }

  cancelLearn(): void {
    this.learn = cancel(this.learn);
    this.armed = null;
  }

  /** Replaces the mapping (checked whole: a bad route is named and nothing changes). */
  setMapping(raw: unknown): Mapping {
    const mapping = parseMapping(raw);
    // Directions' own smoothing belongs to the mapping that asked for it; the new one asks again at its next frame.
    this.live.snapshot().controls.directionSmoothing.forEach((t, k) => {
      if (t !== null) this.live.setDirectionSmoothing(k, null);
    });
    // So are the camera moves: a mapping without them leaves the picture still, not stuck mid-flash.
    const camera = this.live.camera;
    for (const move of CAMERA_MOVES) if (camera[move] !== 0) this.live.setCamera(move, 0);
    this.applier.reset();
    const before = this.live.directionCount;
    this.live.useDirections(directionsNeeded(mapping));
    if (this.live.directionCount !== before) this.emit('directions');
    this.engine.configure({ directions: this.live.directionCount });
    this.engine.setMapping(mapping);
    this.mappingNow = mapping;
    this.reportWarnings();
    this.journal?.mapping(this.now(), mappingToJson(this.mappingNow));
    this.emit('mapping', mapping);
    return mapping;
  }

  /** The states the mapping's recalls and morphs use (a live server loads them from its preset store). */
  setPresets(states: PresetStates): void {
    this.presets = states;
    this.journal?.presets(this.now(), Object.fromEntries(states));
  }

  // ─── Operations ───────────────────────────────────────────────────────────────────────────────────────────

  /** One change of the live state (a page's message, a replayed log line); checked as the state checks it. */
  apply(e: LiveOp): void {
    this.live.apply(e);
    // A new state from outside: the mapping sends every value again on top of it at the next frame.
    if (e.op === 'setState' || e.op === 'randomize') this.applier.reset();
    this.emit('changed');
  }

  /** A new model: the state is kept if the layout is the same; the mapping works out which routes can act. */
  modelChanged(layout: LatentSpec): void {
    this.live.modelChanged(layout);
    this.engine.configure({ layout, directions: this.live.directionCount });
    this.applier.reset();
    this.emit('changed');
    this.emit('directions');
  }

  /** A cut to the target with no smoothing (after a model switch). */
  cut(): void {
    this.live.cut();
  }

  setDirections(dirs: Float32Array[]): boolean {
    const set = this.live.setDirections(dirs);
    if (set) this.emit('directions');
    return set;
  }

  private recallFromMapping(bank: string | undefined, name: string, seconds: number): void {
    const state = this.presets.get(presetKey(bank, name));
    if (!state) return this.missing(presetKey(bank, name));
    this.live.setState(state, seconds);
    if (seconds === 0) this.live.cut();
    this.applier.reset();
  }

  private morph(from: PresetRef, to: PresetRef, t: number): void {
    const a = this.presets.get(presetKey(from.bank, from.name));
    const b = this.presets.get(presetKey(to.bank, to.name));
    if (!a || !b) return this.missing(presetKey(a ? to.bank : from.bank, a ? to.name : from.name));
    const layout = this.live.layout;
    this.live.setState(stateToJson(slerp(stateFromJson(layout, a, 'a morph preset'), stateFromJson(layout, b, 'a morph preset'), t)));
  }

  private warnedMissing = new Set<string>();
  private missing(key: string): void {
    if (this.warnedMissing.has(key)) return;
    this.warnedMissing.add(key);
    log.warn(`the mapping names preset '${key}', which is not loaded for this model; its recalls and morphs do nothing`);
  }

  // ─── Frames ───────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * The latent of the frame at `t` (`dt` since the last frame): the mapping evaluated at t and applied, then the
   * live state's springs stepped. A view, valid until the next call. Emits 'changed' when the mapping moved a control.
   */
  frameAt(t: number, dt: number): Float32Array {
    this.applying = true;
    let moved = 0;
    try {
      moved = this.applier.apply(this.engine.evaluate(t));
    } finally {
      this.applying = false;
    }
    if (moved > 0) this.emit('changed');
    return this.live.latentAt(t, dt);
  }

  /**
   * The frame at `t` from the state as the operations left it, the mapping not evaluated: an exact replay applies
   * the operations the mapping made live (they are in the log) instead of mapping the inputs again.
   */
  frameFromOps(t: number, dt: number): Float32Array {
    return this.live.latentAt(t, dt);
  }

  /** The camera moves of the frame made last (a copy: the frame keeps it while it is rendered). */
  get camera(): Camera {
    return { ...this.live.camera };
  }
}
