/** The feature extractor on signals made here: sweeps, clicks, tones, silence, steps. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractFeatures, FeatureExtractor, NORMALIZED_FEATURES, type FeatureFrame } from '../core/audio/features.ts';
import { FeatureTimeline, mergeFrames } from '../core/audio/frames.ts';
import { meydaExtract } from '../core/audio/meyda.ts';
import { rng } from '../core/random.ts';
import { throwsWith } from './helpers/assert.ts';

const RATE = 44100;
const HOP = 512;
const HOP_S = HOP / RATE;

function tone(freq: number, seconds: number, amp = 0.5): Float32Array {
  const x = new Float32Array(Math.round(seconds * RATE));
  for (let i = 0; i < x.length; i++) x[i] = amp * Math.sin((2 * Math.PI * freq * i) / RATE);
  return x;
}

/** Exponential sweep f0 → f1; also returns the instantaneous frequency at a time. */
function sweep(f0: number, f1: number, seconds: number): { x: Float32Array; freqAt: (t: number) => number } {
  const x = new Float32Array(Math.round(seconds * RATE));
  const k = Math.log(f1 / f0) / seconds;
  for (let i = 0; i < x.length; i++) {
    const t = i / RATE;
    x[i] = 0.5 * Math.sin(((2 * Math.PI * f0) / k) * (Math.exp(k * t) - 1));
  }
  return { x, freqAt: (t) => f0 * Math.exp(k * t) };
}

/** Short decaying clicks at `bpm`, the first at `offset` s; returns the click times. */
function clicks(bpm: number, seconds: number, offset = 0.25): { x: Float32Array; times: number[] } {
  const x = new Float32Array(Math.round(seconds * RATE));
  const times: number[] = [];
  for (let t = offset; t < seconds - 0.01; t += 60 / bpm) {
    const i = Math.round(t * RATE);
    times.push(i / RATE);
    for (let j = 0; j < 300 && i + j < x.length; j++) x[i + j] = 0.8 * Math.exp(-j / 40) * (j % 2 ? -1 : 1);
  }
  return { x, times };
}

const at = (frames: FeatureFrame[], t: number): FeatureFrame => frames[Math.round(t / HOP_S)]!;

describe('audio features', () => {
  it('frames come one per hop, centred on the hop: time = index · hop / rate', () => {
    const frames = extractFeatures(tone(440, 1));
    assert.ok(Math.abs(frames.length - Math.floor(RATE / HOP) - 1) <= 1, `about one frame per hop over 1 s, got ${frames.length}`);
    frames.forEach((f, i) => {
      assert.equal(f.index, i);
      assert.ok(Math.abs(f.time - (i * HOP) / RATE) < 1e-12, `frame ${i} time ${f.time}`);
    });
  });

  it('a sine sweep gives a rising centroid near the sweep frequency', () => {
    const { x, freqAt } = sweep(200, 5000, 3);
    const frames = extractFeatures(x).filter((f) => f.time > 0.05 && f.time < 2.95);
    for (let i = 1; i < frames.length; i++) {
      assert.ok(frames[i]!.centroid >= frames[i - 1]!.centroid * 0.99, `centroid falls at ${frames[i]!.time.toFixed(3)} s: ${frames[i - 1]!.centroid.toFixed(1)} → ${frames[i]!.centroid.toFixed(1)} Hz`);
    }
    for (const f of frames) {
      const want = freqAt(f.time);
      assert.ok(Math.abs(f.centroid - want) / want < 0.12, `centroid ${f.centroid.toFixed(0)} Hz at ${f.time.toFixed(2)} s, sweep at ${want.toFixed(0)} Hz`);
    }
    const n = frames.map((f) => f.normalized.centroid);
    assert.ok(n[n.length - 1]! > n[0]! + 0.3, `normalised centroid rises: ${n[0]} → ${n[n.length - 1]}`);
  });

  it('clicks at 120 BPM: an onset within one hop of each click, none elsewhere, and a tempo of 120 ± 2', () => {
    const { x, times } = clicks(120, 10);
    const frames = extractFeatures(x);
    const onsets = frames.filter((f) => f.onset).map((f) => f.time);
    assert.equal(onsets.length, times.length, `one onset per click: ${onsets.length} onsets for ${times.length} clicks`);
    onsets.forEach((t, i) => assert.ok(Math.abs(t - times[i]!) <= HOP_S, `onset ${i} at ${t.toFixed(4)} s, click at ${times[i]!.toFixed(4)} s`));
    const late = frames.filter((f) => f.time > 5);
    for (const f of late) assert.ok(Math.abs(f.tempo - 120) <= 2, `tempo ${f.tempo.toFixed(2)} BPM at ${f.time.toFixed(2)} s`);
    assert.ok(late.every((f) => f.tempoConfidence > 0.5), 'a click track is clearly periodic');
    // Beat ticks land on the clicks too.
    const beats = late.filter((f) => f.beat).map((f) => f.time);
    assert.ok(beats.length >= 8, `beats ticked: ${beats.length}`);
    for (const b of beats) {
      const nearest = Math.min(...times.map((t) => Math.abs(t - b)));
      assert.ok(nearest <= 2 * HOP_S, `beat at ${b.toFixed(3)} s is ${(nearest * 1000).toFixed(1)} ms from a click`);
    }
    assert.equal(frames.find((f) => f.time < 2)?.tempo, 0, 'no tempo before enough history');
  });

  it('the tempo follows other rates in range without octave errors (90 and 150 BPM)', () => {
    for (const bpm of [90, 150]) {
      const frames = extractFeatures(clicks(bpm, 9).x);
      const last = frames[frames.length - 1]!;
      assert.ok(Math.abs(last.tempo - bpm) <= 2, `${bpm} BPM clicks read ${last.tempo.toFixed(2)} BPM`);
    }
  });

  it('silence gives rms 0, no onsets, no tempo, and every normalised value 0', () => {
    const frames = extractFeatures(new Float32Array(RATE * 4));
    for (const f of frames) {
      assert.equal(f.rms, 0, `rms at ${f.time}`);
      assert.equal(f.onset, false, `onset at ${f.time}`);
      assert.equal(f.beat, false, `beat at ${f.time}`);
      assert.equal(f.tempo, 0, `tempo at ${f.time}`);
      assert.equal(f.centroid, 0, `centroid at ${f.time}`);
      assert.ok(f.chroma.every((c) => c === 0), `chroma at ${f.time}`);
      for (const k of NORMALIZED_FEATURES) assert.equal(f.normalized[k], 0, `normalized.${k} at ${f.time}`);
    }
  });

  it('quiet noise under the floor (−70 dBFS) is not amplified after loud music stops', () => {
    const loud = tone(220, 1, 0.5);
    const r = rng(1);
    const hiss = new Float32Array(RATE * 3).map(() => (2 * r() - 1) * 0.0003 * Math.sqrt(3)); // RMS 0.0003
    const x = new Float32Array(loud.length + hiss.length);
    x.set(loud);
    x.set(hiss, loud.length);
    const frames = extractFeatures(x, { releaseS: 0.5 }).filter((f) => f.time > 1.2 && f.time < 3.9);
    for (const f of frames) {
      // The pitch class is held through silence (the harmony's root does not jump to C); every level is 0.
      for (const k of NORMALIZED_FEATURES) if (k !== 'pitch') assert.equal(f.normalized[k], 0, `normalized.${k} = ${f.normalized[k]} at ${f.time.toFixed(2)} s`);
      assert.equal(f.normalized.pitch, 9 / 11, 'the tone before (A) is held');
      assert.equal(f.onset, false, `no onsets in the hiss (${f.time.toFixed(2)} s)`);
    }
  });

  it('automatic gain: the same music at −20 dB and at 0 dB gives nearly the same normalised values', () => {
    const { x } = clicks(120, 4);
    const bed = tone(330, 4, 0.2);
    // Tremolo so the normalised level moves.
    const mix = x.map((v, i) => v + bed[i]! * (0.6 + 0.4 * Math.sin((2 * Math.PI * 1.5 * i) / RATE)));
    // −20 dB puts this mix around −35 dBFS, 25 dB over the default floor (−60), which still shifts values a little.
    const quiet = mix.map((v) => v * 0.1);
    const a = extractFeatures(mix).filter((f) => f.time > 2);
    const b = extractFeatures(quiet).filter((f) => f.time > 2);
    for (const k of ['rms', 'mid', 'flux'] as const) {
      const diff = Math.max(...a.map((f, i) => Math.abs(f.normalized[k] - b[i]!.normalized[k])));
      assert.ok(diff < 0.08, `normalized.${k} differs by up to ${diff.toFixed(3)} between levels`);
    }
    assert.deepEqual(
      a.map((f) => f.onset),
      b.map((f) => f.onset),
      'the same onsets at both levels',
    );
  });

  it('a pure 440 Hz tone puts chroma\'s maximum on A', () => {
    const f = at(extractFeatures(tone(440, 1)), 0.5);
    const max = f.chroma.indexOf(Math.max(...f.chroma));
    assert.equal(max, 9, `chroma peaks at bin ${max} (C=0 … A=9): ${f.chroma.map((c) => c.toFixed(2)).join(' ')}`);
    assert.equal(f.chroma[9], 1, 'the strongest bin reads 1');
  });

  it('a low tone lands in the bass band, a high one in treble', () => {
    const low = at(extractFeatures(tone(80, 1)), 0.5);
    const high = at(extractFeatures(tone(8000, 1)), 0.5);
    assert.ok(low.bass > 10 * low.mid && low.bass > 100 * low.treble, `80 Hz: bass ${low.bass}, mid ${low.mid}, treble ${low.treble}`);
    assert.ok(high.treble > 100 * high.mid && high.treble > 100 * high.bass, `8 kHz: bass ${high.bass}, mid ${high.mid}, treble ${high.treble}`);
    // Band levels are RMS amplitudes: a 0.5 sine has RMS 0.354.
    assert.ok(Math.abs(high.treble - 0.5 / Math.SQRT2) < 0.01, `treble level ${high.treble} for a 0.5-amplitude 8 kHz sine`);
    assert.ok(Math.abs(high.rms - 0.5 / Math.SQRT2) < 0.01, `rms ${high.rms}`);
  });

  it('flux spikes at a step change and stays small around it', () => {
    const x = tone(440, 2, 0.05);
    for (let i = RATE; i < x.length; i++) x[i] = x[i]! * 10; // 0.05 → 0.5 at 1.000 s
    const frames = extractFeatures(x).filter((f) => f.time > 0.1 && f.time < 1.9);
    const peak = frames.reduce((a, b) => (b.flux > a.flux ? b : a));
    assert.ok(Math.abs(peak.time - 1) <= HOP_S, `flux peaks at ${peak.time.toFixed(4)} s, step at 1 s`);
    const away = frames.filter((f) => Math.abs(f.time - 1) > 2 * HOP_S);
    const maxAway = Math.max(...away.map((f) => f.flux));
    assert.ok(peak.flux > 20 * maxAway, `flux ${peak.flux.toFixed(4)} at the step vs ≤ ${maxAway.toFixed(5)} elsewhere`);
    assert.ok(peak.onset || frames.some((f) => f.onset && Math.abs(f.time - 1) <= HOP_S), 'the step is an onset');
  });

  it('is deterministic: the same samples in different chunk sizes give identical frames', () => {
    const { x } = clicks(128, 5);
    const r = rng(9);
    const signal = x.map((v, i) => v + 0.2 * Math.sin((2 * Math.PI * 220 * i) / RATE) + 0.05 * (2 * r() - 1));
    const run = (chunk: number | 'random') => {
      const fx = new FeatureExtractor();
      const out: FeatureFrame[] = [];
      const sizes = rng(3);
      for (let i = 0; i < signal.length; ) {
        const n = chunk === 'random' ? 1 + Math.floor(sizes() * 3000) : chunk;
        out.push(...fx.push(signal.subarray(i, i + n)));
        i += n;
      }
      out.push(...fx.flush());
      return out;
    };
    const whole = run(signal.length);
    assert.ok(whole.length > 400, `frames: ${whole.length}`);
    for (const chunk of [1, 37, 512, 4096, 'random'] as const) assert.deepEqual(run(chunk), whole, `chunks of ${chunk} give the same frames`);
    assert.deepEqual(extractFeatures(signal), whole, 'extractFeatures = push + flush');
  });

  it('agrees with Meyda\'s own extract on the same window (spectrum, loudness, centroid, chroma)', () => {
    const r = rng(4);
    const x = tone(523.25, 1, 0.3).map((v, i) => v + 0.1 * Math.sin((2 * Math.PI * 1400 * i) / RATE) + 0.02 * (2 * r() - 1));
    const k = 40; // frame k is centred on sample k·hop: window [k·hop − 512, k·hop + 512)
    const frame = extractFeatures(x)[k]!;
    const window = x.slice(k * HOP - 512, k * HOP + 512);
    const m = meydaExtract(['rms', 'loudness', 'spectralCentroid', 'chroma'], window, RATE) as {
      rms: number;
      loudness: { total: number };
      spectralCentroid: number;
      chroma: number[];
    };
    const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)), `${what}: ours ${a}, Meyda ${b}`);
    close(frame.loudness, m.loudness.total, 'loudness');
    close(frame.centroid, (m.spectralCentroid * RATE) / 1024, 'centroid (Hz)');
    m.chroma.forEach((c, i) => close(frame.chroma[i]!, c, `chroma[${i}]`));
    // Meyda's rms is of the windowed signal; ours is of the raw window (a sine's reads amplitude/√2).
    const raw = Math.sqrt(window.reduce((s, v) => s + v * v, 0) / window.length);
    close(frame.rms, raw, 'rms of the raw window');
  });

  it('rejects bad options with a message naming the option and the range', () => {
    throwsWith(() => new FeatureExtractor({ windowSize: 1000 }), 'BAD_OPTION', 'windowSize', 'power of two');
    throwsWith(() => new FeatureExtractor({ hopSize: 4096 }), 'BAD_OPTION', 'hopSize', '1024');
    throwsWith(() => new FeatureExtractor({ sampleRate: 1000 }), 'BAD_OPTION', 'sampleRate', '8000');
    throwsWith(() => new FeatureExtractor({ bands: { bass: [300, 100] } }), 'BAD_OPTION', 'bands.bass');
    throwsWith(() => new FeatureExtractor({ tempo: { minBpm: 100, maxBpm: 90 } }), 'BAD_OPTION', 'tempo.maxBpm');
  });

  it('works at other rates and window sizes (48 kHz, 2048/1024)', () => {
    const x = new Float32Array(48000);
    for (let i = 0; i < x.length; i++) x[i] = 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 48000);
    const frames = extractFeatures(x, { sampleRate: 48000, windowSize: 2048, hopSize: 1024 });
    const f = frames[20]!;
    assert.ok(Math.abs(f.time - (20 * 1024) / 48000) < 1e-12, `time ${f.time}`);
    assert.ok(Math.abs(f.centroid - 1000) < 30, `centroid ${f.centroid} Hz for a 1 kHz tone`);
    assert.ok(f.mid > 0.3, `1 kHz is mid: ${f.mid}`);
  });
});

describe('feature frames per tick', () => {
  const { x } = clicks(120, 3);
  const frames = extractFeatures(x);

  it('mergeFrames keeps the newest values but never drops an onset or a flux spike', () => {
    const i = frames.findIndex((f) => f.onset);
    const group = frames.slice(i, i + 3);
    const m = mergeFrames(group)!;
    assert.equal(m.index, group[2]!.index, 'the newest frame');
    assert.equal(m.onset, true, 'the onset inside the tick survives');
    assert.equal(m.flux, Math.max(...group.map((f) => f.flux)), 'the largest flux');
    assert.equal(mergeFrames([]), null, 'no frames, no value');
  });

  it('FeatureTimeline.between gives each video frame the hops since the previous one', () => {
    const tl = new FeatureTimeline(frames);
    const fps = 30;
    let onsets = 0;
    for (let v = 1; v <= 3 * fps; v++) {
      const f = tl.between((v - 1) / fps, v / fps);
      assert.ok(f && f.time <= v / fps, `video frame ${v}`);
      if (f.onset) onsets++;
    }
    assert.equal(onsets, frames.filter((f) => f.onset && f.time <= 3).length, 'every onset reaches exactly one video frame');
    assert.equal(tl.at(-1), null, 'nothing before the first frame');
  });
});
