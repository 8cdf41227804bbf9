// The built-in reactions on generated music, through the offline performance (the instrument on a video
// clock): pulses land on their hit, chords turn the motion, silence rests, and presets and cuts land on their
// frame. Latents only: the measures are of the latent's motion, which the calibration turns into pixels.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { extractFeatures, type FeatureFrame } from '../core/audio/index.ts';
import { randomState, stateToJson, toVector } from '../core/latent/index.ts';
import { setLogLevel } from '../core/log.ts';
import { BUILT_IN_MAPPINGS, DEFAULT_MAPPING } from '../core/mapping/defaults.ts';
import { HarmonicPercussive } from '../core/audio/hpss.ts';
import { OfflinePerformance } from '../render/performance.ts';

const RATE = 44100;
const FPS = 30;
const LAYOUT = { size: 64, noise: 64, categorical: [], continuous: 0, distribution: 'normal' as const };

/** Samples of `seconds` from f(t). */
function signal(seconds: number, f: (t: number) => number): Float32Array {
  const out = new Float32Array(Math.round(seconds * RATE));
  for (let i = 0; i < out.length; i++) out[i] = f(i / RATE);
  return out;
}

/** A kick: a pitch-dropping sine burst at each beat of `bpm`. */
const kick = (bpm: number) => (t: number) => {
  const k = t % (60 / bpm);
  return 0.9 * Math.sin(2 * Math.PI * (50 + 120 * Math.exp(-k * 30)) * t) * Math.exp(-k * 12);
};
const chord = (freqs: number[]) => (t: number) => freqs.reduce((s, f) => s + 0.2 * Math.sin(2 * Math.PI * f * t), 0);

function latents(features: FeatureFrame[], seconds: number, o: { mapping?: keyof typeof BUILT_IN_MAPPINGS; start?: ReturnType<typeof stateToJson>; timeline?: { at: number; preset: string; morph: number }[]; presets?: Map<string, ReturnType<typeof stateToJson>> } = {}): Float32Array[] {
  const perf = new OfflinePerformance({
    layout: LAYOUT,
    seed: 3,
    fps: FPS,
    mapping: o.mapping ? BUILT_IN_MAPPINGS[o.mapping]!() : DEFAULT_MAPPING,
    features,
    timeline: o.timeline ? { snapToBeats: false, events: o.timeline } : null,
    presets: o.presets ?? new Map(),
    ...(o.start ? { start: o.start } : {}),
  });
  return Array.from({ length: Math.round(seconds * FPS) }, () => Float32Array.from(perf.next()));
}

const distance = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0));
/** Latent motion into each frame (0 for the first). */
const motion = (z: Float32Array[]) => z.map((v, i) => (i === 0 ? 0 : distance(v, z[i - 1]!)));

describe('reactions', () => {
  before(() => setLogLevel('silent'));

  it('separates a kick from a chord: the percussive energy is the kick\'s, the harmonic the chord\'s', () => {
    const split = (x: Float32Array) => {
      const f = extractFeatures(x, { sampleRate: RATE });
      const mean = (k: 'percussive' | 'harmonic') => f.reduce((s, v) => s + v[k], 0) / f.length;
      return { p: mean('percussive'), h: mean('harmonic') };
    };
    const k = split(signal(4, kick(120)));
    const c = split(signal(4, chord([261.6, 329.6, 392])));
    assert.ok(k.p > 2 * k.h, `kick: percussive ${k.p.toFixed(4)}, harmonic ${k.h.toFixed(4)}`);
    assert.ok(c.h > 10 * c.p, `chord: percussive ${c.p.toFixed(4)}, harmonic ${c.h.toFixed(4)}`);
    // The split conserves power.
    const mag = new Float32Array(64).map((_, i) => Math.abs(Math.sin(i)));
    const parts = new HarmonicPercussive(64).split(mag);
    const total = mag.reduce((s, v) => s + v * v, 0);
    assert.ok(Math.abs(parts.harmonicPower + parts.percussivePower - total) < 1e-3 * total);
  });

  it('a kick track: the pulse lands on the kick frame (± 1) and stands out 10:1 from between the kicks', () => {
    const z = latents(extractFeatures(signal(8, kick(120)), { sampleRate: RATE }), 8, { mapping: 'pulse' });
    const m = motion(z);
    // Kicks every 0.5 s = every 15 frames, from frame 0; skip the first two seconds (the automatic gain settles).
    const profile = new Array<number>(15).fill(0);
    for (let i = 60; i < m.length; i++) profile[i % 15]! += m[i]!;
    const peakAt = profile.indexOf(Math.max(...profile));
    const trough = Math.min(...profile);
    assert.ok(peakAt <= 1 || peakAt === 14, `the motion peaks ${peakAt} frames after the kick: ${profile.map((v) => v.toFixed(2)).join(' ')}`);
    assert.ok(Math.max(...profile) >= 10 * trough, `peak ${Math.max(...profile).toFixed(3)} against ${trough.toFixed(3)} between kicks`);
  });

  it('the default mapping rests in silence and moves whenever the music has energy', () => {
    const song = signal(6, (t) => (t < 2 ? 0 : kick(120)(t) + chord([220, 277.2, 329.6])(t)));
    const m = motion(latents(extractFeatures(song, { sampleRate: RATE }), 6));
    const silent = m.slice(1, 55);
    assert.ok(silent.every((v) => v === 0), `still in silence: ${Math.max(...silent)}`);
    for (let s = 3; s < 6; s++) {
      const second = m.slice(s * FPS, (s + 1) * FPS);
      assert.ok(second.filter((v) => v > 1e-3).length >= FPS * 0.8, `second ${s}: the latent moves in most frames`);
    }
  });

  it('a chord change turns the motion: its direction after the change is unlike before, while one chord keeps it', () => {
    // C major, then D major: no pitch in common, so the harmony's root moves from C to D.
    const song = signal(8, (t) => (t < 4 ? chord([261.6, 329.6, 392]) : chord([293.7, 370, 440]))(t));
    const z = latents(extractFeatures(song, { sampleRate: RATE }), 8, { mapping: 'harmony' });
    /** The mean direction of motion over frames [a, b). */
    const heading = (a: number, b: number) => {
      const d = z[b]!.map((v, i) => v - z[a]![i]!);
      const n = Math.sqrt(d.reduce((s, v) => s + v * v, 0));
      return d.map((v) => v / n);
    };
    const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);
    const settled = cos(heading(75, 90), heading(90, 105)); // within the first chord
    const across = cos(heading(105, 120), heading(135, 150)); // either side of the change at frame 120
    assert.ok(across < settled - 0.3, `heading similarity within a chord ${settled.toFixed(2)}, across the change ${across.toFixed(2)}`);
  });

  it('sections: the novelty curve stays low while a section goes on and rises when a new one begins; the picture glides to a new region', () => {
    const song = signal(12, (t) => (t < 8 ? kick(120)(t) + chord([261.6, 329.6, 392])(t) : chord([293.7, 370, 440])(t) + 0.05 * Math.sin(2 * Math.PI * 5000 * t) * (t % 0.25 < 0.02 ? 1 : 0)));
    const features = extractFeatures(song, { sampleRate: RATE });
    const max = (a: number, b: number) => Math.max(...features.filter((f) => f.time >= a && f.time < b).map((f) => f.normalized.novelty));
    assert.ok(max(6, 8) < 0.5, `within the first section: ${max(6, 8).toFixed(2)}`);
    assert.ok(max(8, 11) > 0.5, `after the change at 8 s: ${max(8, 11).toFixed(2)}`);
    // With the sections reaction and without it, the same walk until the new section; then another region.
    const withSections = latents(features, 12, { mapping: 'sections' });
    const without = latents(features, 12, { mapping: 'motion' });
    assert.equal(distance(withSections[8 * FPS]!, without[8 * FPS]!), 0, 'the same until the change');
    const apart = distance(withSections[12 * FPS - 1]!, without[12 * FPS - 1]!);
    const norm = Math.sqrt(without[12 * FPS - 1]!.reduce((t, v) => t + v * v, 0));
    assert.ok(apart > 0.5 * norm, `a new region after the change: ${apart.toFixed(2)} apart (the latent's norm ${norm.toFixed(2)})`);
  });

  it('a render starts on its preset, and a timeline cut lands on its frame', () => {
    const start = stateToJson(randomState(LAYOUT, 21));
    const drop = stateToJson(randomState(LAYOUT, 22));
    const vec = (s: typeof start) => toVector(LAYOUT, { noise: Float32Array.from(s.noise), categorical: [], continuous: new Float32Array(0) });
    const silence = extractFeatures(signal(2, () => 0), { sampleRate: RATE });
    const z = latents(silence, 2, { start, timeline: [{ at: 1, preset: 'drop', morph: 0 }], presets: new Map([['default/drop', drop]]) });
    assert.deepEqual(Array.from(z[0]!), Array.from(vec(start)), 'frame 0 is the preset');
    assert.notDeepEqual(Array.from(z[29]!), Array.from(vec(drop)));
    assert.deepEqual(Array.from(z[30]!), Array.from(vec(drop)), 'the cut at 1 s is frame 30, whole');
  });
});
