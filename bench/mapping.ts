/**
 * Mapping cost per evaluate: a 32-route mapping (knobs, notes, audio features with smoothing, envelopes,
 * chroma, LFOs, beats) fed a realistic stream (audio frames at 86 a second, a MIDI clock, a few knob moves)
 * and evaluated at 60 frames a second. The time per evaluate includes playing the events that arrived since
 * the previous one, as in the live loop.
 */
import { chromaRoutes } from '../core/mapping/directions.ts';
import { MappingEngine } from '../core/mapping/engine.ts';
import type { MappingInput } from '../core/mapping/inputs.ts';
import { parseMapping, type RouteInput } from '../core/mapping/schema.ts';
import { rng } from '../core/random.ts';

export interface MappingBench {
  routes: number;
  evaluates: number;
  events: number;
  /** Median over runs of the mean time per evaluate. */
  microsecondsPerEvaluate: number;
  /** The same, as a share of a 60 fps frame. */
  shareOfFrameAt60: number;
}

function benchRoutes(): RouteInput[] {
  const knobs: RouteInput[] = Array.from({ length: 8 }, (_, i) => ({
    source: { kind: 'midi cc', controller: i + 1 },
    transform: { out: [-2, 2], attack: 0.03, release: 0.03 },
    target: { kind: 'direction', index: i },
  }));
  const audio: RouteInput[] = (['bass', 'mid', 'treble', 'rms', 'centroid', 'flux'] as const).map((f, i) => ({
    source: { kind: `audio ${f}` },
    transform: { out: [0, 1], attack: 0.02, release: 0.3, curve: 's-curve' },
    target: { kind: 'direction', index: i % 8 },
  }));
  const rest: RouteInput[] = [
    { source: { kind: 'audio onset' }, transform: { envelope: { decay: 0.2 } }, target: { kind: 'direction', index: 1 } },
    { source: { kind: 'beat' }, transform: { envelope: { decay: 0.3 } }, target: { kind: 'direction', index: 3 } },
    { source: { kind: 'lfo', rate: 0.25 }, transform: { out: [-1, 1], attack: 0.1, release: 0.1 }, target: { kind: 'direction', index: 4 } },
    { source: { kind: 'lfo', beats: 4, shape: 'triangle' }, target: { kind: 'truncation' } },
    { source: { kind: 'midi note', range: [36, 84], mode: 'pitch' }, target: { kind: 'category select', code: 0 } },
    { source: { kind: 'midi cc', controller: 20 }, transform: { quantize: 8 }, target: { kind: 'drift speed' } },
  ];
  const chroma = chromaRoutes({ firstDirection: 0 }).map((r, i) => ({ ...r, target: { kind: 'direction' as const, index: i % 8 } }));
  return [...knobs, ...audio, ...rest, ...chroma];
}

/** The input stream for `seconds`: audio frames at 86 Hz, MIDI clock at 120 BPM, a knob move every 50 ms. */
function benchTimeline(seconds: number): MappingInput[] {
  const r = rng(7);
  const events: MappingInput[] = [];
  for (let i = 0; i < seconds * 86; i++) {
    const t = i / 86;
    events.push({
      type: 'audio',
      time: t,
      features: { rms: r(), loudness: r(), centroid: r(), flux: r(), bass: r(), mid: r(), treble: r() },
      chroma: Array.from({ length: 12 }, () => r()),
      onset: r() < 0.1,
      beatPhase: (t * 2) % 1,
      tempo: 120,
    });
  }
  for (let i = 0; i < seconds * 48; i++) events.push({ type: 'clock', time: i / 48 });
  for (let i = 0; i < seconds * 20; i++) events.push({ type: 'cc', time: i / 20, channel: 0, controller: 1 + (i % 8), value: r() });
  for (let i = 0; i < seconds * 2; i++) events.push({ type: 'noteOn', time: i / 2, channel: 0, note: 36 + ((i * 7) % 48), velocity: 0.8 });
  return events.sort((a, b) => a.time - b.time);
}

export function benchMapping(options: { seconds?: number; runs?: number } = {}): MappingBench {
  const seconds = options.seconds ?? 20;
  const runs = options.runs ?? 5;
  const mapping = parseMapping({ version: 1, name: 'bench', routes: benchRoutes() }, 'the bench mapping');
  const timeline = benchTimeline(seconds);
  const fps = 60;
  const frames = seconds * fps;
  const perRun: number[] = [];
  for (let run = 0; run < runs + 1; run++) {
    const engine = new MappingEngine(mapping, { layout: { noise: 512, categorical: [10], continuous: 0 } });
    let next = 0;
    const t0 = performance.now();
    for (let f = 0; f < frames; f++) {
      const t = f / fps;
      while (next < timeline.length && (timeline[next] as MappingInput).time <= t) engine.push(timeline[next++] as MappingInput);
      engine.evaluate(t);
    }
    // The first run warms the JIT up and is not counted.
    if (run > 0) perRun.push(((performance.now() - t0) * 1000) / frames);
  }
  perRun.sort((a, b) => a - b);
  const us = perRun[perRun.length >> 1] as number;
  return { routes: mapping.routes.length, evaluates: frames, events: timeline.length, microsecondsPerEvaluate: us, shareOfFrameAt60: us / (1e6 / 60) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const b = benchMapping();
  process.stdout.write(`mapping: ${b.routes} routes, ${b.events} events over ${b.evaluates} evaluates: ${b.microsecondsPerEvaluate.toFixed(1)} µs per evaluate (${(b.shareOfFrameAt60 * 100).toFixed(3)}% of a 60 fps frame)\n`);
}
