/**
 * What the mapping routes to each control, in a few words ("CC 1", "audio bass", "note 36–48"), so the
 * performer sees at a glance which knob or sound moves which slider. Pure (no DOM): the tests run it in Node.
 */
import type { MappingJson } from '../lib/protocol.ts';
import { targetId } from './targets.ts';

type Route = MappingJson['routes'][number];
type Source = Route['source'];

/** A route read loosely: the page takes whatever the server sends and never throws on an odd route. */
interface LooseRoute {
  enabled?: boolean;
  source?: Source;
  target?: { kind: string; index?: number; code?: number; values?: number[] };
}

const noteName = (n: number) => `${['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'][n % 12]}${Math.floor(n / 12) - 1}`;

export function describeSource(s: Source): string {
  const ch = 'channel' in s && typeof s.channel === 'number' ? ` ch${s.channel}` : '';
  switch (s.kind) {
    case 'midi cc':
      return `CC ${s.controller}${s.bits === 14 ? ' (14-bit)' : ''}${ch}`;
    case 'midi note':
      if (s.note !== undefined) return `note ${noteName(s.note)}${ch}`;
      if (s.range) return `notes ${noteName(s.range[0])}–${noteName(s.range[1])}${ch}`;
      return `notes${ch}`;
    case 'midi pitchbend':
      return `pitch bend${ch}`;
    case 'audio chroma':
      return `audio chroma ${s.bin}`;
    case 'lfo':
      return `LFO ${s.rate !== undefined ? `${s.rate} Hz` : `${s.beats ?? '?'} beats`}`;
    case 'beat':
      return s.every && s.every > 1 ? `beat /${s.every}` : 'beat';
    default:
      // 'audio rms', 'audio bass', 'audio onset'…: the kind says it.
      return s.kind;
  }
}

/** Sources by control (targetId), in the mapping's order; disabled routes are left out. */
export function sourcesByTarget(mapping: MappingJson | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of (mapping?.routes ?? []) as LooseRoute[]) {
    if (raw.enabled === false || !raw.source || !raw.target) continue;
    const id = targetId(raw.target);
    let text = describeSource(raw.source);
    // A crossfade route over the whole code (no values) sweeps it; one with two values is a plain crossfader.
    if (raw.target.kind === 'category crossfade') text += raw.target.values ? ` ${raw.target.values.join('→')}` : ' sweep';
    const list = out.get(id) ?? [];
    if (!list.includes(text)) list.push(text);
    out.set(id, list);
  }
  return out;
}
