/**
 * The parts of Meyda 5.6.3 that rhodops uses, behind a small typed surface.
 *
 * Why not `import Meyda from 'meyda'`: the package is CommonJS whose bundled types say `export default`,
 * so under NodeNext the types and the runtime disagree about where the object is. We load it with
 * require and describe only what we call.
 *
 * Why not `Meyda.extract` per hop: Meyda is one global object whose `bufferSize`/`sampleRate` and cached
 * filter banks are shared by every caller (and its chroma bank goes stale when `bufferSize` changes), and
 * `extract` re-windows, re-transforms and allocates arrays each call. Instead each extractor builds its
 * own bark scale and chroma bank once, through `extract` called on a private copy of the Meyda object
 * (so the global is never touched), and then calls Meyda's pure per-feature functions on the magnitude
 * spectrum it computes itself into reused buffers.
 */
import { createRequire } from 'node:module';

/** Meyda's chroma filter bank: one row of weights over the FFT bins per chroma band. */
export type ChromaFilterBank = readonly (readonly number[])[];

interface MeydaFeatureFunctions {
  rms(args: { signal: Float32Array }): number;
  spectralCentroid(args: { ampSpectrum: Float32Array }): number;
  loudness(args: { ampSpectrum: Float32Array; barkScale: Float32Array }): { specific: Float32Array; total: number };
  chroma(args: { ampSpectrum: Float32Array; chromaFilterBank: ChromaFilterBank }): number[];
}

/** The fields of the Meyda object that `extract` reads and the caches it fills in. */
interface MeydaObject {
  bufferSize: number;
  sampleRate: number;
  chromaBands: number;
  windowingFunction: string;
  featureExtractors: MeydaFeatureFunctions;
  windowing(signal: Float32Array, name: string): ArrayLike<number>;
  extract(feature: string | string[], signal: Float32Array): unknown;
  barkScale?: Float32Array | undefined;
  chromaFilterBank?: ChromaFilterBank | undefined;
  melFilterBank?: unknown;
}

const meyda = createRequire(import.meta.url)('meyda') as MeydaObject;

/** Meyda's pure feature functions (rms, spectralCentroid, loudness, chroma). */
export const meydaFeatures: MeydaFeatureFunctions = meyda.featureExtractors;

export interface MeydaTables {
  /** Meyda's Hann window for this size (its own formula, so our spectrum equals its `amplitudeSpectrum`). */
  window: Float32Array;
  /** Bark value of each FFT bin, for `loudness`. */
  barkScale: Float32Array;
  /** 12 × (size/2 + 1) weights, for `chroma`. */
  chromaFilterBank: ChromaFilterBank;
}

/** Builds the tables for one window size and sample rate without touching Meyda's shared state. */
export function meydaTables(size: number, sampleRate: number): MeydaTables {
  const ctx: MeydaObject = {
    ...meyda,
    bufferSize: size,
    sampleRate,
    chromaBands: 12,
    barkScale: undefined,
    chromaFilterBank: undefined,
    melFilterBank: undefined,
  };
  // One extract on the private copy makes Meyda compute its bark scale and chroma bank for this size and rate.
  meyda.extract.call(ctx, ['rms'], new Float32Array(size));
  if (!ctx.barkScale || !ctx.chromaFilterBank) throw new Error('meyda: extract did not build its bark scale and chroma bank');
  const window = Float32Array.from(meyda.windowing(new Float32Array(size).fill(1), 'hanning'));
  return { window, barkScale: ctx.barkScale, chromaFilterBank: ctx.chromaFilterBank };
}

/** Meyda's own `extract` for reference checks in tests (on a private copy, with its own caches). */
export function meydaExtract(features: string[], signal: Float32Array, sampleRate: number): Record<string, unknown> {
  const ctx: MeydaObject = { ...meyda, bufferSize: signal.length, sampleRate, barkScale: undefined, chromaFilterBank: undefined, melFilterBank: undefined };
  return meyda.extract.call(ctx, features, signal) as Record<string, unknown>;
}
