/** Easing curves for transitions: [0, 1] → [0, 1] with ease(0) = 0 and ease(1) = 1. Names are data. */
import { RhodopsError } from '../errors.ts';
import type { NormalRange } from './units.ts';

export const EASINGS = {
  linear: (u: number) => u,
  /** 3u² − 2u³: zero speed at both ends. */
  smoothstep: (u: number) => u * u * (3 - 2 * u),
  /** 6u⁵ − 15u⁴ + 10u³: zero speed and acceleration at both ends. */
  smootherstep: (u: number) => u * u * u * (u * (6 * u - 15) + 10),
  'sine-in-out': (u: number) => 0.5 - 0.5 * Math.cos(Math.PI * u),
  'cubic-in': (u: number) => u * u * u,
  'cubic-out': (u: number) => 1 - (1 - u) ** 3,
  'cubic-in-out': (u: number) => (u < 0.5 ? 4 * u * u * u : 1 - (-2 * u + 2) ** 3 / 2),
} satisfies Record<string, (u: NormalRange) => NormalRange>;

export type EasingName = keyof typeof EASINGS;
export const EASING_NAMES = Object.keys(EASINGS) as EasingName[];

export function isEasingName(name: unknown): name is EasingName {
  return typeof name === 'string' && (EASING_NAMES as string[]).includes(name);
}

/** The curve named `name`; BAD_OPTION listing the valid names otherwise. */
export function easing(name: EasingName): (u: NormalRange) => NormalRange {
  if (!isEasingName(name)) {
    throw new RhodopsError('BAD_OPTION', `Unknown easing '${String(name)}'.`, { hint: `use one of: ${EASING_NAMES.join(', ')}` });
  }
  return EASINGS[name];
}
