/**
 * Option checks with exact messages (as Tone.js and ws): options merge over complete defaults, unknown keys
 * and out-of-range values throw BAD_OPTION naming the option, the valid range and the value given.
 */
import { RhodopsError } from '../errors.ts';

// The range check is shared with the rest of the project (core/options.ts); latent/ and mapping/ import it from here.
export { checkRange, type RangeSpec } from '../options.ts';

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
