/**
 * Audio features per hop, from mono float PCM pushed in chunks of any size.
 *
 * Pure: the frames are a function of the sample stream alone (no wall clock, no randomness), so the
 * live server and the offline renderer get identical frames from identical audio, however it was
 * chunked. Frame k is centred on sample k·hop (the first frames see zeros before the stream starts),
 * its `time` is k·hop / sampleRate, and it comes out once the window around it is complete: live,
 * frame k is available windowSize/2 samples after its time (11.6 ms at the defaults).
 *
 * Per frame: rms, loudness, spectral centroid (Hz), spectral flux, 12-bin chroma (Meyda's rms,
 * loudness, spectralCentroid and chroma on our spectrum), bass/mid/treble energies, the energies of the
 * percussive and harmonic parts (hpss.ts: kicks drive one, chords the other), onset, tempo and beat phase, and
 * every scalar also normalised to 0..1 by automatic gain (see normalize.ts).
 */
import { rng } from '../random.ts';
import { MagnitudeSpectrum } from './fft.ts';
import { meydaFeatures, meydaTables } from './meyda.ts';
import { PeakNormalizer, RangeNormalizer } from './normalize.ts';
import { HarmonicPercussive } from './hpss.ts';
import { OnsetDetector } from './onsets.ts';
import { resolveFeatureOptions, type FeatureOptions, type FeatureOptionsInput, type Hertz, type Seconds } from './options.ts';
import { TempoTracker } from './tempo.ts';

/** Seconds of chroma the dominant pitch class is taken over. */
export const PITCH_AVERAGE_S = 0.5;
/** The novelty curve compares the last NOVELTY_RECENT_S with the NOVELTY_PAST_S before. */
export const NOVELTY_RECENT_S = 2;
export const NOVELTY_PAST_S = 4;

/** Running means of a descriptor over two adjacent windows of hops, and how unlike they are (0 until both are full). */
class NoveltyCurve {
  private readonly ring: Float64Array[];
  private readonly recentSum: Float64Array;
  private readonly pastSum: Float64Array;
  private count = 0;

  constructor(
    private readonly recent: number,
    past: number,
  ) {
    this.ring = Array.from({ length: recent + past }, () => new Float64Array(15));
    this.recentSum = new Float64Array(15);
    this.pastSum = new Float64Array(15);
  }

  update(d: number[]): number {
    const len = this.ring.length;
    const slot = this.count % len;
    // The descriptor leaving the recent window joins the past one; the one leaving the past window goes.
    if (this.count >= this.recent) {
      const moving = this.ring[(this.count - this.recent) % len]!;
      for (let i = 0; i < 15; i++) {
        this.recentSum[i]! -= moving[i]!;
        this.pastSum[i]! += moving[i]!;
      }
    }
    if (this.count >= len) {
      const leaving = this.ring[slot]!;
      for (let i = 0; i < 15; i++) this.pastSum[i]! -= leaving[i]!;
    }
    const row = this.ring[slot]!;
    for (let i = 0; i < 15; i++) {
      row[i] = d[i]!;
      this.recentSum[i]! += d[i]!;
    }
    this.count++;
    if (this.count < len) return 0;
    const r = Array.from(this.recentSum, (v) => v / this.recent);
    const p = Array.from(this.pastSum, (v) => v / (len - this.recent));
    // Tonal: the chroma means, centred (chroma is smeared over every bin; its shape is what tells keys apart).
    const centre = (c: number[]) => {
      const m = c.reduce((x, y) => x + y, 0) / c.length;
      return c.map((v) => v - m);
    };
    const rc = centre(r.slice(0, 12));
    const pc = centre(p.slice(0, 12));
    let dot = 0;
    let a2 = 0;
    let b2 = 0;
    for (let i = 0; i < 12; i++) {
      dot += rc[i]! * pc[i]!;
      a2 += rc[i]! ** 2;
      b2 += pc[i]! ** 2;
    }
    const tonal = a2 < 1e-9 || b2 < 1e-9 ? 0 : (1 - dot / Math.sqrt(a2 * b2)) / 2;
    // Energy: how much the bass, mid and treble levels moved.
    const energy = (Math.abs(r[12]! - p[12]!) + Math.abs(r[13]! - p[13]!) + Math.abs(r[14]! - p[14]!)) / 3;
    return Math.max(tonal, energy);
  }
}

/** The features that have a 0..1 value in `FeatureFrame.normalized`: the names a mapping can route from. */
export const NORMALIZED_FEATURES = ['rms', 'loudness', 'centroid', 'flux', 'bass', 'mid', 'treble', 'percussive', 'harmonic', 'pitch', 'novelty', 'tempo', 'beatPhase'] as const;
export type NormalizedFeature = (typeof NORMALIZED_FEATURES)[number];

export interface FeatureFrame {
  /** Hop number, from 0. */
  index: number;
  /** index · hop / sampleRate: the centre of the analysis window, in stream time. */
  time: Seconds;
  /** Root mean square of the window's samples (a full-scale sine reads 0.707). */
  rms: number;
  /** Meyda's total loudness (sum of 24 bark bands, each compressed by ^0.23); its scale depends on windowSize. */
  loudness: number;
  /** Spectral centroid; 0 for digital silence. */
  centroid: Hertz;
  /** Half-wave rectified increase of the magnitude spectrum since the previous hop, in amplitude units (a sine appearing from silence reads about twice its amplitude). */
  flux: number;
  /** 12 pitch classes, C first (C, C#, D, … B), the strongest at 1; all 0 below the level floor. */
  chroma: number[];
  /** RMS amplitude in the bass, mid and treble bands (options.bands; same units as rms). */
  bass: number;
  mid: number;
  treble: number;
  /** RMS amplitude of the percussive and the harmonic part of the spectrum (same units as rms; they add up in power). */
  percussive: number;
  harmonic: number;
  /**
   * The pitch class that has dominated the last half second (0 = C … 11 = B; from chroma averaged over
   * PITCH_AVERAGE_S, so it changes with the harmony, not with each note), or -1 before anything was heard.
   * Held through silence. Normalised: pitch class / 11.
   */
  pitchClass: number;
  /**
   * How unlike the last NOVELTY_RECENT_S of music is to the NOVELTY_PAST_S before it, 0..1: the larger of a
   * tonal change (1 − cosine of their centred mean chroma, halved) and an energy change (the mean move of the
   * bass, mid and treble levels). Near 0 while a section goes on, rising when a new one begins. Normalised: ÷ 0.3.
   */
  novelty: number;
  /** A note or hit starts on this hop. */
  onset: boolean;
  /** Beats per minute; 0 while unknown. */
  tempo: number;
  /** 0..1: how periodic the recent onsets are. */
  tempoConfidence: number;
  /** 0 on the beat, rising to 1 before the next; 0 while the tempo is unknown. */
  beatPhase: number;
  /** The beat phase wrapped on this hop. */
  beat: boolean;
  /** Every scalar in 0..1: levels by automatic gain (0 at and below the floor), centroid by a running range, tempo as (bpm − minBpm)/(maxBpm − minBpm). */
  normalized: Record<NormalizedFeature, number>;
}

/** What a feature reads for background at a reference level (see measureReference). */
interface Reference {
  rms: number;
  loudness: number;
  flux: number;
  band: number;
}

interface BinRange {
  from: number;
  to: number;
}

export class FeatureExtractor {
  readonly options: Readonly<FeatureOptions>;
  /** Seconds between frames. */
  readonly hopSeconds: Seconds;

  private readonly window: Float32Array;
  private fill: number;
  private index = 0;
  private readonly spectrum: MagnitudeSpectrum;
  private readonly prevMag: Float32Array;
  private readonly barkScale: Float32Array;
  /** Meyda's chroma filter bank, flattened: 12 rows of size/2 weights. */
  private readonly chromaBank: Float32Array;
  private readonly fluxScale: number;
  private readonly bandScale: number;
  private readonly bandBins: { bass: BinRange; mid: BinRange; treble: BinRange };
  private readonly floors: Reference;
  private readonly norm: Record<'rms' | 'loudness' | 'flux' | 'bass' | 'mid' | 'treble' | 'percussive' | 'harmonic', PeakNormalizer>;
  private readonly hpss: HarmonicPercussive;
  private readonly chromaAverage = new Float64Array(12);
  private readonly chromaDecay: number;
  private pitchClass = -1;
  private readonly novelty: NoveltyCurve;
  private readonly centroidNorm: RangeNormalizer;
  private readonly onsets: OnsetDetector;
  private readonly tempo: TempoTracker;

  constructor(options: FeatureOptionsInput = {}) {
    const o = resolveFeatureOptions(options);
    this.options = o;
    const n = o.windowSize;
    const rate = o.sampleRate;
    this.hopSeconds = o.hopSize / rate;
    const tables = meydaTables(n, rate);
    this.spectrum = new MagnitudeSpectrum(tables.window);
    this.barkScale = tables.barkScale;
    this.chromaBank = new Float32Array(12 * (n / 2));
    tables.chromaFilterBank.forEach((row, c) => {
      for (let k = 0; k < n / 2; k++) this.chromaBank[c * (n / 2) + k] = row[k] ?? 0;
    });
    this.window = new Float32Array(n);
    this.fill = n / 2;
    this.prevMag = new Float32Array(n / 2);

    let wSum = 0;
    let w2Sum = 0;
    for (const w of tables.window) {
      wSum += w;
      w2Sum += w * w;
    }
    // A sine of amplitude A peaks at A·Σw/2 in |X|: scaled by 2/Σw, flux is in amplitude units.
    this.fluxScale = 2 / wSum;
    // Parseval over the positive half: mean square = 2·Σ|X|² / (N·Σw²).
    this.bandScale = 2 / (n * w2Sum);
    const bins = (b: readonly [number, number]): BinRange => ({
      from: Math.min(n / 2, Math.ceil((b[0] * n) / rate)),
      to: Math.min(n / 2, Math.ceil((b[1] * n) / rate)),
    });
    this.bandBins = { bass: bins(o.bands.bass), mid: bins(o.bands.mid), treble: bins(o.bands.treble) };

    // Floors: the features of background at floorDb; the range never narrows below the same 12 dB louder.
    const floorLevel = Math.pow(10, o.floorDb / 20);
    this.floors = this.measureReference(floorLevel);
    const tops = this.measureReference(4 * floorLevel);
    const hopsPerSecond = rate / o.hopSize;
    const release = o.releaseS * hopsPerSecond;
    const peak = (key: keyof Reference) => new PeakNormalizer(this.floors[key], tops[key], release);
    this.norm = { rms: peak('rms'), loudness: peak('loudness'), flux: peak('flux'), bass: peak('band'), mid: peak('band'), treble: peak('band'), percussive: peak('band'), harmonic: peak('band') };
    this.hpss = new HarmonicPercussive(n / 2);
    this.chromaDecay = Math.exp(-o.hopSize / rate / PITCH_AVERAGE_S);
    this.novelty = new NoveltyCurve(Math.round(NOVELTY_RECENT_S * hopsPerSecond), Math.round(NOVELTY_PAST_S * hopsPerSecond));
    // Centroid on a log2 scale; a steady tone sits mid-range with a 2-octave minimum span.
    this.centroidNorm = new RangeNormalizer(release, 2);
    this.onsets = new OnsetDetector({
      windowHops: Math.max(3, Math.round(o.onset.windowS * hopsPerSecond)),
      medianFactor: o.onset.medianFactor,
      margin: o.onset.margin,
      refractoryHops: Math.round(o.onset.refractoryS * hopsPerSecond),
      minFlux: 2 * this.floors.flux,
    });
    this.tempo = new TempoTracker({
      hopsPerSecond,
      windowHops: Math.round(o.tempo.windowS * hopsPerSecond),
      minHistoryHops: Math.round(o.tempo.minHistoryS * hopsPerSecond),
      updateHops: o.tempo.updateHops,
      minBpm: o.tempo.minBpm,
      maxBpm: o.tempo.maxBpm,
      preferredBpm: o.tempo.preferredBpm,
    });
  }

  get sampleRate(): Hertz {
    return this.options.sampleRate;
  }

  /** Frames made so far (the next frame's index). */
  get frameCount(): number {
    return this.index;
  }

  /**
   * Feeds samples (any count, any chunking); returns the frames completed, in order. Non-finite samples
   * count as 0, so one bad value cannot poison the running normalisers.
   */
  push(samples: Float32Array | Float64Array): FeatureFrame[] {
    const out: FeatureFrame[] = [];
    const n = this.options.windowSize;
    const hop = this.options.hopSize;
    const buf = this.window;
    let i = 0;
    while (i < samples.length) {
      const take = Math.min(n - this.fill, samples.length - i);
      for (let j = 0; j < take; j++) {
        const v = samples[i + j]!;
        buf[this.fill + j] = Number.isFinite(v) ? v : 0;
      }
      this.fill += take;
      i += take;
      if (this.fill === n) {
        out.push(this.analyse());
        buf.copyWithin(0, hop);
        this.fill = n - hop;
      }
    }
    return out;
  }

  /** At the end of a stream: pads half a window of zeros so the frames up to the last sample come out. */
  flush(): FeatureFrame[] {
    return this.push(new Float32Array(this.options.windowSize / 2));
  }

  private analyse(): FeatureFrame {
    const o = this.options;
    const index = this.index++;
    const rms = meydaFeatures.rms({ signal: this.window });
    const mag = this.spectrum.compute(this.window);

    let flux = 0;
    for (let k = 0; k < mag.length; k++) {
      const d = mag[k]! - this.prevMag[k]!;
      if (d > 0) flux += d;
    }
    flux *= this.fluxScale;
    this.prevMag.set(mag);

    const centroidBins = meydaFeatures.spectralCentroid({ ampSpectrum: mag });
    const centroid = Number.isFinite(centroidBins) ? (centroidBins * o.sampleRate) / o.windowSize : 0;
    const loudness = meydaFeatures.loudness({ ampSpectrum: mag, barkScale: this.barkScale }).total;
    // At or below the floor level nothing is amplified: normalised values and chroma read 0.
    const silent = rms <= this.floors.rms;
    const chroma = silent ? new Array<number>(12).fill(0) : this.chroma(mag);
    const bass = this.bandLevel(mag, this.bandBins.bass);
    const mid = this.bandLevel(mag, this.bandBins.mid);
    const treble = this.bandLevel(mag, this.bandBins.treble);
    if (!silent) {
      let best = 0;
      for (let c = 0; c < 12; c++) {
        this.chromaAverage[c] = this.chromaAverage[c]! * this.chromaDecay + chroma[c]! * (1 - this.chromaDecay);
        if (this.chromaAverage[c]! > this.chromaAverage[best]!) best = c;
      }
      this.pitchClass = best;
    }
    const parts = this.hpss.split(mag);
    const percussive = Math.sqrt(parts.percussivePower * this.bandScale);
    const harmonic = Math.sqrt(parts.harmonicPower * this.bandScale);

    // The normalisers advance on every hop (silent or not) so their decay depends on the stream only.
    const gate = silent ? 0 : 1;
    const nFlux = this.norm.flux.update(flux) * gate;
    const onset = this.onsets.update(flux, this.norm.flux.level) && !silent;
    const beat = this.tempo.update(index, nFlux);
    const { minBpm, maxBpm } = o.tempo;
    const nBass = this.norm.bass.update(bass) * gate;
    const nMid = this.norm.mid.update(mid) * gate;
    const nTreble = this.norm.treble.update(treble) * gate;
    const novelty = this.novelty.update([...chroma, nBass, nMid, nTreble]);
    return {
      index,
      time: (index * o.hopSize) / o.sampleRate,
      rms,
      loudness,
      centroid,
      flux,
      chroma,
      bass,
      mid,
      treble,
      percussive,
      harmonic,
      pitchClass: this.pitchClass,
      novelty,
      onset,
      tempo: beat.bpm,
      tempoConfidence: beat.confidence,
      beatPhase: beat.phase,
      beat: beat.beat,
      normalized: {
        rms: this.norm.rms.update(rms) * gate,
        loudness: this.norm.loudness.update(loudness) * gate,
        centroid: this.centroidNorm.update(centroid > 0 ? Math.log2(centroid) : 0, silent || centroid <= 0),
        flux: nFlux,
        bass: nBass,
        mid: nMid,
        treble: nTreble,
        percussive: this.norm.percussive.update(percussive) * gate,
        harmonic: this.norm.harmonic.update(harmonic) * gate,
        pitch: Math.max(0, this.pitchClass) / 11,
        novelty: Math.min(1, novelty / 0.3),
        tempo: beat.bpm > 0 ? Math.min(1, Math.max(0, (beat.bpm - minBpm) / (maxBpm - minBpm))) * gate : 0,
        beatPhase: beat.phase * gate,
      },
    };
  }

  /**
   * Meyda's `chroma` (filter bank × spectrum, then divided by the largest bin) over typed arrays: the
   * same numbers (checked in the tests) at a quarter of the cost, since Meyda's runs a closure per bin.
   */
  private chroma(mag: Float32Array): number[] {
    const bins = mag.length;
    const out = new Array<number>(12);
    let max = 0;
    for (let c = 0; c < 12; c++) {
      let s = 0;
      const row = c * bins;
      for (let k = 0; k < bins; k++) s += mag[k]! * this.chromaBank[row + k]!;
      out[c] = s;
      if (s > max) max = s;
    }
    if (max > 0) for (let c = 0; c < 12; c++) out[c] = out[c]! / max;
    return out;
  }

  private bandLevel(mag: Float32Array, r: BinRange): number {
    let s = 0;
    for (let k = r.from; k < r.to; k++) s += mag[k]! * mag[k]!;
    return Math.sqrt(s * this.bandScale);
  }

  /**
   * What the level features read for background at `level` (RMS), from two synthetic signals: white
   * noise (seeded, so every extractor measures the same) and a 1 kHz tone. rms and band levels are the
   * level itself; flux takes the larger of the two (noise flickers more than a tone appears); loudness
   * takes the tone's, because Meyda's loudness compresses each bark band by ^0.23, so spreading the
   * same power over all bands (noise) reads 4× louder than a tone, and a noise floor would mute every
   * tonal sound. Runs at construction on scratch buffers; the stream's state is untouched.
   */
  private measureReference(level: number): Reference {
    const n = this.options.windowSize;
    const hop = this.options.hopSize;
    const rate = this.options.sampleRate;
    const frames = 8;
    const noise = new Float32Array(n + frames * hop);
    const r = rng(0x5eed);
    const a = level * Math.sqrt(3); // uniform on [−a, a] has RMS a/√3
    for (let i = 0; i < noise.length; i++) noise[i] = (2 * r() - 1) * a;
    const prev = new Float32Array(n / 2);
    let noiseFlux = 0;
    for (let f = 0; f <= frames; f++) {
      const mag = this.spectrum.compute(noise.subarray(f * hop, f * hop + n));
      if (f > 0) {
        let s = 0;
        for (let k = 0; k < mag.length; k++) s += Math.max(0, mag[k]! - prev[k]!);
        noiseFlux += (s * this.fluxScale) / frames;
      }
      prev.set(mag);
    }
    const tone = new Float32Array(n);
    for (let i = 0; i < n; i++) tone[i] = level * Math.SQRT2 * Math.sin((2 * Math.PI * 1000 * i) / rate);
    const mag = this.spectrum.compute(tone);
    let toneFlux = 0;
    for (let k = 0; k < mag.length; k++) toneFlux += mag[k]!;
    toneFlux *= this.fluxScale;
    const toneLoudness = meydaFeatures.loudness({ ampSpectrum: mag, barkScale: this.barkScale }).total;
    return { rms: level, band: level, flux: Math.max(noiseFlux, toneFlux), loudness: toneLoudness };
  }
}

/** All frames of a whole signal at once (offline use): push then flush. */
export function extractFeatures(samples: Float32Array, options: FeatureOptionsInput = {}): FeatureFrame[] {
  const x = new FeatureExtractor(options);
  return [...x.push(samples), ...x.flush()];
}
