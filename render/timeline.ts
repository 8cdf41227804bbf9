/**
 * A render's timeline: presets at times, each reached by a cut or a morph ("0:00 A, 0:32 morph to B over 4 s"),
 * as text on the command line or JSON in a file; times optionally snapped to the song's beats.
 */
import { promises as fs } from 'node:fs';
import { z } from 'zod';
import { describeZodError } from '../core/checkpoint/manifest.ts';
import { RhodopsError } from '../core/errors.ts';

/** "1:02.5", "62.5", "62.5s", "1:00:00" → seconds. */
export function parseTime(s: string | number): number {
  if (typeof s === 'number') return s;
  const m = /^\s*(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d+)?)\s*s?\s*$/.exec(s);
  if (!m) throw new RhodopsError('TIMELINE_INVALID', `'${s}' is not a time`, { hint: 'write times as 0:32, 1:02.5 or 45s' });
  const parts = [m[1], m[2], m[3]].filter((p): p is string => p !== undefined).map(Number);
  return parts.reduce((acc, p) => acc * 60 + p, 0);
}

const eventSchema = z.object({
  at: z.union([z.number().min(0), z.string()]),
  preset: z.string().min(1),
  bank: z.string().optional(),
  /** Seconds to morph (slerp) into the preset; 0 = a cut. */
  morph: z.number().min(0).max(600).default(0),
});

export const timelineSchema = z.object({
  /** Move each event to the nearest detected beat (within half a second). */
  snapToBeats: z.boolean().default(false),
  events: z.array(eventSchema).min(1),
});

export interface TimelineEvent {
  at: number;
  preset: string;
  bank?: string;
  morph: number;
}
export interface Timeline {
  snapToBeats: boolean;
  events: TimelineEvent[];
}

function sorted(t: Timeline): Timeline {
  return { ...t, events: [...t.events].sort((a, b) => a.at - b.at) };
}

/** "0:00 A, 0:32 morph to B over 4 s, 1:10 C" (a preset named by `bank/name` or `name`). */
export function parseTimelineText(text: string): Timeline {
  const events = text
    .split(/[,;\n]/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((part): TimelineEvent => {
      const m = /^(\S+)\s+(?:(?:morph|fade)\s+(?:to\s+)?(.+?)\s+over\s+(\d+(?:\.\d+)?)\s*s?|(?:cut\s+(?:to\s+)?)?(.+))$/i.exec(part);
      if (!m) throw new RhodopsError('TIMELINE_INVALID', `timeline entry '${part}' is not 'TIME PRESET' or 'TIME morph to PRESET over N s'`);
      const name = (m[2] ?? m[4])!.trim();
      const [bank, preset] = name.includes('/') ? [name.slice(0, name.indexOf('/')), name.slice(name.indexOf('/') + 1)] : [undefined, name];
      return { at: parseTime(m[1]!), preset, ...(bank ? { bank } : {}), morph: m[3] ? Number(m[3]) : 0 };
    });
  if (events.length === 0) throw new RhodopsError('TIMELINE_INVALID', 'the timeline is empty', { hint: "e.g. --timeline '0:00 A, 0:32 morph to B over 4 s'" });
  return sorted({ snapToBeats: false, events });
}

/** A timeline file (JSON), or the text form given inline. */
export async function loadTimeline(arg: string): Promise<Timeline> {
  if (!arg.trim().endsWith('.json')) return parseTimelineText(arg);
  const text = await fs.readFile(arg, 'utf8').catch((e: unknown) => {
    throw new RhodopsError('TIMELINE_INVALID', `cannot read timeline ${arg}: ${(e as Error).message}`);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RhodopsError('TIMELINE_INVALID', `${arg} is not JSON: ${(e as Error).message}`);
  }
  const r = timelineSchema.safeParse(json);
  if (!r.success) throw new RhodopsError('TIMELINE_INVALID', `${arg}: ${describeZodError(r.error)}`, { hint: 'format: {"snapToBeats": true, "events": [{"at": "0:32", "preset": "B", "morph": 4}]}' });
  return sorted({ snapToBeats: r.data.snapToBeats, events: r.data.events.map((e) => ({ ...e, at: parseTime(e.at) })) });
}

/** Each event moved to the nearest beat within `window` seconds (an event with none near stays). */
export function snapToBeats(t: Timeline, beats: readonly number[], window = 0.5): Timeline {
  if (!t.snapToBeats || beats.length === 0) return t;
  return sorted({
    ...t,
    events: t.events.map((e) => {
      let best = e.at;
      let bestD = window;
      for (const b of beats) {
        const d = Math.abs(b - e.at);
        if (d <= bestD) [best, bestD] = [b, d];
      }
      return { ...e, at: best };
    }),
  });
}
