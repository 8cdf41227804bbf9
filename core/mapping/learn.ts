/**
 * MIDI learn as a pure state machine: arm a target, then the next MIDI control that moves becomes its source.
 *
 *   let s = learnIdle();
 *   s = arm(s, { kind: 'direction', index: 3 });
 *   for each MIDI input: ({ state: s, mapping, learned } = learnInput(s, mapping, input));
 *
 * "Moves" means: a note-on; a pitch bend away from its centre by more than the threshold; a CC that has gone
 * more than the threshold away from the first value seen since arming (one stray message from a knob that
 * was brushed, or a fader's jitter, does not count), or whose first value is full scale (a button press).
 * Of a 14-bit knob the MSB controller is learned (its route takes the 14-bit values too), never the LSB.
 * The new route replaces every route to the same target (targetKey: both category modes of a code count as
 * one) at the place of the first one, or is appended. Nothing here mutates its arguments; mappings stay
 * plain JSON.
 */
import { RhodopsError } from '../errors.ts';
import { checkRange } from '../options.ts';
import type { MappingInput } from './inputs.ts';
import {
  describeTarget,
  isDiscreteTarget,
  parseRoute,
  TARGET_KINDS,
  targetKey,
  targetSchema,
  type Mapping,
  type Route,
  type RouteInput,
  type Target,
  type TargetInput,
  type TransformInput,
} from './schema.ts';

export interface LearnOptions {
  /** How far (0..1) a CC or pitch bend must move to be learned. 0.04 ≈ 5 steps of a 7-bit knob. */
  threshold: number;
}

export const LEARN_DEFAULTS: LearnOptions = { threshold: 0.04 };

export interface LearnState {
  readonly armed: Target | undefined;
  /** The first value of each CC seen since arming ("channel/controller/bits" → value). */
  readonly baselines: Readonly<Record<string, number>>;
  readonly options: Readonly<LearnOptions>;
}

export interface LearnResult {
  state: LearnState;
  mapping: Mapping;
  /** Present when this input made a route: the route, where it went, and how many routes it replaced. */
  learned?: { route: Route; index: number; replaced: number };
}

export function learnIdle(options: Partial<LearnOptions> = {}): LearnState {
  const o = { ...LEARN_DEFAULTS, ...options };
  checkRange('learn threshold', o.threshold, { min: 0, exclusiveMin: true, max: 1 });
  return { armed: undefined, baselines: {}, options: o };
}

/**
 * Waits for a control to move; arming again re-targets and forgets what was seen. The target is validated
 * (MAPPING_INVALID naming the field) and its defaults filled in.
 */
export function arm(state: LearnState, target: TargetInput): LearnState {
  const parsed = targetSchema.safeParse(target);
  if (!parsed.success) {
    throw new RhodopsError('MAPPING_INVALID', `learn target: ${parsed.error.issues.map((i) => `${['target', ...i.path].join('.')}: ${i.message}`).join('; ')}.`, {
      hint: `a target is { kind: ${TARGET_KINDS.map((k) => `'${k}'`).join(' | ')}, … }`,
    });
  }
  return { ...state, armed: parsed.data, baselines: {} };
}

export function cancel(state: LearnState): LearnState {
  return { ...state, armed: undefined, baselines: {} };
}

/**
 * What a learned route does by default, per target: directions and continuous codes swing ±2 around a
 * knob's middle with a light smoothing (the latent springs smooth again downstream); truncation and drift
 * take the knob's range as it is; category, morph and actions use 0..1. Camera moves rise at once and fall
 * over 0.15 s (a pad flashes), a turn swings ±1 about a knob's middle.
 */
export function defaultTransformFor(target: Target): TransformInput {
  switch (target.kind) {
    case 'direction':
    case 'continuous':
      return { out: [-2, 2], attack: 0.03, release: 0.03 };
    case 'drift speed':
      return { out: [0, 1], attack: 0.05, release: 0.05 };
    case 'category crossfade':
    case 'morph':
    case 'truncation':
      return { attack: 0.03, release: 0.03 };
    case 'camera':
      return target.move === 'rotate' ? { out: [-1, 1], attack: 0.03, release: 0.03 } : { attack: 0.01, release: 0.15 };
    default:
      return {};
  }
}

/** Feeds one input to learn mode. When idle, or when the input does not count as a move, nothing changes. */
export function learnInput(state: LearnState, mapping: Mapping, input: MappingInput): LearnResult {
  const target = state.armed;
  if (target === undefined) return { state, mapping };
  let source: RouteInput['source'] | undefined;
  let label = '';
  let baselines = state.baselines;
  const ch = (c: number) => c + 1;
  switch (input.type) {
    case 'cc': {
      const bits = input.bits ?? 7;
      const key = `${input.channel}/${input.controller}/${bits}`;
      // The LSB half of a 14-bit pair (CC 32–63 after its MSB was seen as 14-bit) jumps about with the
      // slightest turn: never learn it instead of the knob itself.
      if (bits === 7 && input.controller >= 32 && input.controller < 64 && state.baselines[`${input.channel}/${input.controller - 32}/14`] !== undefined) break;
      const first = state.baselines[key];
      if (first === undefined) baselines = { ...state.baselines, [key]: input.value };
      // A first value at full scale is a button press (127): it counts at once, with nothing to compare.
      const moved = first === undefined ? input.value >= 1 : Math.abs(input.value - first) > state.options.threshold;
      if (moved) {
        source = { kind: 'midi cc', channel: ch(input.channel), controller: input.controller, ...(bits === 14 ? { bits: 14 as const } : {}) };
        label = `CC ${input.controller}${bits === 14 ? ' (14-bit)' : ''} ch ${ch(input.channel)}`;
      }
      break;
    }
    case 'noteOn':
      if (input.velocity > 0) {
        source = { kind: 'midi note', channel: ch(input.channel), note: input.note, mode: isDiscreteTarget(target) ? 'gate' : 'velocity' };
        label = `note ${input.note} ch ${ch(input.channel)}`;
      }
      break;
    case 'pitchBend':
      if (Math.abs(input.value) * 0.5 > state.options.threshold) {
        source = { kind: 'midi pitchbend', channel: ch(input.channel) };
        label = `pitch bend ch ${ch(input.channel)}`;
      }
      break;
    default:
      break;
  }
  if (source === undefined) return { state: { ...state, baselines }, mapping };

  const route = parseRoute({ name: `${label} → ${describeTarget(target)}`.slice(0, 128), source, transform: defaultTransformFor(target), target });
  const key = targetKey(target);
  const kept: Route[] = [];
  let index = -1;
  let replaced = 0;
  for (const r of mapping.routes) {
    if (targetKey(r.target) === key) {
      if (index < 0) index = kept.length;
      replaced++;
    } else {
      kept.push(r);
    }
  }
  if (index < 0) index = kept.length;
  kept.splice(index, 0, route);
  return { state: cancel(state), mapping: { ...mapping, routes: kept }, learned: { route, index, replaced } };
}
