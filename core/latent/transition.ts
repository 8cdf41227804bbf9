/**
 * A transition: the state slerps from `from` to `to` over `duration` seconds starting at `start`, along an
 * easing curve. A pure function of time: the server asks for the state at each tick's time.
 */
import { checkRange, mergeOptions } from '../options.ts';
import { easing, type EasingName } from './easing.ts';
import { slerp } from './ops.ts';
import { checkSameLayout, cloneState, type LatentState } from './state.ts';
import type { NormalRange, Seconds } from './units.ts';

export interface TransitionOptions {
  /** When the transition starts (on the caller's clock). */
  start: Seconds;
  /** How long it lasts; 0 jumps to the target at `start`. */
  duration: Seconds;
  easing: EasingName;
}

export const TRANSITION_DEFAULTS: TransitionOptions = { start: 0, duration: 1, easing: 'smoothstep' };
/** The longest transition allowed (a day): longer is almost surely a unit mistake (ms for s). */
export const MAX_TRANSITION: Seconds = 86400;

export interface Transition extends TransitionOptions {
  readonly from: LatentState;
  readonly to: LatentState;
}

export function transition(from: LatentState, to: LatentState, options?: Partial<TransitionOptions>): Transition {
  const o = mergeOptions('transition options', TRANSITION_DEFAULTS, options);
  checkSameLayout(from, to, 'transition');
  checkRange('transition start', o.start, { min: -1e12, max: 1e12, unit: ' s' });
  checkRange('transition duration', o.duration, { min: 0, max: MAX_TRANSITION, unit: ' s' });
  easing(o.easing);
  return { ...o, from: cloneState(from), to: cloneState(to) };
}

/** How far along the transition is at `time`: 0 before it starts, 1 once it is done (before easing). */
export function transitionProgress(tr: Transition, time: Seconds): NormalRange {
  if (time <= tr.start) return tr.duration === 0 && time === tr.start ? 1 : 0;
  if (tr.duration === 0) return 1;
  return Math.min(1, (time - tr.start) / tr.duration);
}

export function transitionDone(tr: Transition, time: Seconds): boolean {
  return transitionProgress(tr, time) >= 1;
}

/** The state at `time`: `from` before the start, `to` after the end, an eased slerp between. */
export function transitionAt(tr: Transition, time: Seconds): LatentState {
  return slerp(tr.from, tr.to, easing(tr.easing)(transitionProgress(tr, time)));
}
