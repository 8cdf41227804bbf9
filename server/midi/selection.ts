/**
 * Which inputs `serve --midi NAME|INDEX|all` plays from. Names match any part of a port's name, ignoring case,
 * because system port names carry client numbers and suffixes ("nanoKONTROL2:nanoKONTROL2 MIDI 1 20:0").
 */
import { RhodopsError } from '../../core/errors.ts';

/** `none`: no system port is opened (Web MIDI forwarded by browsers still plays). */
export type MidiSelection = { kind: 'none' } | { kind: 'all' } | { kind: 'index'; index: number } | { kind: 'name'; text: string };

export function parseMidiSelection(value: string): MidiSelection {
  const text = value.trim();
  if (text.length === 0) {
    throw new RhodopsError('BAD_OPTION', '--midi needs a port: a name (any part of it), an index, `all`, or `none`.', { hint: '`rhodops midi list` shows the ports.' });
  }
  if (text.toLowerCase() === 'all') return { kind: 'all' };
  if (text.toLowerCase() === 'none') return { kind: 'none' };
  if (/^\d+$/.test(text)) {
    const index = Number(text);
    if (index > 1023) throw new RhodopsError('BAD_OPTION', `--midi ${text}: no system has that many MIDI ports.`, { hint: '`rhodops midi list` shows the indexes.' });
    return { kind: 'index', index };
  }
  return { kind: 'name', text };
}

export function describeSelection(s: MidiSelection): string {
  return s.kind === 'none' ? 'none' : s.kind === 'all' ? 'all' : s.kind === 'index' ? `input ${s.index}` : `'${s.text}'`;
}

/** Indexes of the inputs a name or `all` selects. (An index is resolved to a name once by the manager.) */
export function matchInputs(s: MidiSelection, names: readonly string[]): number[] {
  const out: number[] = [];
  names.forEach((name, i) => {
    if (s.kind === 'all' || (s.kind === 'index' && i === s.index) || (s.kind === 'name' && name.toLowerCase().includes(s.text.toLowerCase()))) out.push(i);
  });
  return out;
}

/**
 * Distinct keys for port names: two identical controllers show up under the same name on some systems;
 * the second becomes "NAME #2", the third "NAME #3", in list order.
 */
export function portKeys(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : `${name} #${n}`;
  });
}
