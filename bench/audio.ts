/**
 * Audio feature extraction cost as a multiple of real time: seconds of audio analysed per second of CPU
 * (user + system of this process), on a generated music-like signal (a bass line, a chord, noise hats and
 * kick clicks at 120 BPM) pushed in 1024-sample chunks as a live source would.
 */
import { FeatureExtractor } from '../core/audio/features.ts';
import { rng } from '../core/random.ts';

export interface AudioFeaturesBench {
  seconds: number;
  sampleRate: number;
  frames: number;
  cpuSeconds: number;
  /** Seconds of audio per CPU second. */
  realtimeMultiple: number;
  /** CPU microseconds per hop (one frame). */
  microsecondsPerFrame: number;
}

function testSignal(seconds: number, rate: number): Float32Array {
  const x = new Float32Array(Math.round(seconds * rate));
  const r = rng(7);
  const chord = [261.63, 329.63, 392.0];
  for (let i = 0; i < x.length; i++) {
    const t = i / rate;
    const beat = t * 2; // 120 BPM
    const inBeat = beat - Math.floor(beat);
    const bass = 0.25 * Math.sin(2 * Math.PI * (Math.floor(beat) % 4 < 2 ? 55 : 73.42) * t);
    let pad = 0;
    for (const f of chord) pad += 0.06 * Math.sin(2 * Math.PI * f * t);
    const kick = 0.6 * Math.exp(-inBeat * 40) * Math.sin(2 * Math.PI * 60 * inBeat * 0.5);
    const hat = (2 * r() - 1) * 0.08 * Math.exp(-((beat * 2) % 1) * 30);
    x[i] = bass + pad + kick + hat;
  }
  return x;
}

export function benchAudioFeatures(seconds = 30, sampleRate = 44100): AudioFeaturesBench {
  const signal = testSignal(seconds, sampleRate);
  // Warm up the JIT on a separate extractor so the measured one starts from a clean state.
  const warm = new FeatureExtractor({ sampleRate });
  for (let i = 0; i < Math.min(signal.length, 5 * sampleRate); i += 1024) warm.push(signal.subarray(i, i + 1024));

  const x = new FeatureExtractor({ sampleRate });
  let frames = 0;
  const start = process.cpuUsage();
  for (let i = 0; i < signal.length; i += 1024) frames += x.push(signal.subarray(i, i + 1024)).length;
  const used = process.cpuUsage(start);
  const cpuSeconds = (used.user + used.system) / 1e6;
  return {
    seconds,
    sampleRate,
    frames,
    cpuSeconds,
    realtimeMultiple: seconds / cpuSeconds,
    microsecondsPerFrame: (cpuSeconds * 1e6) / frames,
  };
}
