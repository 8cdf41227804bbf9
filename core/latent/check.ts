/**
 * Option checks with exact messages (as Tone.js and ws): options merge over complete defaults, unknown keys
 * and out-of-range values throw BAD_OPTION naming the option, the valid range and the value given.
 */
import { RhodopsError } from '../errors.ts';

export interface RangeSpec {
  min: number;
  max: number;
  /** The minimum itself is not allowed (e.g. a period must be greater than 0). */
  exclusiveMin?: boolean;
  integer?: boolean;
  /** Shown after the bounds: ' s', ' Hz'. */
  unit?: string;
}

function describeRange(r: RangeSpec): string {
  const unit = r.unit ?? '';
  const kind = r.integer ? 'an integer' : 'a number';
  if (r.exclusiveMin) return `${kind} greater than ${r.min}${unit} and at most ${r.max}${unit}`;
  return `${kind} from ${r.min} to ${r.max}${unit}`;
}

/** `value` if it is a finite number within the range, else BAD_OPTION "name must be … , got …". */
export function checkRange(name: string, value: unknown, range: RangeSpec): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (range.exclusiveMin ? value > range.min : value >= range.min) &&
    value <= range.max &&
    (!range.integer || Number.isInteger(value));
  if (!ok) {
    throw new RhodopsError('BAD_OPTION', `${name} must be ${describeRange(range)}, got ${String(value)}.`, {
      hint: `pass ${name} within that range`,
    });
  }
  return value as number;
}

/**
 * `given` over `defaults`; an undefined value keeps its default, an unknown key throws. `what` names the
 * owner in messages ("spring options").
 */
export function mergeOptions<T extends object>(what: string, defaults: T, given: Partial<T> | undefined): T {
  const out = { ...defaults };
  if (given === undefined) return out;
  if (typeof given !== 'object' || given === null) {
    throw new RhodopsError('BAD_OPTION', `${what} must be an object, got ${String(given)}.`, { hint: 'pass an options object' });
  }
  const known = Object.keys(defaults);
  for (const [key, value] of Object.entries(given)) {
    if (!known.includes(key)) {
      throw new RhodopsError('BAD_OPTION', `Unknown option '${key}' in ${what}.`, { hint: `valid options: ${known.join(', ')}` });
    }
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}
