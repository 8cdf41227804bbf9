/** Options of the feature extractor: complete defaults, merged over by the caller, range-checked with exact messages. */
import { RhodopsError } from '../errors.ts';
import { checkRange } from '../options.ts';

export type Seconds = number;
export type Hertz = number;
/** [low, high) in Hz. */
export type Band = readonly [Hertz, Hertz];

export interface FeatureOptions {
  /** Sample rate of the PCM pushed in. */
  sampleRate: Hertz;
  /** Analysis window, samples (a power of two). Each frame is centred on its hop's sample. */
  windowSize: number;
  /** Samples between frames: one frame per hop. */
  hopSize: number;
  /** Band edges for the bass/mid/treble energies. */
  bands: { bass: Band; mid: Band; treble: Band };
  /** Level (dBFS) that normalises to 0: silence and background noise below it never get amplified. */
  floorDb: number;
  /** Automatic gain release: the running peak falls by a factor e in this time. */
  releaseS: Seconds;
  onset: {
    /** The median of the flux over this much past audio sets the threshold's base. */
    windowS: Seconds;
    /** Threshold = median × medianFactor + margin × running flux peak. */
    medianFactor: number;
    margin: number;
    /** No second onset within this time. */
    refractoryS: Seconds;
  };
  tempo: {
    /** Onset envelope analysed for the tempo. */
    windowS: Seconds;
    /** No estimate before this much audio. */
    minHistoryS: Seconds;
    /** Re-estimate every this many hops (between estimates the phase just advances). */
    updateHops: number;
    minBpm: number;
    maxBpm: number;
    /** Octave choice: among equally periodic candidates, the one nearest this tempo (log scale) wins. */
    preferredBpm: number;
  };
}

/** A partial FeatureOptions: nested groups may be given in part. */
export type FeatureOptionsInput = Partial<Omit<FeatureOptions, 'bands' | 'onset' | 'tempo'>> & {
  bands?: Partial<FeatureOptions['bands']>;
  onset?: Partial<FeatureOptions['onset']>;
  tempo?: Partial<FeatureOptions['tempo']>;
};

export function defaultFeatureOptions(): FeatureOptions {
  return {
    sampleRate: 44100,
    windowSize: 1024,
    hopSize: 512,
    bands: { bass: [20, 250], mid: [250, 4000], treble: [4000, 16000] },
    floorDb: -60,
    releaseS: 8,
    onset: { windowS: 0.5, medianFactor: 1.5, margin: 0.1, refractoryS: 0.1 },
    tempo: { windowS: 8, minHistoryS: 3, updateHops: 8, minBpm: 60, maxBpm: 200, preferredBpm: 120 },
  };
}

/** Where every message starts, and what it suggests. */
const MESSAGE = { where: 'audio features', hint: 'Leave the option out to use its default (see core/audio/options.ts).' };

function bad(message: string): RhodopsError {
  return new RhodopsError('BAD_OPTION', `${MESSAGE.where}: ${message}`, { hint: MESSAGE.hint });
}

function num(name: string, v: unknown, min: number, max: number, integer = false): number {
  return checkRange(name, v, { min, max, integer }, MESSAGE);
}

/** Merges `input` over the defaults and checks every value; throws BAD_OPTION naming the first bad one. */
export function resolveFeatureOptions(input: FeatureOptionsInput = {}): FeatureOptions {
  const d = defaultFeatureOptions();
  const o: FeatureOptions = {
    ...d,
    ...input,
    bands: { ...d.bands, ...input.bands },
    onset: { ...d.onset, ...input.onset },
    tempo: { ...d.tempo, ...input.tempo },
  };
  num('sampleRate', o.sampleRate, 8000, 192000, true);
  num('windowSize', o.windowSize, 256, 8192, true);
  if ((o.windowSize & (o.windowSize - 1)) !== 0) throw bad(`windowSize must be a power of two (256 … 8192), got ${o.windowSize}.`);
  num('hopSize', o.hopSize, 32, o.windowSize, true);
  const nyquist = o.sampleRate / 2;
  for (const name of ['bass', 'mid', 'treble'] as const) {
    const b = o.bands[name];
    if (!Array.isArray(b) || b.length !== 2) throw bad(`bands.${name} must be [lowHz, highHz], got ${JSON.stringify(b)}.`);
    num(`bands.${name}[0]`, b[0], 0, nyquist);
    num(`bands.${name}[1]`, b[1], 0, 1e6);
    if (!(b[1] > b[0])) throw bad(`bands.${name} must have high > low, got [${b[0]}, ${b[1]}].`);
  }
  num('floorDb', o.floorDb, -120, -10);
  num('releaseS', o.releaseS, 0.1, 600);
  num('onset.windowS', o.onset.windowS, 0.05, 10);
  num('onset.medianFactor', o.onset.medianFactor, 0, 100);
  num('onset.margin', o.onset.margin, 0, 1);
  num('onset.refractoryS', o.onset.refractoryS, 0, 5);
  num('tempo.minBpm', o.tempo.minBpm, 20, 400);
  num('tempo.maxBpm', o.tempo.maxBpm, o.tempo.minBpm + 1, 600);
  num('tempo.preferredBpm', o.tempo.preferredBpm, o.tempo.minBpm, o.tempo.maxBpm);
  // The window must hold at least two periods of the slowest tempo for the autocorrelation to see it.
  const minWindow = (2 * 60) / o.tempo.minBpm;
  num('tempo.windowS', o.tempo.windowS, minWindow, 60);
  num('tempo.minHistoryS', o.tempo.minHistoryS, minWindow, o.tempo.windowS);
  num('tempo.updateHops', o.tempo.updateHops, 1, 1000, true);
  return o;
}
