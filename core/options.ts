/**
 * Option checks with exact messages (as Tone.js and ws): options merge over complete defaults (mergeOptions: an
 * unknown key throws), and range checks give one message, BAD_OPTION "NAME must be an integer from MIN to MAX,
 * got V.", naming the option, the valid range and the value given. checkRange takes values from code (options
 * objects); intOption takes a command-line option's text.
 */
import { RhodopsError } from './errors.ts';

export interface RangeSpec {
  min: number;
  max: number;
  /** The minimum itself is not allowed (e.g. a period must be greater than 0). */
  exclusiveMin?: boolean;
  integer?: boolean;
  /** Shown after the bounds: ' s', ' Hz'. */
  unit?: string;
}

export interface RangeMessage {
  /** Put before the message: 'audio features' gives "audio features: NAME must be …". */
  where?: string;
  /** The error's hint; "pass NAME within that range" when left out. */
  hint?: string;
}

/** "an integer from 1 to 256", "a number greater than 0 s and at most 60 s". */
export function describeRange(r: RangeSpec): string {
  const unit = r.unit ?? '';
  const kind = r.integer ? 'an integer' : 'a number';
  if (r.exclusiveMin) return `${kind} greater than ${r.min}${unit} and at most ${r.max}${unit}`;
  return `${kind} from ${r.min} to ${r.max}${unit}`;
}

/** BAD_OPTION "[where: ]NAME must be <range>, got GOT." (`got` as it should be shown, e.g. quoted text). */
export function rangeError(name: string, range: RangeSpec, got: string, m: RangeMessage = {}): RhodopsError {
  const where = m.where ? `${m.where}: ` : '';
  return new RhodopsError('BAD_OPTION', `${where}${name} must be ${describeRange(range)}, got ${got}.`, {
    hint: m.hint ?? `pass ${name} within that range`,
  });
}

/** `value` if it is a finite number within the range, else BAD_OPTION "name must be … , got …". */
export function checkRange(name: string, value: unknown, range: RangeSpec, m?: RangeMessage): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (range.exclusiveMin ? value > range.min : value >= range.min) &&
    value <= range.max &&
    (!range.integer || Number.isInteger(value));
  if (!ok) throw rangeError(name, range, String(value), m);
  return value as number;
}

/**
 * A command-line option's text (`--threads 4`) as an integer from `min` to `max`, else BAD_OPTION
 * "--threads must be an integer from 1 to 256, got 'x'." Blank text is refused (Number('') is 0).
 */
export function intOption(name: string, text: string, min: number, max: number, m?: RangeMessage): number {
  const n = text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw rangeError(name, { min, max, integer: true }, `'${text}'`, m);
  return n;
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
