/**
 * The mapping engine: turns a timeline of input events into target values, deterministically and with no
 * clock of its own. The live server and the offline renderer drive it the same way:
 *
 *   engine.push(event)…          // timestamped MIDI messages and audio frames, in any chunks
 *   const out = engine.evaluate(t)  // the targets at time t, and the actions fired since the last call
 *
 * evaluate(t) first plays every pushed event with time ≤ t in time order (ties in push order), then brings
 * every route to t. A route's smoother is stepped exactly from one change of its input to the next (its input
 * is held between events), so its value at t does not depend on how often evaluate is called: 30 and 120
 * calls a second give the same numbers for MIDI and audio sources. LFO and envelope values are exact at every
 * evaluated time; only a smoother on them sees them as straight lines between evaluations.
 *
 * The same events, pushed in any chunks but each before the evaluate whose time reaches it, and the same
 * evaluate times give identical outputs. An event pushed with a time already evaluated is played just after
 * the last evaluated time; push returns the time it will be played at, which is what a session log should
 * record so that a replay reproduces the live run exactly.
 *
 * Several routes on one target add up (after each one's transform): CC 1 and the bass both on direction 0
 * push it by the sum. Sums are clamped: directions and continuous codes to ±MAX_AMOUNT, truncation and
 * crossfade/morph positions to 0..1, drift speed to 0..MAX_MAPPED_DRIFT. A route gives nothing until its
 * source has said something (a knob not yet moved, no audio yet): a target none of whose routes has spoken is
 * absent from the output, so the server leaves it to the other controls.
 */
import { RhodopsError } from '../errors.ts';
import { hash32 } from '../random.ts';
import type { LatentLayout } from '../latent/state.ts';
import type { Seconds } from '../latent/units.ts';
import { cameraRange, type Camera } from '../camera.ts';
import { BeatClock, lfoValue, type BeatPulse } from './clock.ts';
import type { AudioFrameInput, CcInput, MappingInput } from './inputs.ts';
import {
  isDiscreteTarget,
  isTriggerSource,
  MAX_AMOUNT,
  MAX_MAPPED_DRIFT,
  parseMapping,
  routeLabel,
  targetKey,
  TRIGGER_ENVELOPE,
  type Envelope,
  type Mapping,
  type PresetRef,
  type Route,
  type Source,
  type Target,
} from './schema.ts';
import { envelopeLevel, postSmoothing, preSmoothing, smoothStep, triggerEnvelope, type EnvelopeState } from './transform.ts';

export interface MappingEngineOptions {
  /** The model's latent layout: category counts, and which codes exist. Without it, category targets need `values`. */
  layout: LatentLayout | undefined;
  /** How many latent directions the server can move (direction targets at or beyond it are inactive). */
  directions: number;
  /** Events waiting for their time; more is an error (a runaway producer, or a whole session pushed at once past it). */
  maxPending: number;
}

export const MAPPING_ENGINE_DEFAULTS: MappingEngineOptions = { layout: undefined, directions: 8, maxPending: 1_000_000 };

export type CategoryOutput = { mode: 'select'; value: number } | { mode: 'crossfade'; from: number; to: number; t: number };

export type MappingAction =
  | { type: 'recall'; time: Seconds; route: number; bank?: string; name: string; crossfade: Seconds }
  | { type: 'reseed'; time: Seconds; route: number; seed: number; crossfade: Seconds };

/** The targets at one time. Records are keyed by direction index, categorical code, continuous index. */
export interface MappingOutput {
  time: Seconds;
  directions: Record<number, number>;
  /** Directions whose routes ask for their own latent smoothing (seconds). */
  directionSmoothing: Record<number, number>;
  categories: Record<number, CategoryOutput>;
  continuous: Record<number, number>;
  truncation?: number;
  driftSpeed?: number;
  /** Which of DRIFT_HEADINGS walks the drift follows. */
  driftHeading?: number;
  morph?: { from: PresetRef; to: PresetRef; t: number };
  /** The camera moves the mapping drives. */
  camera: Partial<Camera>;
  /** Discrete actions fired since the previous evaluate, in time order. */
  actions: MappingAction[];
}

/** One route's running state. */
class Runner {
  /** Whether its source has said anything yet. */
  active: boolean;
  /** The source's own value (0..1; a held source's last value). */
  held = 0;
  /** Held notes (channel·128 + note → velocity), in the order they were pressed. */
  readonly notes = new Map<number, number>();
  env: EnvelopeState | undefined;
  /** The source's value after the input range and dead zone at the last step (for threshold crossings). */
  level = 0;
  /** The smoother: its output, its input and the time of the last step. */
  y = 0;
  u = 0;
  t = Number.NaN;
  readonly envelope: Envelope | undefined;

  constructor(
    readonly index: number,
    readonly route: Route,
  ) {
    this.envelope = route.transform.envelope ?? (isTriggerSource(route.source) ? TRIGGER_ENVELOPE : undefined);
    this.active = route.source.kind === 'lfo';
  }

  get json(): string {
    return JSON.stringify([this.route.source, this.route.transform, this.route.target]);
  }
}

/** Routes that drive the same target in the same way: their values add up. */
interface Group {
  target: Target;
  runners: Runner[];
  /** For category targets: the values 0..1 moves through. */
  values: number[];
  /** For direction targets: the smallest latent smoothing a route gives, if any does. */
  smoothing?: number;
}

const clamp = (x: number, lo: number, hi: number) => (x < lo ? lo : x > hi ? hi : x);

/** The drift's headings: one per pitch class, so the harmony's root can choose one. */
export const DRIFT_HEADINGS = 12;

export class MappingEngine {
  #options: Readonly<MappingEngineOptions>;
  /** Set by #install, which the constructor calls. */
  #mapping!: Mapping;
  #runners: Runner[] = [];
  #groups: Group[] = [];
  #warnings: string[] = [];
  #bySource = new Map<string, Runner[]>();
  #clock: BeatClock;
  #pending: MappingInput[] = [];
  #head = 0;
  #sorted = true;
  #time: Seconds = Number.NaN;
  #actions: MappingAction[] = [];
  #reseeds = 0;

  /** `mapping` may be raw JSON (it is validated) or a parsed Mapping. */
  constructor(mapping: Mapping | unknown, options: Partial<MappingEngineOptions> = {}) {
    this.#options = Object.freeze({ ...MAPPING_ENGINE_DEFAULTS, ...options });
    const m = parseMapping(mapping);
    this.#clock = new BeatClock(m.tempo);
    this.#install(m, []);
  }

  get mapping(): Mapping {
    return this.#mapping;
  }

  get options(): Readonly<MappingEngineOptions> {
    return this.#options;
  }

  /**
   * A new model (layout) or a different number of directions: which routes can act is worked out again;
   * every route keeps its state, so knobs keep their positions across a model switch.
   */
  configure(options: Partial<Pick<MappingEngineOptions, 'layout' | 'directions'>>): void {
    this.#options = Object.freeze({ ...this.#options, ...options });
    this.#buildGroups();
  }

  /** Routes that cannot act on this model, and targets driven in two ways; one line each. */
  get warnings(): readonly string[] {
    return this.#warnings;
  }

  /** The last evaluated time (NaN before the first evaluate). */
  get time(): Seconds {
    return this.#time;
  }

  /**
   * Swaps the mapping (after MIDI learn, a preset recall): routes that are unchanged keep their state (a
   * knob's position, a smoother in flight); new ones start silent. The beat clock carries on. A session log
   * should record the swap with the current time.
   */
  setMapping(mapping: Mapping | unknown): void {
    this.#install(parseMapping(mapping), this.#runners);
  }

  #install(m: Mapping, previous: Runner[]): void {
    const spare = new Map<string, Runner[]>();
    for (const r of previous) spare.set(r.json, [...(spare.get(r.json) ?? []), r]);
    this.#mapping = m;
    this.#clock.fallbackBpm = m.tempo;
    this.#runners = [];
    this.#bySource = new Map();
    m.routes.forEach((route, index) => {
      if (!route.enabled) return;
      const runner = new Runner(index, route);
      const old = spare.get(runner.json)?.shift();
      if (old) {
        runner.active = old.active;
        runner.held = old.held;
        for (const [k, v] of old.notes) runner.notes.set(k, v);
        runner.env = old.env;
        runner.level = old.level;
        runner.y = old.y;
        runner.u = old.u;
        runner.t = old.t;
      }
      this.#runners.push(runner);
      const family = sourceFamily(route.source);
      this.#bySource.set(family, [...(this.#bySource.get(family) ?? []), runner]);
    });
    this.#buildGroups();
  }

  #buildGroups(): void {
    const { layout, directions } = this.#options;
    const groups = new Map<string, Group>();
    const warnings: string[] = [];
    const inactive = (r: Runner, why: string) => warnings.push(`${routeLabel(r.index, r.route.name)}: ${why}; the route is inactive`);
    for (const r of this.#runners) {
      const t = r.route.target;
      if (isDiscreteTarget(t)) continue;
      let values: number[] = [];
      if (t.kind === 'direction' && t.index >= directions) {
        inactive(r, `direction ${t.index} does not exist (the server moves ${directions} directions, 0–${directions - 1})`);
        continue;
      }
      if (t.kind === 'continuous' && layout !== undefined && t.index >= layout.continuous) {
        inactive(r, `continuous code ${t.index} does not exist (the model has ${layout.continuous})`);
        continue;
      }
      if (t.kind === 'category select' || t.kind === 'category crossfade') {
        const count = layout?.categorical[t.code];
        if (layout !== undefined && count === undefined) {
          inactive(r, `categorical code ${t.code} does not exist (the model has ${layout.categorical.length} categorical code(s))`);
          continue;
        }
        if (t.values === undefined && count === undefined) {
          inactive(r, `without the model's layout a category target needs 'values'`);
          continue;
        }
        values = t.values ?? Array.from({ length: count as number }, (_, i) => i);
        const bad = count === undefined ? undefined : values.find((v) => v >= count);
        if (bad !== undefined) {
          inactive(r, `categorical code ${t.code} has values 0–${(count as number) - 1}; there is no value ${bad}`);
          continue;
        }
      }
      // A direction's smoothing is not part of what it drives: routes to it add up whatever each asks.
      const key = JSON.stringify(t.kind === 'direction' ? { kind: t.kind, index: t.index } : t);
      const smoothing = t.kind === 'direction' ? t.smoothing : undefined;
      const g = groups.get(key);
      if (g) g.runners.push(r);
      else groups.set(key, { target: t, runners: [r], values });
      const group = groups.get(key)!;
      if (smoothing !== undefined) group.smoothing = Math.min(group.smoothing ?? Infinity, smoothing);
    }
    // Two groups on one thing (a code both selected and crossfaded, two morph pairs): the later one wins.
    const byCoarse = new Map<string, Group[]>();
    for (const g of groups.values()) {
      const k = targetKey(g.target);
      byCoarse.set(k, [...(byCoarse.get(k) ?? []), g]);
    }
    for (const [k, gs] of byCoarse) {
      if (gs.length < 2) continue;
      const routes = gs.flatMap((g) => g.runners.map((r) => r.index));
      warnings.push(`routes ${routes.join(', ')} drive ${k} in different ways; when several speak, the later in the file wins`);
    }
    this.#groups = [...groups.values()];
    this.#warnings = warnings;
  }

  /**
   * Queues an event for the evaluate whose time reaches it. Returns the time it will be played at: its own,
   * or, when that is at or before the last evaluated time, the next representable time after it. A session
   * log records that time, so a replay plays it in the same evaluate as live did.
   */
  push(event: MappingInput): Seconds {
    if (typeof event.time !== 'number' || !Number.isFinite(event.time)) {
      throw new RhodopsError('BAD_OPTION', `mapping input '${event.type}' has time ${String(event.time)}; it must be a finite number of seconds.`, {
        hint: 'stamp every event with the clock the engine is evaluated on',
      });
    }
    if (this.#pending.length - this.#head >= this.#options.maxPending) {
      throw new RhodopsError('BAD_OPTION', `the mapping engine holds ${this.#options.maxPending} events waiting for their time.`, {
        hint: 'evaluate as time passes, or raise maxPending for a long offline timeline',
      });
    }
    // Too late for the evaluate that has passed its time: played just after it, at the next representable
    // time, so a replay of the logged time plays it in the same evaluate as live did.
    const e = event.time <= this.#time ? { ...event, time: nextUp(this.#time) } : event;
    const last = this.#pending[this.#pending.length - 1];
    if (last !== undefined && this.#pending.length > this.#head && e.time < last.time) this.#sorted = false;
    this.#pending.push(e);
    return e.time;
  }

  /** Plays the events up to t, brings every route to t, and returns the targets there. t never goes back. */
  evaluate(t: Seconds): MappingOutput {
    if (!Number.isFinite(t) || t < this.#time) {
      throw new RhodopsError('BAD_OPTION', `mapping evaluate time ${t} s is before the last one (${this.#time} s) or not finite.`, {
        hint: 'evaluate at non-decreasing times on one clock',
      });
    }
    if (!this.#sorted) {
      // Array.prototype.sort is stable: events with the same time keep their push order.
      this.#pending = this.#pending.slice(this.#head).sort((a, b) => a.time - b.time);
      this.#head = 0;
      this.#sorted = true;
    }
    while (this.#head < this.#pending.length && (this.#pending[this.#head] as MappingInput).time <= t) {
      this.#play(this.#pending[this.#head] as MappingInput);
      this.#head++;
    }
    if (this.#head > 4096 && this.#head * 2 > this.#pending.length) {
      this.#pending = this.#pending.slice(this.#head);
      this.#head = 0;
    }
    this.#clock.advance(t);
    for (const r of this.#bySource.get('lfo') ?? []) this.#stepContinuous(r, t);
    for (const r of this.#runners) if (r.active) this.#advance(r, t);
    this.#time = t;
    const out = this.#collect(t);
    this.#actions = [];
    return out;
  }

  // ─── Routes over time ───────────────────────────────────────────────────────────────────────────────────

  /** The source's own value at t (held, or the LFO's). */
  #sourceValue(r: Runner, t: Seconds): number {
    return r.route.source.kind === 'lfo' ? lfoValue(r.route.source, t, this.#clock) : r.held;
  }

  /** What enters the transform: the envelope when the route has one, else the source's value. */
  #raw(r: Runner, t: Seconds): number {
    return r.envelope !== undefined ? envelopeLevel(r.env, r.envelope, t) : this.#sourceValue(r, t);
  }

  /** Steps the smoother to t with the input as it is (held since the last change, or moving for LFOs/envelopes). */
  #advance(r: Runner, t: Seconds): void {
    const u1 = preSmoothing(this.#raw(r, t), r.route.transform);
    if (Number.isNaN(r.t)) r.y = u1;
    else if (t > r.t) r.y = smoothStep(r.y, r.u, u1, t - r.t, r.route.transform.attack, r.route.transform.release);
    r.u = u1;
    r.t = t;
  }

  /**
   * The source of `r` changes at t: `change` updates it (and returns a trigger strength when it triggered).
   * The smoother is first brought to t with the old input; the new input applies from t on.
   */
  #touch(r: Runner, t: Seconds, change: () => number | undefined): void {
    if (r.active) this.#advance(r, t);
    const strength = change();
    if (strength !== undefined) this.#trigger(r, t, strength);
    const u = preSmoothing(this.#raw(r, t), r.route.transform);
    const tr = r.route.transform;
    if (!r.active) {
      r.active = true;
      r.y = u;
      r.t = t;
    } else if ((u > r.y ? tr.attack : tr.release) === 0) {
      // No smoothing this way: the output jumps with the input (a smoother would only move over time).
      r.y = u;
    }
    r.u = u;
  }

  /** Sets a continuous source's value; a rise through the threshold is a trigger (so is a first value at or above it). */
  #setHeld(r: Runner, t: Seconds, value: number): void {
    this.#touch(r, t, () => {
      const before = r.active ? r.level : 0;
      r.held = value;
      r.level = preSmoothing(value, r.route.transform);
      return before < r.route.transform.threshold && r.level >= r.route.transform.threshold ? 1 : undefined;
    });
  }

  /** LFOs move by themselves: at each evaluate, check for a rise through the threshold, then step. */
  #stepContinuous(r: Runner, t: Seconds): void {
    const level = preSmoothing(lfoValue(r.route.source as Extract<Source, { kind: 'lfo' }>, t, this.#clock), r.route.transform);
    const thr = r.route.transform.threshold;
    const rose = !Number.isNaN(r.t) && r.level < thr && level >= thr;
    r.level = level;
    if (rose) this.#touch(r, t, () => 1);
  }

  #trigger(r: Runner, t: Seconds, strength: number): void {
    const target = r.route.target;
    if (target.kind === 'preset recall') {
      this.#actions.push({ type: 'recall', time: t, route: r.index, ...(target.bank !== undefined ? { bank: target.bank } : {}), name: target.name, crossfade: target.crossfade });
    } else if (target.kind === 'reseed') {
      this.#actions.push({ type: 'reseed', time: t, route: r.index, seed: hash32(this.#mapping.seed, this.#reseeds++), crossfade: target.crossfade });
    } else if (r.envelope !== undefined) {
      r.env = triggerEnvelope(r.env, r.envelope, t, strength);
    }
  }

  // ─── Events ─────────────────────────────────────────────────────────────────────────────────────────────

  #play(e: MappingInput): void {
    const t = e.time;
    switch (e.type) {
      case 'cc':
        for (const r of this.#bySource.get('midi cc') ?? []) if (ccMatches(r.route.source, e)) this.#setHeld(r, t, finite01(e.value, r.held));
        return;
      case 'pitchBend':
        for (const r of this.#bySource.get('midi pitchbend') ?? []) {
          if (channelMatches(r.route.source as Extract<Source, { kind: 'midi pitchbend' }>, e.channel)) this.#setHeld(r, t, finite01((e.value + 1) / 2, r.held));
        }
        return;
      case 'noteOn':
      case 'noteOff': {
        // A note-on with velocity 0 is a note-off (MIDI running-status habit).
        const velocity = e.type === 'noteOn' ? finite01(e.velocity, 1) : 0;
        const on = velocity > 0;
        for (const r of this.#bySource.get('midi note') ?? []) {
          const s = r.route.source as Extract<Source, { kind: 'midi note' }>;
          if (!channelMatches(s, e.channel) || !noteMatches(s, e.note)) continue;
          this.#touch(r, t, () => {
            const key = e.channel * 128 + e.note;
            r.notes.delete(key);
            if (on) r.notes.set(key, velocity);
            if (s.mode === 'pitch') {
              if (on) r.held = notePosition(s, e.note);
            } else {
              // The most recently pressed note still held decides (a legato player's expectation).
              const last = [...r.notes.values()].pop();
              r.held = last === undefined ? 0 : s.mode === 'gate' ? 1 : last;
            }
            return on ? velocity : undefined;
          });
        }
        return;
      }
      case 'clock':
      case 'start':
      case 'stop':
      case 'continue': {
        const pulse = this.#clock.transport(e);
        if (pulse) this.#beat(pulse, t);
        return;
      }
      case 'audio': {
        const pulse = this.#clock.audio(e);
        this.#audio(e);
        if (pulse) this.#beat(pulse, t);
        return;
      }
    }
  }

  #audio(e: AudioFrameInput): void {
    for (const r of this.#bySource.get('audio') ?? []) {
      const s = r.route.source;
      if (s.kind === 'audio onset') {
        this.#touch(r, e.time, () => (e.onset === true ? 1 : undefined));
        continue;
      }
      // 'audio bass' reads features.bass; a feature the frame lacks keeps its last value.
      const v = s.kind === 'audio chroma' ? e.chroma?.[s.bin] : e.features[s.kind.slice('audio '.length) as keyof AudioFrameInput['features']];
      if (typeof v === 'number' && Number.isFinite(v)) this.#setHeld(r, e.time, v);
    }
  }

  #beat(pulse: BeatPulse, t: Seconds): void {
    for (const r of this.#bySource.get('beat') ?? []) {
      if (this.#clock.accepts(r.route.source as Extract<Source, { kind: 'beat' }>, pulse, t)) this.#touch(r, t, () => 1);
    }
  }

  // ─── Output ─────────────────────────────────────────────────────────────────────────────────────────────

  #collect(t: Seconds): MappingOutput {
    const out: MappingOutput = { time: t, directions: {}, directionSmoothing: {}, categories: {}, continuous: {}, camera: {}, actions: this.#actions };
    for (const g of this.#groups) {
      let sum = 0;
      let speaking = false;
      for (const r of g.runners) {
        if (!r.active) continue;
        speaking = true;
        sum += postSmoothing(r.y, r.route.transform);
      }
      if (!speaking) continue;
      const target = g.target;
      switch (target.kind) {
        case 'direction':
          out.directions[target.index] = clamp(sum, -MAX_AMOUNT, MAX_AMOUNT);
          if (g.smoothing !== undefined) out.directionSmoothing[target.index] = g.smoothing;
          break;
        case 'continuous':
          out.continuous[target.index] = clamp(sum, -MAX_AMOUNT, MAX_AMOUNT);
          break;
        case 'truncation':
          out.truncation = clamp(sum, 0, 1);
          break;
        case 'drift heading':
          out.driftHeading = Math.round(clamp(sum, 0, 1) * (DRIFT_HEADINGS - 1));
          break;
        case 'drift speed':
          out.driftSpeed = clamp(sum, 0, MAX_MAPPED_DRIFT);
          break;
        case 'morph':
          out.morph = { from: target.from, to: target.to, t: clamp(sum, 0, 1) };
          break;
        case 'category select': {
          const n = g.values.length;
          out.categories[target.code] = { mode: 'select', value: g.values[Math.min(n - 1, Math.floor(clamp(sum, 0, 1) * n))] as number };
          break;
        }
        case 'category crossfade': {
          const p = clamp(sum, 0, 1) * (g.values.length - 1);
          const i = Math.min(Math.floor(p), g.values.length - 2);
          out.categories[target.code] = { mode: 'crossfade', from: g.values[i] as number, to: g.values[i + 1] as number, t: p - i };
          break;
        }
        case 'camera': {
          const [lo, hi] = cameraRange(target.move);
          out.camera[target.move] = clamp(sum, lo, hi);
          break;
        }
        case 'preset recall':
        case 'reseed':
          break;
      }
    }
    return out;
  }
}

// ─── Matching ─────────────────────────────────────────────────────────────────────────────────────────────

/** Which event stream a source listens to (the engine keeps one list of routes per stream). */
function sourceFamily(s: Source): string {
  if (s.kind.startsWith('audio ')) return 'audio';
  return s.kind;
}

/** Mapping files number channels 1..16; events 0..15. */
function channelMatches(s: { channel: 'any' | number }, channel: number): boolean {
  return s.channel === 'any' || s.channel - 1 === channel;
}

function ccMatches(s: Source, e: CcInput): boolean {
  return s.kind === 'midi cc' && s.controller === e.controller && channelMatches(s, e.channel) && (s.bits === 7 || e.bits === 14);
}

/** Where a note lies in the source's range, 0..1 (a single note: 1; every note: note / 127). */
function notePosition(s: Extract<Source, { kind: 'midi note' }>, note: number): number {
  if (s.range !== undefined) return s.range[1] === s.range[0] ? 1 : (note - s.range[0]) / (s.range[1] - s.range[0]);
  return s.note === undefined ? note / 127 : 1;
}

function noteMatches(s: Extract<Source, { kind: 'midi note' }>, note: number): boolean {
  if (s.note !== undefined) return note === s.note;
  if (s.range !== undefined) return note >= s.range[0] && note <= s.range[1];
  return true;
}

/** The smallest double greater than x (x finite). */
function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  const f = new Float64Array([x]);
  const bits = new BigInt64Array(f.buffer);
  bits[0] = (bits[0] as bigint) + (x > 0 ? 1n : -1n);
  return f[0] as number;
}

/** A finite value clamped to 0..1, or `fallback` for NaN and infinities from a misbehaving device. */
function finite01(v: number, fallback: number): number {
  return Number.isFinite(v) ? clamp(v, 0, 1) : fallback;
}
